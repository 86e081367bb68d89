"""``agentopia viz`` passes SIGTERM on to its server, so no server outlives it on its port."""

import os
import signal
import subprocess
import sys
import time

SERVER = "import os, time; print(os.getpid(), flush=True); time.sleep(120)"
VIZ = (f"import sys; from agentopia_mesa.cli.viz import run_until_stopped; "
       f"sys.exit(run_until_stopped([sys.executable, '-c', {SERVER!r}], None))")


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_to_viz_stops_its_server():
    viz = subprocess.Popen([sys.executable, "-c", VIZ], stdout=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        server = int(viz.stdout.readline())
        time.sleep(0.3)  # let the parent install its handler
        viz.send_signal(signal.SIGTERM)
        assert viz.wait(timeout=20) == 128 + signal.SIGTERM  # as a shell reports the server's end
        assert _gone(server, 5), "the server outlived agentopia viz"
    finally:
        viz.kill()
