"""From lives to training data: RFT chat datasets (Agentopia §7) and matched-state preference pairs.

```python
from agentopia_mesa.datasets import export_sft

stats = export_sft(["runs/apartment-seed0"], "data/sft.jsonl")   # top 25 % per year
```

``agentopia dataset sft RUN_DIR... --out FILE`` and ``agentopia dataset dpo RUN_DIR --out FILE``
do the same from the command line (``agentopia_mesa.cli.dataset``). The package is named after what it
makes; it imports nothing from Hugging Face's ``datasets``, which only loads its output.
"""

from importlib import import_module

_EXPORTS = {
    "export_sft": "sft", "SFTStats": "sft",
    "export_dpo": "dpo", "DPOStats": "dpo",
    "advantages_by_year": "selection", "select_agent_years": "selection", "trainable": "selection",
    "open_run": "sources", "open_runs": "sources", "RunSource": "sources",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
