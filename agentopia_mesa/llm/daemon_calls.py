"""Run blocking calls on daemon threads that are reused from one call to the next.

A call to an LLM server may hang for longer than anyone waits for it, so the dispatcher and the
HTTP transport (``http_limits``) run each call on a daemon thread: unlike a ThreadPoolExecutor's
workers, which the interpreter waits for at exit, a hung call cannot keep the process alive after
the run has given up on it. Starting a thread per call costs CPU on every call, though, and a run
makes tens of thousands of calls; so a thread whose call has ended waits up to ``idle_s`` for the
next one instead of exiting. A call that finds no idle thread gets a new one, so a hung call never
delays another.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future


class DaemonCalls:
    """Daemon threads that run ``submit``'s calls, started when every thread is busy and ended
    after ``idle_s`` seconds without a call (thread-safe)."""

    def __init__(self, name: str, idle_s: float = 60.0):
        self.name = name
        self.idle_s = idle_s
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a call that no submitted call has claimed yet

    def submit(self, fn: Callable, *args) -> Future:
        """Run ``fn(*args)`` on a daemon thread; its future holds the result or the exception."""
        future: Future = Future()
        with self._lock:
            if self._idle:
                self._idle -= 1  # claimed: an idle thread will take this call
            else:
                threading.Thread(target=self._serve, name=self.name, daemon=True).start()
        self._calls.put((future, fn, args))
        return future

    def _serve(self) -> None:
        while True:
            try:
                future, fn, args = self._calls.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    # More threads wait than calls were claimed: this one may go. Otherwise a call
                    # claimed a waiting thread just now and is about to be put: stay for it.
                    if self._idle:
                        self._idle -= 1
                        return
                continue
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                    future.set_exception(exc)
            del future, fn, args  # hold nothing of the call while idle
            with self._lock:
                self._idle += 1
