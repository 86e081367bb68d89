"""The environment data mixed into the role-play data (Agentopia §7, released ``build_rft_data.py``).

The paper's RFT data also teaches the model to be the environment: every non-rejected environment
call is a candidate. First only ``PRE_CUT`` (10 %) of the calls of the two largest tasks are kept
(the paper's ``joint_activity`` and ``solo_activity``, ours ``PRE_CUT_TASKS``: a conversation's turn
and a solo slot's outcome), drawn at random; then the rest is sampled up to a budget of 20 % of the
selected role-play samples' output tokens. The smaller tasks are taken whole first; the largest
ones are randomly subsampled to fill what is left. Both draws use a seeded RNG (the paper's seed 42).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

#: The paper's budget: environment output tokens as a share of the role-play output tokens.
ENV_MIX = 0.2
#: The paper's seed for the subsampling.
MIX_SEED = 42
#: The share of the two largest tasks' calls kept before the budget (the paper's 10 %), and those
#: tasks: the paper's ``joint_activity`` (its world model, called every turn) and ``solo_activity``.
PRE_CUT = 0.1
PRE_CUT_TASKS = ("turn", "solo")


@dataclass(frozen=True)
class EnvCall:
    """One candidate environment call: where it is (``source``: the run's index, ``line``: its
    index in ``decisions.jsonl``), its ``task`` and its output ``tokens``."""

    source: int
    line: int
    task: str
    tokens: int


def output_tokens(entry: dict) -> int:
    """A call's output tokens as the model counted them, or about one per four characters of the
    answer when it did not (at least 1, so no call is free)."""
    return int(entry.get("completion_tokens") or 0) or max(1, len(entry.get("response") or "") // 4)


def pre_cut(candidates: list[EnvCall], seed: int = MIX_SEED, share: float = PRE_CUT,
            tasks: tuple[str, ...] = PRE_CUT_TASKS) -> list[EnvCall]:
    """``candidates`` with only ``share`` of the calls of each of ``tasks`` (rounded, at least one of
    a task that has any), drawn with ``random.Random(seed)``; in the candidates' order."""
    rng = random.Random(seed)
    dropped: set[tuple[int, int]] = set()
    for task in tasks:
        calls = [c for c in candidates if c.task == task]
        if not calls:
            continue
        kept = {(c.source, c.line) for c in rng.sample(calls, max(1, round(share * len(calls))))}
        dropped |= {(c.source, c.line) for c in calls} - kept
    return [c for c in candidates if (c.source, c.line) not in dropped]


def choose_environment(candidates: list[EnvCall], budget: int, seed: int = MIX_SEED) -> tuple[list[EnvCall], list[str]]:
    """The calls mixed in, within ``budget`` output tokens, and the tasks that were subsampled
    (those pre-cut first).

    First the ``pre_cut`` of the two largest tasks; then tasks in ascending order of their output tokens (ties by name) are taken whole while they fit;
    the first that does not fit and every larger one are pooled, shuffled with ``random.Random(seed)``
    and taken call by call while the budget allows. Returned in the candidates' order.
    """
    kept = pre_cut(candidates, seed)
    by_task: dict[str, list[EnvCall]] = defaultdict(list)
    for call in kept:
        by_task[call.task].append(call)
    cut = [t for t in PRE_CUT_TASKS if len(by_task.get(t, ())) < sum(c.task == t for c in candidates)]
    order = sorted(by_task, key=lambda task: (sum(c.tokens for c in by_task[task]), task))
    chosen: list[EnvCall] = []
    left = budget
    for i, task in enumerate(order):
        total = sum(c.tokens for c in by_task[task])
        if total <= left:
            chosen += by_task[task]
            left -= total
            continue
        pool = [c for t in order[i:] for c in by_task[t]]
        random.Random(seed).shuffle(pool)
        for call in pool:
            if call.tokens <= left:
                chosen.append(call)
                left -= call.tokens
        subsampled = order[i:]
        break
    else:
        subsampled = []
    return sorted(chosen, key=lambda c: (c.source, c.line)), [*cut, *(t for t in subsampled if t not in cut)]
