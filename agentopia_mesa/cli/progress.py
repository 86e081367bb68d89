"""Progress inside a week: an LLM week can take minutes, so the progress bar also shows the stage
being decided, its calls done and pending, and the tokens per second so far.

Data flows one way: the dispatcher calls a plain callable with a ``Progress``; only this module
knows the bar.
"""

from __future__ import annotations

import time

from agentopia_mesa.llm.dispatcher import Progress

#: Redraw the bar at most this often (a fake or cached run finishes hundreds of calls a second).
REDRAW_S = 0.5


def week_progress_note(progress: Progress, week: int) -> str:
    """One line for the bar: "W3 plan: 2/8 calls done, 6 pending, 14.2 tokens/s, 35 s"."""
    return (f"W{week} {progress.stage}: {progress.done}/{progress.total} calls done, {progress.pending} pending, "
            f"{progress.tokens_per_s:.1f} tokens/s, {progress.elapsed_s:.0f} s")


def show_llm_progress(model, bar) -> None:
    """Make every LLM mind's dispatcher, and an LLM environment's, report to ``bar`` (a tqdm bar)
    while a week runs (the environment's stages read "env-solo", "env-outcome", ...)."""
    if getattr(bar, "disable", False):
        return
    from agentopia_mesa.environment.llm_environment import llm_environment
    from agentopia_mesa.minds.assign import llm_minds

    last = [0.0]

    def report(progress: Progress) -> None:
        now = time.monotonic()
        redraw = now - last[0] >= REDRAW_S
        if redraw:
            last[0] = now
        bar.set_postfix_str(week_progress_note(progress, model.weeks_done + 1), refresh=redraw)

    for mind in [*llm_minds(model), *filter(None, [llm_environment(model)])]:
        if mind.dispatcher is not None:
            mind.dispatcher.on_progress = report
