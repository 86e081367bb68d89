"""A town's real calls answered by a server simulated in virtual time (llm/serving_model.py).

Design: the town runs for real, with its own threads, dispatcher, barriers and chains;
``VirtualServer.chat`` gets the answer at once from another client (the fake backend), queues the
request in the ``ServingModel`` with its prompt's tokens and the answer's length, and blocks until
the model has finished it. One scheduler thread advances the model, and so virtual time, only when
nothing else can happen: every town is waiting in a dispatcher run for an answer still to come
and every job under way is waiting in ``chat``. Then every request that could have been sent by now has been, and the model
steps until a request ends; its caller wakes, parses, perhaps sends the next call of its chain or
returns to the town, and the clock stands still until everything waits again. The dependencies are
therefore the town's own (a conversation's turns, a tool round before the answer, a stage's
barrier, calls started ahead), and the simulation's CPU time costs no virtual time (it is about
0.5 ms a call, benchmarks/RESULTS.md).

We chose this over recording each stage's calls and simulating afterwards: a record would have to
restate which call waits for which (chains inside a job, calls started ahead, conversations), and
that is exactly what the town already knows.

Bookkeeping (``VirtualDispatcher`` reports to the server): a town counts as waiting while a
dispatcher run of its waits for an answer still to come; a job counts from when it is started
(``run`` or ``ahead``) until its future is done, and as waiting while its call is in ``chat``. Calls
that arrive at the same virtual time are served in the order their town sent them (``Dispatcher``
sends every other run in reverse), then of their tags, so a run's virtual times do not depend on
the threads' race. The dispatcher's own bound on calls in flight
is not modelled: give it more than any stage asks at once (``VirtualDispatcher`` does), the
server's ``max_seqs`` is the bound that matters.
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.request
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence

from agentopia_mesa.llm.client import ChatRequest, ChatResult, LLMClient
from agentopia_mesa.llm.dispatcher import Dispatcher, job_parts
from agentopia_mesa.llm.serving_model import ServingModel


class WordTokenizer:
    """One token a word (its id from the word, so equal texts give equal ids): for tests and
    machines without the embedded model. Gemma's tokenizer gives about 1.75 tokens a word of our
    prompts (benchmarks/README.md)."""

    name = "words"

    def encode(self, text: str) -> list[int]:
        return [hash(word) & 0xFFFFFF for word in text.split()]


class GemmaTokenizer:
    """Gemma 3's tokenizer, from the embedded GGUF (llama.cpp's ``/tokenize`` of the embedded
    backend's server; no download). The last ``remember`` texts seen are not sent again."""

    name = "gemma3"

    def __init__(self, remember: int = 200_000):
        from agentopia_mesa.llm.embedded_backend import EmbeddedBackend

        self._address = EmbeddedBackend(n_ctx=512).server.listening_address.rstrip("/")
        self.remember = remember
        self._seen: OrderedDict[str, array] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, text: str) -> array:
        with self._lock:
            if text in self._seen:
                self._seen.move_to_end(text)
                return self._seen[text]
        body = json.dumps({"content": text, "add_special": False}).encode()
        request = urllib.request.Request(f"{self._address}/tokenize", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            ids = array("i", json.loads(response.read())["tokens"])  # 4 bytes a token in the memo
        with self._lock:
            self._seen[text] = ids
            if len(self._seen) > self.remember:
                self._seen.popitem(last=False)
        return ids


def prompt_ids(request: ChatRequest, encode: Callable[[str], Sequence[int]], tools_after_system: bool = False) -> list[int]:
    """The prompt as a chat template lays it out: the tools offered (as JSON), then each message as
    a role header, its text and an end marker (Gemma's ``<start_of_turn>role ... <end_of_turn>``);
    encoded message by message, which the template's special tokens make the same as encoding the
    whole. Where the tools go decides what a call offering them shares with one that does not:
    before everything (``tools_after_system`` False: as Llama 3.1's template, whose system header
    itself changes when tools are offered), or at the end of the system message (True: as Qwen2.5's
    template, and our own tool note for models without tools, llm/json_tools.py)."""
    ids = [2]  # <bos>
    tools = encode(json.dumps(list(request.tools))) if request.tools else []
    after = tools_after_system and request.messages and request.messages[0]["role"] == "system"
    if not after:
        ids += tools
    for i, message in enumerate(request.messages):
        ids += [105, *encode(message["role"] + "\n"), *encode(_content(message))]
        if after and i == 0:
            ids += tools
        ids += [106, 107]
    return ids + [105, *encode("model\n")]


def _content(message: dict) -> str:
    calls = message.get("tool_calls")
    return message["content"] + (json.dumps(calls) if calls else "")


def answer_text(result: ChatResult) -> str:
    """What the model wrote: the text, or its tool calls as JSON (llm/json_tools.py's form)."""
    if result.tool_calls:
        return json.dumps([{"tool": c.name, "arguments": c.arguments} for c in result.tool_calls])
    return result.text


class VirtualServer:
    """An ``LLMClient`` whose answers come from ``answers`` and whose timing comes from ``model``
    (module docstring; kept as ``serving``: ``model`` is the answering model's name, which minds read
    for its tokens per word). ``tokenizer`` counts prompt and answer tokens; an answer's tokens are capped
    at the request's ``max_tokens``, as a server stops there. ``at_budget``: every answer runs to
    its ``max_tokens`` instead (an upper bound on decoding, whatever ``answers`` wrote).
    ``tools_after_system``: the template's place for the tools (``prompt_ids``)."""

    backend = "virtual"

    def __init__(self, answers: LLMClient, model: ServingModel, tokenizer=None, at_budget: bool = False,
                 tools_after_system: bool = False):
        self.answers = answers
        self.at_budget = at_budget
        self.tools_after_system = tools_after_system  # where the template puts the tools (``prompt_ids``)
        self.serving = model
        self.model = getattr(answers, "model", "")  # the answering model's name, as every client has
        self.name = f"{self.backend}:{self.model or 'answers'}"
        self.tokenizer = tokenizer or WordTokenizer()
        self.requests = []  # every request the model has served, in order of submission
        self._cond = threading.Condition()
        self._towns = 0  # towns not ended
        self._blocked: dict[int, list] = {}  # town thread -> the futures of the run it waits for
        self._jobs: set = set()  # the futures of the dispatcher jobs under way
        self._waiting = 0  # calls waiting in ``chat`` for the model
        self.failed: BaseException | None = None

    def check(self) -> None:
        """Available while the answers' client is."""
        self.answers.check()

    def chat(self, request: ChatRequest, sent: int = 0) -> ChatResult:
        """``request``'s answer once the model has served it; ``sent``: its place in its town's order
        of sending (``VirtualDispatcher``), which orders the requests that arrive at the same time."""
        result = self.answers.chat(request)
        ids = prompt_ids(request, self.tokenizer.encode, self.tools_after_system)
        budget = request.options.max_tokens
        completion = budget if self.at_budget else min(len(self.tokenizer.encode(answer_text(result))) + 1, budget)
        with self._cond:
            served = self.serving.submit(ids, completion, request.tag)
            served.sent = sent
            self.requests.append(served)
            self._waiting += 1
            self._cond.notify_all()
            while served.finished is None:
                if self.failed is not None:
                    raise RuntimeError(f"the serving model stopped: {self.failed}")
                self._cond.wait()
        return ChatResult(text=result.text, prompt_tokens=len(ids), completion_tokens=completion,
                          latency_s=served.finished - served.arrived, model=result.model, backend=self.backend,
                          tool_calls=result.tool_calls)

    # Bookkeeping, from the towns' threads and ``VirtualDispatcher`` (module docstring).

    def town_started(self) -> None:
        with self._cond:
            self._towns += 1

    def town_ended(self) -> None:
        with self._cond:
            self._towns -= 1
            self._cond.notify_all()

    def track(self, futures) -> None:
        """Count ``futures`` (dispatcher jobs) as under way until each is done."""
        with self._cond:
            for future in futures:
                if future not in self._jobs and not future.done():
                    self._jobs.add(future)
                    future.add_done_callback(self._job_done)

    def _job_done(self, future) -> None:
        with self._cond:
            self._jobs.discard(future)
            self._cond.notify_all()

    def outcomes(self, futures) -> list:
        """The results of ``futures``, the calling town counting as waiting meanwhile."""
        town = threading.get_ident()
        with self._cond:
            self._blocked[town] = futures
            self._cond.notify_all()
        try:
            return [f.result() for f in futures]
        finally:
            with self._cond:
                del self._blocked[town]

    def _quiet(self) -> bool:
        """Nothing can happen before the clock moves: every town waits for an answer still to come
        (a town whose answers are all in is about to go on), and every job under way waits in
        ``chat``."""
        blocked = sum(1 for futures in self._blocked.values() if not all(f.done() for f in futures))
        return blocked == self._towns and self._waiting == len(self._jobs) and self._waiting > 0

    def serve(self) -> None:
        """The scheduler (run it on its own thread): advance the model whenever everything waits
        for it, until every town has ended."""
        with self._cond:
            while True:
                self._cond.wait_for(lambda: self._quiet() or self._towns == 0)
                if self._towns == 0:
                    return
                # Calls that arrived at the same virtual time in the order their towns sent them
                # (then of their tags: towns side by side), not of the threads' race: the same
                # town, the same virtual times.
                self.serving.waiting.sort(key=lambda r: (r.arrived, r.sent, r.tag))
                try:
                    finished = self.serving.advance()
                except BaseException as exc:  # a request that can never run: wake everyone with it
                    self.failed = exc
                    self._cond.notify_all()
                    raise
                self._waiting -= len(finished)
                self._cond.notify_all()


#: The place in its town's order of sending of the job a thread runs (``VirtualDispatcher``).
_SENDING = threading.local()


class _Sent:
    """``server`` as a client for one job: its calls carry the job's place in the order of sending."""

    def __init__(self, server: VirtualServer, sent: int):
        self.server, self.sent, self.name = server, sent, server.name

    def chat(self, request: ChatRequest) -> ChatResult:
        return self.server.chat(request, self.sent)


class VirtualDispatcher(Dispatcher):
    """A dispatcher that tells ``server`` when its town waits and which jobs are under way, with
    no real timeout and no bound of its own on calls in flight (module docstring)."""

    def __init__(self, server: VirtualServer, **options):
        super().__init__(**{"max_concurrency": 100_000, "timeout_s": 1e9, **options})
        self.server = server
        self._sent = itertools.count()
        self.runs: list[tuple[str, float, float]] = []  # (stage, virtual start, virtual end) of each run

    def _submit(self, pool, job):
        """Start ``job`` with its place in the order of sending (taken on the town's thread, so it
        does not depend on the threads' race)."""
        return pool.submit(self._run_sent, next(self._sent), job_parts(job))

    def _run_sent(self, sent: int, parts):
        _SENDING.sent = sent
        return self._run_job(*parts)

    def _call(self, client, request):
        if client is self.server:  # the order of sending travels with the call
            client = _Sent(self.server, getattr(_SENDING, "sent", 0))
        return super()._call(client, request)

    def run(self, jobs):
        start = self.server.serving.now
        outcomes = super().run(jobs)
        if jobs:
            self.runs.append(((jobs[0][1].tag or "calls").split("/", 1)[0], start, self.server.serving.now))
        return outcomes

    def _outcomes(self, futures):
        self.server.track(futures)
        return self.server.outcomes(futures)

    def ahead(self, jobs):
        started = super().ahead(jobs)
        with self._lock:
            futures = [self._ahead[tag][2] for tag in started.tags if tag in self._ahead]
        self.server.track(futures)
        return started


def run_towns(server: VirtualServer, towns: list) -> None:
    """Run ``towns`` (objects with ``run()``: each a model whose minds ask ``server`` through a
    ``VirtualDispatcher``) side by side against ``server`` until all have ended."""
    errors: list[BaseException] = []

    def one(town) -> None:
        try:
            town.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others end
            errors.append(exc)
        finally:
            server.town_ended()

    for _ in towns:
        server.town_started()
    scheduler = threading.Thread(target=server.serve, name="serving-model", daemon=True)
    scheduler.start()
    threads = [threading.Thread(target=one, args=(town,), name="town") for town in towns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scheduler.join()
    if errors:
        raise errors[0]
