"""Runs never lose work: checkpoints, kill -9 and resume, branches, corrupt checkpoints."""

import argparse
import errno
import hashlib
import json
import os
import pickle
import random
import re
import secrets
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from agentopia_mesa.run import checkpoints as ckpt
from agentopia_mesa.run.checkpoints import (
    MAGIC, MAGIC_V1, SECRET_ENV, TRUST_V1_ENV, CheckpointError, CheckpointNotTrusted, checkpoint_path, keep_arg,
    list_checkpoints, load_latest, no_checkpoint_message, parse_keep, prune_checkpoints, read_checkpoint,
    save_checkpoint, secret_key, secret_path, truncate_streams,
)
from agentopia_mesa.cli.main import main
from agentopia_mesa.town.economy import Offer

RUN = ["run", "--world", "rivertown", "--residents", "25", "--years", "3", "--quiet", "--checkpoint-every", "1"]


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "agentopia_mesa", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _weeks_checkpointed(run_dir: Path) -> int:
    names = [p.name for p in list_checkpoints(run_dir)]
    return int(names[-1][5:10]) if names else 0


def _kill_at_week(run_dir: Path, args: list[str], week: int, sig=signal.SIGKILL) -> subprocess.Popen:
    proc = _cli(*args)
    deadline = time.monotonic() + 120
    while _weeks_checkpointed(run_dir) < week and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    return proc


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    assert main([*RUN, "--seed", "11", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kill_seed", [1, 2, 3])
def test_kill_9_then_resume_gives_identical_results(tmp_path, uninterrupted, kill_seed):
    out = tmp_path / "run"
    week = random.Random(kill_seed).randint(2, 25)
    proc = _kill_at_week(out, [*RUN, "--seed", "11", "--out", str(out)], week)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert not (out / "summary.txt").exists()
    assert main(["resume", str(out), "--quiet"]) == 0
    for name in ("metrics.csv", "residents.csv", "rewards.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(uninterrupted / name), check_exact=True)
    replay = (out / "replay.jsonl").read_text().splitlines()
    assert replay == (uninterrupted / "replay.jsonl").read_text().splitlines()


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_resumes(tmp_path, uninterrupted):
    out = tmp_path / "run"
    proc = _kill_at_week(out, [*RUN, "--seed", "11", "--out", str(out)], 5, sig=signal.SIGTERM)
    assert proc.returncode == 143
    assert "agentopia resume" in proc.stderr.read()
    assert main(["resume", str(out), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "metrics.csv"), pd.read_csv(uninterrupted / "metrics.csv"))


def test_corrupt_latest_checkpoint_falls_back_to_the_previous(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "8", "--years", "1", "--seed", "3", "--out", str(out), "--quiet", "--checkpoint-every", "1"]) == 0
    checkpoints = list_checkpoints(out)
    assert len(checkpoints) == 3  # the newest three are kept
    newest = checkpoints[-1]
    newest.write_bytes(newest.read_bytes()[: len(MAGIC) + 100])  # truncated
    with pytest.warns(UserWarning, match="skipping checkpoint"):
        model, path = load_latest(out)
    assert path == checkpoints[-2]
    assert model.weeks_done == 9


def test_branch_forks_a_run_and_changes_its_future(tmp_path):
    base = tmp_path / "base"
    assert main(["run", "--world", "school", "--residents", "12", "--years", "1", "--seed", "3", "--out", str(base), "--quiet",
                 "--checkpoint-every", "1"]) == 0
    same, other = tmp_path / "same", tmp_path / "other"
    # keep every checkpoint: branch from week 8, which is among the newest three
    assert main(["branch", str(base), "--week", "8", "--out", str(same), "--quiet"]) == 0
    assert main(["branch", str(base), "--week", "8", "--out", str(other), "--seed", "99", "--quiet"]) == 0
    base_m = pd.read_csv(base / "metrics.csv")
    pd.testing.assert_frame_equal(pd.read_csv(same / "metrics.csv"), base_m)
    other_m = pd.read_csv(other / "metrics.csv")
    pd.testing.assert_frame_equal(other_m.iloc[:9], base_m.iloc[:9])
    assert not other_m.iloc[9:].equals(base_m.iloc[9:])
    assert main(["branch", str(base), "--week", "2", "--out", str(tmp_path / "x"), "--quiet"]) == 2


LLM_RUN = ["run", "--world", "school", "--residents", "6", "--years", "2", "--weeks-per-year", "5", "--quiet",
           "--mind", "llm", "--llm", "fake", "--seed", "4"]


def _decisions(run_dir: Path) -> list[dict]:
    import json

    lines = (run_dir / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    # A decision re-made after the resume may come from the cache the killed run filled: same answer, cached=True.
    return [{k: v for k, v in json.loads(line).items() if k not in ("cached", "run")} for line in lines]


@pytest.mark.slow
@pytest.mark.parametrize("kill_seed", [1, 2])
def test_kill_9_an_llm_run_then_resume_gives_identical_results_and_trajectories(tmp_path, kill_seed):
    whole = tmp_path / "whole"
    assert main([*LLM_RUN, "--out", str(whole)]) == 0
    out = tmp_path / "run"
    week = random.Random(kill_seed).randint(2, 8)
    proc = _kill_at_week(out, [*LLM_RUN, "--out", str(out)], week)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert main(["resume", str(out), "--quiet"]) == 0
    for name in ("metrics.csv", "residents.csv", "rewards.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(whole / name), check_exact=True)
    assert _decisions(out) == _decisions(whole)
    assert (out / "replay.jsonl").read_text() == (whole / "replay.jsonl").read_text()


def test_checkpoints_kept_per_year_plus_the_newest_and_branch_names_the_weeks(tmp_path, capsys):
    import json

    common = ["run", "--world", "school", "--residents", "6", "--years", "3", "--weeks-per-year", "3", "--quiet",
              "--checkpoint-every", "1"]
    base = tmp_path / "base"
    assert main([*common, "--out", str(base)]) == 0
    weeks = [int(p.name[5:10]) for p in list_checkpoints(base)]
    assert weeks == [3, 6, 7, 8, 9]  # each year end, and the newest three
    assert "keep_checkpoints" not in json.loads((base / "config.json").read_text())  # the default is not recorded
    assert main(["branch", str(base), "--week", "3", "--out", str(tmp_path / "year1"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["branch", str(base), "--week", "4", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "weeks that can be branched: 3, 6, 7, 8, 9" in capsys.readouterr().err
    every = tmp_path / "every"
    assert main([*common, "--keep-checkpoints", "all", "--out", str(every)]) == 0
    assert len(list_checkpoints(every)) == 9
    assert json.loads((every / "config.json").read_text())["keep_checkpoints"] == 0
    newest = tmp_path / "newest"
    assert main([*common, "--keep-checkpoints", "1", "--out", str(newest)]) == 0
    assert [int(p.name[5:10]) for p in list_checkpoints(newest)] == [3, 6, 9]
    with pytest.raises(SystemExit) as stop:
        main([*common, "--keep-checkpoints", "0", "--out", str(tmp_path / "bad")])
    assert stop.value.code == 2 and "or 'all'" in capsys.readouterr().err


# -- the checkpoint file itself, on a stand-in model -------------------------------------------

def stand_in(week: int, note: str = "") -> SimpleNamespace:
    """What save_checkpoint needs of a model (weeks done, a grid), and nothing else."""
    return SimpleNamespace(weeks_done=week, grid=SimpleNamespace(all_cells=[]), note=note)


def test_the_key_lives_outside_every_run_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(SECRET_ENV, "~/keys/ckpt.key")
    assert secret_path() == tmp_path / "home" / "keys" / "ckpt.key"
    monkeypatch.delenv(SECRET_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert secret_path() == tmp_path / "xdg" / "agentopia" / "checkpoint.key"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert secret_path() == tmp_path / "home" / ".config" / "agentopia" / "checkpoint.key"


def test_a_missing_key_is_made_private_once_and_a_short_one_is_refused(monkeypatch, tmp_path):
    path = tmp_path / "a" / "b" / "checkpoint.key"
    monkeypatch.setenv(SECRET_ENV, str(path))
    key = secret_key()
    assert path.read_bytes() == key + b"\n" and len(bytes.fromhex(key.decode())) == 32  # 32 random bytes, in hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secret_key() == key  # made once, then read
    path.write_bytes(b"x" * 31 + b"\n")
    with pytest.raises(CheckpointError, match=f"^{re.escape(str(path))}: the checkpoint key is too short; remove it"):
        secret_key()
    path.write_bytes(b"x" * 32 + b"\n")
    assert secret_key() == b"x" * 32  # 32 characters are enough


def test_a_key_made_by_two_processes_at_once_is_never_read_half_written(monkeypatch, tmp_path):
    """Another process asks for the key while this one is still writing it (here: from inside
    the write, as the random bytes are drawn); both must come away with one and the same full key."""
    monkeypatch.setenv(SECRET_ENV, str(tmp_path / "checkpoint.key"))
    real_token_hex, other, started = secrets.token_hex, [], []

    def draw_while_another_process_reads(n):
        if not started:
            started.append(True)
            other.append(secret_key())
        return real_token_hex(n)

    monkeypatch.setattr(secrets, "token_hex", draw_while_another_process_reads)
    key = secret_key()
    assert other == [key] and len(key) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.key"]  # no temporary file left


def test_a_checkpoint_round_trips_and_is_written_where_its_week_says(tmp_path):
    run = tmp_path / "new" / "run"  # folders are made as needed
    path = save_checkpoint(stand_in(7, "hello"), run)
    assert path == checkpoint_path(run, 7) == run / "checkpoints" / "week-00007.ckpt"
    assert read_checkpoint(path).note == "hello"
    assert [p.name for p in run.joinpath("checkpoints").iterdir()] == ["week-00007.ckpt"]  # no temporary left


def test_a_payload_swapped_under_a_genuine_mac_is_refused(tmp_path):
    # The MAC must cover the payload: another pickle with a correct sha256 but the original MAC
    # is a forgery, and is never unpickled.
    path = save_checkpoint(stand_in(1), tmp_path)
    data = path.read_bytes()
    mac = data[len(MAGIC) + 32: len(MAGIC) + 64]
    payload = pickle.dumps(stand_in(1, "forged"))
    path.write_bytes(MAGIC + hashlib.sha256(payload).digest() + mac + payload)
    with pytest.raises(CheckpointNotTrusted, match="was not written by this user/machine"):
        read_checkpoint(path)


def test_corrupt_and_foreign_files_say_what_is_wrong(tmp_path):
    path = save_checkpoint(stand_in(1), tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-5])
    with pytest.raises(CheckpointError, match=f"^{re.escape(str(path))}: contents do not match their hash .truncated or corrupt.$"):
        read_checkpoint(path)
    path.write_bytes(b"PK\x03\x04" + bytes(200))  # some other file
    with pytest.raises(CheckpointError, match=f"^{re.escape(str(path))}: not a checkpoint or truncated$"):
        read_checkpoint(path)
    path.write_bytes(MAGIC + bytes(20))
    with pytest.raises(CheckpointError, match="not a checkpoint or truncated$"):
        read_checkpoint(path)


def test_first_format_checkpoints_load_only_when_trusted(monkeypatch, tmp_path):
    payload = pickle.dumps(stand_in(2, "old"))
    path = tmp_path / "week-00002.ckpt"
    path.write_bytes(MAGIC_V1 + hashlib.sha256(payload).digest() + payload)
    monkeypatch.delenv(TRUST_V1_ENV, raising=False)
    with pytest.raises(CheckpointNotTrusted, match=f"set {TRUST_V1_ENV}=1 once to resume it"):
        read_checkpoint(path)
    monkeypatch.setenv(TRUST_V1_ENV, "1")
    assert read_checkpoint(path).note == "old"
    path.write_bytes(MAGIC_V1 + hashlib.sha256(payload).digest() + payload[:-3])
    with pytest.raises(CheckpointError, match=f"^{re.escape(str(path))}: contents do not match their hash"):
        read_checkpoint(path)


def test_classes_of_moved_modules_still_load(tmp_path):
    # A checkpoint written before the run-architecture move names agentopia_mesa.economy.
    old = pickle.dumps(Offer("tea", "daily", 5), protocol=0).replace(b"agentopia_mesa.town.economy", b"agentopia_mesa.economy")
    assert b"agentopia_mesa.economy\n" in old
    path = tmp_path / "week-00001.ckpt"
    path.write_bytes(MAGIC + hashlib.sha256(old).digest() + ckpt._mac(old) + old)
    assert read_checkpoint(path) == Offer("tea", "daily", 5)


def test_renamed_classes_still_load(tmp_path):
    # The formulas' Environment (environment.outcomes, before that the environment module) is
    # now the RuleEnvironment: a checkpoint naming the old class loads the new one.
    from agentopia_mesa.environment.rules import RuleEnvironment

    new = pickle.dumps(RuleEnvironment, protocol=0)
    for old_module in (b"agentopia_mesa.environment.outcomes", b"agentopia_mesa.environment"):
        old = new.replace(b"agentopia_mesa.environment.rules\nRuleEnvironment", old_module + b"\nEnvironment")
        assert old != new
        path = tmp_path / "week-00001.ckpt"
        path.write_bytes(MAGIC + hashlib.sha256(old).digest() + ckpt._mac(old) + old)
        assert read_checkpoint(path) is RuleEnvironment


def test_load_latest_skips_bad_checkpoints_warning_at_the_callers_line(tmp_path):
    for week in (1, 2, 3):
        save_checkpoint(stand_in(week), tmp_path, keep=0)
    checkpoint_path(tmp_path, 3).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="skipping checkpoint week-00003.ckpt: .*; trying the previous one") as caught:
        model, path = load_latest(tmp_path)
    assert (model.weeks_done, path) == (2, checkpoint_path(tmp_path, 2))
    assert caught[0].filename != ckpt.__file__  # stacklevel: it points at whoever asked to load, not inside
    model, path = load_latest(tmp_path, at_most_week=1)
    assert model.weeks_done == 1


def test_load_latest_says_which_weeks_exist_when_none_fits(tmp_path):
    with pytest.raises(CheckpointError) as nothing:
        load_latest(tmp_path)
    assert str(nothing.value) == f"{tmp_path}: no readable checkpoint; start the run again"
    for week in (3, 4):
        save_checkpoint(stand_in(week), tmp_path)
    with pytest.raises(CheckpointError) as too_early:
        load_latest(tmp_path, at_most_week=2)
    assert str(too_early.value) == (f"{tmp_path}: no readable checkpoint at or before week 2 (checkpoints at weeks 3, 4); "
                                    "start the run again")
    for week in (3, 4):
        checkpoint_path(tmp_path, week).write_bytes(b"garbage")
    with pytest.raises(CheckpointError) as all_bad, pytest.warns(UserWarning):
        load_latest(tmp_path)
    assert str(all_bad.value) == f"{tmp_path}: no readable checkpoint; start the run again"


def test_a_failed_write_names_the_checkpoint_and_leaves_the_older_ones(monkeypatch, tmp_path):
    older = save_checkpoint(stand_in(1), tmp_path)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt.os, "fsync", disk_full)
    with pytest.raises(OSError) as full:
        save_checkpoint(stand_in(2), tmp_path)
    monkeypatch.undo()
    assert full.value.filename == str(checkpoint_path(tmp_path, 2))
    assert list_checkpoints(tmp_path) == [older] and read_checkpoint(older).weeks_done == 1
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["week-00001.ckpt"]


def test_keep_checkpoints_values():
    assert (parse_keep(" All "), parse_keep("4"), parse_keep(2)) == (0, 4, 2)
    for bad in ("0", "-1", "x", "2.5"):
        with pytest.raises(ValueError, match=f"^--keep-checkpoints: a number of newest checkpoints .1 or more. or 'all', got '{bad}'$"):
            parse_keep(bad)
    with pytest.raises(argparse.ArgumentTypeError) as usage:
        keep_arg("x")
    assert str(usage.value) == "a number of newest checkpoints (1 or more) or 'all', got 'x'"  # argparse names the flag


def test_pruning_keeps_the_newest_and_year_ends_and_tolerates_a_file_already_gone(monkeypatch, tmp_path):
    for week in range(1, 8):
        save_checkpoint(stand_in(week), tmp_path, keep=0)
    prune_checkpoints(tmp_path, keep=2, year_weeks=3)
    assert [p.name[5:10] for p in list_checkpoints(tmp_path)] == ["00003", "00006", "00007"]
    held = list_checkpoints(tmp_path)
    monkeypatch.setattr(ckpt, "list_checkpoints", lambda run_dir: [tmp_path / "checkpoints" / "week-00005.ckpt", *held])
    prune_checkpoints(tmp_path, keep=1)  # week 5 was removed meanwhile (another process): no error
    monkeypatch.undo()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["week-00007.ckpt"]


def test_no_checkpoint_message_with_none_held(tmp_path):
    assert no_checkpoint_message(tmp_path, 4) == (
        f"--week: no checkpoint at week 4 in {tmp_path}; weeks that can be branched: none "
        "(a run keeps each year end's checkpoint and its newest 3; run with --keep-checkpoints all to keep every one)")


def test_truncate_streams_cuts_longer_files_only(tmp_path):
    (tmp_path / "long.jsonl").write_text("0123456789")
    (tmp_path / "short.jsonl").write_text("01")
    truncate_streams(tmp_path, {"long.jsonl": 4, "short.jsonl": 4, "missing.jsonl": 3})
    assert (tmp_path / "long.jsonl").read_text() == "0123" and (tmp_path / "short.jsonl").read_text() == "01"
    assert not (tmp_path / "missing.jsonl").exists()


# -- checkpoints written before conversations (issue 13) ---------------------------------------

def _as_before_conversations(model) -> None:
    """``model`` as a checkpoint written before issue 13 held it: no conversation attributes, the
    activity section's fields of the time, records without a summary, and the rule mind's own table
    of bound methods, which knew no entry, exit or public event question."""
    from agentopia_mesa.contract import questions as q

    del model.conversations, model.conversation_stats
    activity = vars(model.config.activity)
    for name in ("min_turns", "max_turns", "reply_words", "entry_analysis", "exit_reflection", "public_words"):
        del activity[name]
    activity["dialogue_rounds"] = 1
    for r in model.residents:
        for record in r.records + r.last_records:
            del vars(record)["summary"]
    rules = model.rule_mind
    vars(rules)["_answer"] = {
        q.PlanQuestion: rules._plan, q.ContactQuestion: rules._contact, q.SignupQuestion: rules._signup,
        q.SoloQuestion: rules._solo, q.PurchaseQuestion: rules._purchase, q.TurnQuestion: rules._turn,
        q.ReviewQuestion: rules._review, q.DiscardQuestion: rules._discard, q.JobWishQuestion: rules._job_wishes,
        q.RatingQuestion: rules._ratings,
    }


@pytest.mark.parametrize("minds", [[], ["--mind", "llm", "--llm", "fake", "--env", "llm"]], ids=["rules", "llm"])
def test_a_checkpoint_from_before_conversations_resumes_and_lives_on(tmp_path, minds):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "12", "--years", "2", "--weeks-per-year", "2", "--seed", "3",
                 "--quiet", *minds, "--out", str(out)]) == 0
    model = read_checkpoint(checkpoint_path(out, 2))
    _as_before_conversations(model)
    model.stream_offsets.pop("dialogues.jsonl", None)  # there was no such file then
    (out / "dialogues.jsonl").unlink(missing_ok=True)
    for later in list_checkpoints(out):
        later.unlink()
    payload = save_checkpoint(model, out).read_bytes()
    assert b"conversation_stats" not in payload and b"public_words" not in payload and b"dialogue_rounds" in payload

    assert main(["resume", str(out), "--quiet"]) == 0
    resumed = read_checkpoint(checkpoint_path(out, 4))
    assert resumed.weeks_done == 4 and resumed.config.activity.min_turns == 5  # the field's default
    kinds = {record.kind for r in resumed.residents for record in r.records + r.last_records}
    assert {"public", "joint"} <= kinds  # weeks 3-4 asked entry, exit and public event questions
    assert sum(resumed.conversation_stats.values()) > 0  # counted from the resumed weeks on
    if minds:
        weeks = [json.loads(line)["week_index"] for line in (out / "dialogues.jsonl").read_text(encoding="utf-8").splitlines()]
        assert weeks and set(weeks) == {2, 3}


def test_a_checkpoint_whose_residents_held_their_minds_resumes_with_the_minds_beside_them(tmp_path):
    """Before the model held the minds (``AgentopiaModel.minds``), each resident held its own:
    such a checkpoint loads with them moved out of the residents, and the week goes on."""
    from agentopia_mesa.model import AgentopiaModel

    model = AgentopiaModel(world="school", residents=4, years=1, seed=2, calendar__weeks_per_year=3)
    model.step()
    for r in model.residents:  # the older form
        r.__dict__["mind"] = model.minds[r.name]
    del model.__dict__["minds"]
    loaded = ckpt.read_checkpoint(ckpt.save_checkpoint(model, tmp_path))
    assert set(loaded.minds) == {r.name for r in loaded.residents}
    assert all(mind is loaded.rule_mind for mind in loaded.minds.values())
    assert not any(hasattr(r, "mind") for r in loaded.residents)
    loaded.step()
    assert loaded.weeks_done == 2
