"""The command line's messages: every help text renders cleanly, no abbreviations, a typo'd
option shows its sub-command's usage, a bad --llm spec lists the valid forms."""

import argparse

import pytest

from agentopia_mesa.cli.main import _parser, main


def _all_parsers(parser, path=("agentopia",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, (*path, name))


def test_every_help_text_renders_without_doubled_percent_signs():
    seen = 0
    for path, parser in _all_parsers(_parser()):
        text = parser.format_help()
        assert "%%" not in text and "%(" not in text, " ".join(path)
        assert parser.allow_abbrev is False, " ".join(path)
        seen += 1
    assert seen >= 15  # run, resume, branch, world ..., dataset ..., sweep, analyze, viz, compare


def test_abbreviated_options_are_rejected(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--year", "3", "--quiet"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --year 3" in err


def test_a_typo_after_run_prints_runs_usage(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--yeers", "3"])
    err = capsys.readouterr().err
    assert err.startswith("usage: agentopia run ") and "agentopia run: error: unrecognized arguments: --yeers" in err
    with pytest.raises(SystemExit):
        main(["world", "check", "x.json", "--strict"])
    assert capsys.readouterr().err.startswith("usage: agentopia world check ")


def test_a_bad_llm_spec_lists_the_valid_forms_in_its_one_line(tmp_path, capsys):
    assert main(["run", "--mind", "llm", "--llm", "olama:qwen3:4b", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Use one of: embedded[:FILE.gguf], ollama:MODEL" in err and "openai:URL:MODEL" in err and "fake" in err


def test_the_progress_bar_and_the_summary_time_the_same_thing(tmp_path, capsys, monkeypatch):
    import re
    import time

    from agentopia_mesa.run import results

    plot = results.overview_figure

    def slow_plot(*args, **kwargs):  # writing results is not simulating: neither time may count it
        time.sleep(1.5)
        return plot(*args, **kwargs)

    monkeypatch.setattr(results, "overview_figure", slow_plot)
    assert main(["run", "--world", "school", "--residents", "4", "--years", "1", "--weeks-per-year", "2",
                 "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    final = [line for line in captured.err.replace("\r", "\n").splitlines() if "2/2 [" in line][-1]
    assert "2/2 [00:00<" in final, final
    wall = float(re.search(r"wall time: ([\d.]+) s", captured.out).group(1))
    assert wall < 1.0
