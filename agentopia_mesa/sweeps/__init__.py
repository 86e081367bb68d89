"""Experiments at scale: resumable parameter sweeps over ``AgentopiaModel``.

```python
from agentopia_mesa.sweeps import load_sweep, run_sweep

outcome = run_sweep(load_sweep("experiments/need_decay.toml"), "runs/need-decay", executor="processes", workers=2)
```

A sweep is a grid (or list) of parameter sets times seeds derived with ``numpy.random.SeedSequence``;
every run writes its own run directory, finished runs are never redone, and runs execute
sequentially, in local processes or on Ray. ``agentopia analyze <sweep dir>`` reports on it.

Names are imported on first use, so ``agentopia_mesa.cli.sweep`` (the argument parser) stays
light for the command line.
"""

from importlib import import_module

_EXPORTS = {
    "Processes": "executors", "Ray": "executors", "Sequential": "executors", "WorkerLost": "executors",
    "make_executor": "executors",
    "SweepConfigError": "params", "model_kwargs": "params", "scaled_living_standards": "params",
    "SweepOutcome": "runner", "run_sweep": "runner",
    "RunPlan": "spec", "SweepSpec": "spec", "derive_seeds": "spec", "load_sweep": "spec", "sweep_from_dict": "spec",
    "RunTask": "worker", "execute_run": "worker",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
