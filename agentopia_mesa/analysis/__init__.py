"""Emergent-behaviour analysis of runs and sweeps (paper §8.1).

``analyze(path)`` writes measures, figures and a Markdown + HTML report for a run or a sweep
directory; the network and mobility measures read what ``agentopia_mesa.run.yearly.YearlyRecorder``
recorded in the run directory. The measure functions themselves (``network``, ``stats``, ``measures``) are pure.

Names are imported on first use, so ``agentopia_mesa.cli.analyze`` (the argument parser) stays
light for the command line.
"""

from importlib import import_module

_EXPORTS = {
    "analyze": "analyzer", "analyse_run": "analyzer", "parameter_effects": "analyzer", "sweep_tables": "analyzer",
    "AnalysisError": "run_data", "load_run": "run_data",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
