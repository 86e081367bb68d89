"""See the town in a real browser: `solara run visualization/app.py`, headless Chromium, click Step.

Needs Debian's chromium + chromium-driver and the `selenium` package (`.ci/install-browser.sh`
installs them, and caches Solara's browser libraries, which it would otherwise fetch from a CDN).
Without them the browser tests skip, except under CI (CI=true), where they fail. Screenshots go to
$AGENTOPIA_ARTIFACTS (default: test-artifacts/), with the server's log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from prerequisites import skip_or_fail

from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.run.replay import ReplayRecorder, load_replay
from agentopia_mesa.run.results import run_metadata, write_results, write_start
from agentopia_mesa.world.loader import load_world
from agentopia_mesa.cli.viz import find_app, solara_command
from agentopia_mesa.cli.viz import main as viz_main

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the visualization/ modules live beside the package, not in it
    sys.path.insert(0, str(REPO))
APP = REPO / "visualization" / "app.py"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1600,2300",
)
REPLAY_YEARS = 2
APARTMENT_PLACES = len(load_world("apartment").places)  # the map draws every place (160 since it was made to the paper's)


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("AGENTOPIA_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("AGENTOPIA_ARTIFACTS"):
        (folder / ".gitignore").write_text("*\n", encoding="utf-8")  # never committed
    return folder


def _require_browser() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    from agentopia_mesa.cli.viz import missing_browser_assets

    if missing_browser_assets():  # without them the page waits on a CDN this machine may not reach
        missing.append("Solara's browser libraries in its cache")
    if missing:
        skip_or_fail(f"browser test needs {', '.join(missing)}: run .ci/install-browser.sh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"solara exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"solara did not answer at {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _record_run(out: Path) -> Path:
    """A small finished run directory with replay.jsonl, as `agentopia run` writes it."""
    model = AgentopiaModel(world="apartment", residents=30, years=REPLAY_YEARS, seed=5)
    meta = run_metadata(model, "apartment", 5)
    write_start(out, model, meta)
    recorder = ReplayRecorder(out)
    recorder.start(model)
    model.observers.append(recorder)
    model.run()
    write_results(out, model, meta, 0.0)
    return out


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory):
    _require_browser()
    return _record_run(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="module")
def server(recorded_run):
    """`solara run visualization/app.py` on a free port; always stopped at the end."""
    _require_browser()
    port = _free_port()
    log = artifacts_dir() / "solara-server.log"
    env = {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "AGENTOPIA_REPLAY": str(recorded_run),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "solara", "run", str(APP), "--host", "127.0.0.1", "--port", str(port),
               "--production", "--no-open"]
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url + "/", process, log)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="agentopia-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# What the page shows, read in the browser: per card, the SVG mark groups and texts.
_CARDS_JS = """
const out = {};
for (const name of ['map', 'network', 'plots', 'inspector']) {
  const card = document.querySelector('.agentopia-' + name);
  if (!card) continue;
  out[name] = {
    charts: card.querySelectorAll('.vega-embed svg.marks').length,
    marks: Array.from(card.querySelectorAll('g.role-mark')).map(g => ({
      type: (g.getAttribute('class').match(/mark-(\\w+)/) || [])[1], n: g.children.length,
      labels: Array.from(g.children).slice(0, 200).map(c => c.getAttribute('aria-label') || '')})),
    texts: Array.from(card.querySelectorAll('svg text')).map(t => t.textContent),
    content: card.innerText,
  };
}
out.headline = (document.querySelector('.agentopia-headline') || {}).innerText || '';
return JSON.stringify(out);
"""


def _cards(driver) -> dict:
    return json.loads(driver.execute_script(_CARDS_JS))


def _wait_for(driver, condition, what: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    cards: dict = {}
    while time.monotonic() < deadline:
        cards = _cards(driver)
        if condition(cards):
            return cards
        time.sleep(0.5)
    driver.save_screenshot(str(artifacts_dir() / "viz-failure.png"))
    seen = {name: [t for t in card.get("texts", []) if ":" in t] + [card.get("content", "")[:300]]
            for name, card in cards.items() if isinstance(card, dict)}
    pytest.fail(f"timed out waiting for {what}; headline {cards.get('headline')!r}; page had: {json.dumps(seen)[:3000]}")


def _rendered(cards: dict) -> bool:
    return all(name in cards for name in ("map", "network", "plots", "inspector")) and (
        cards["map"]["charts"] >= 1 and cards["network"]["charts"] >= 1 and cards["plots"]["charts"] >= 4
    )


def _shows(cards: dict, frame_label: str, week: int) -> bool:
    """Every part of the page has caught up with ``week`` (the browser applies updates piecemeal)."""
    return (
        _rendered(cards) and f"(week {week})" in cards["headline"]
        and f"Town map: {frame_label}" in cards["map"]["texts"]
        and f"Social network: {frame_label}" in cards["network"]["texts"]
    )


def _marks(card: dict, kind: str, containing: str) -> list[dict]:
    """Mark groups of ``kind`` whose items' ARIA labels mention ``containing``."""
    return [m for m in card["marks"] if m["type"] == kind and any(containing in label for label in m["labels"])]


def _click_button(driver, label: str) -> None:
    from selenium.webdriver.common.by import By

    buttons = [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip().lower() == label.lower()]
    assert buttons, f"no {label!r} button on the page"
    buttons[0].click()


def _save_conversation(driver) -> None:
    """The week's conversations card, one transcript open, saved as viz-conversation.png (the manual's picture)."""
    from selenium.webdriver.common.by import By

    card = driver.find_element(By.CSS_SELECTOR, ".agentopia-conversations")
    assert " this week" in card.text, card.text[:300]  # the week's conversations are listed ...
    transcript = card.find_elements(By.CSS_SELECTOR, ".agentopia-transcript .transcript-said")
    assert transcript, "no transcript lines shown"  # ... and the first one is open, its replies shown
    driver.execute_script("arguments[0].scrollIntoView();", card)
    card.screenshot(str(artifacts_dir() / "viz-conversation.png"))


@pytest.mark.slow
def test_live_town_steps_and_draws_map_network_and_plots(browser, server):
    browser.get(server + "/")
    cards = _wait_for(browser, lambda c: _shows(c, "start", 0), "the live page at week 0")
    assert "100 residents" in cards["headline"]

    _click_button(browser, "Step")
    cards = _wait_for(browser, lambda c: _shows(c, "Y2020-W01", 1) and "Recent activities" in c["inspector"]["content"],
                      "week 1 after Step")

    # the town map: every place as a square, every resident as a dot with a tooltip
    town = cards["map"]
    places = _marks(town, "symbol", "kind:")
    residents = _marks(town, "symbol", "job:")
    assert places and places[0]["n"] == APARTMENT_PLACES  # the apartment world's places
    assert residents and residents[0]["n"] == 100
    assert all("activity:" in label and "name:" in label for label in residents[0]["labels"])
    assert "workplace" in town["texts"] and "leisure & social" in town["texts"]

    # the social network: 100 nodes and the ties between them
    network = cards["network"]
    nodes = _marks(network, "symbol", "ties:")
    ties = [m for m in network["marks"] if m["type"] == "rule"]
    assert nodes and nodes[0]["n"] == 100
    assert ties and ties[0]["n"] > 50

    # the plots: needs, Gini, activity mix (with this week's bars), reward by year
    plots = cards["plots"]
    for title in ("Mean needs (0-100)", "Gini of deposits", "Activity mix (slots per week)",
                  "Life reward by year (mean per resident)"):
        assert title in plots["texts"], title
    assert {"social", "esteem", "mood"} <= set(plots["texts"])
    assert _marks(plots, "rect", "activity:"), "no activity bars"
    assert len(_marks(plots, "line", "need:")) == 5

    inspector = cards["inspector"]
    assert "Resident inspector" in inspector["content"] and "no LLM decisions recorded" in inspector["content"]
    assert "Recent activities" in inspector["content"] and "Diary" in inspector["content"]

    browser.save_screenshot(str(artifacts_dir() / "viz.png"))
    _save_conversation(browser)

    _click_button(browser, "Reset")  # a fresh town with the sidebar's settings
    _wait_for(browser, lambda c: _shows(c, "start", 0), "week 0 after Reset")


@pytest.mark.slow
def test_replay_scrubs_weeks_without_a_model(browser, server, recorded_run):
    replay = load_replay(recorded_run)
    last = replay.frames[-1]
    browser.get(server + "/replay")
    cards = _wait_for(browser, lambda c: _shows(c, last["label"], last["week"]), "the replay's last week")
    assert _marks(cards["map"], "symbol", "job:")[0]["n"] == 30
    # ten weeks a year: the final week has both years' rewards
    rewards = _marks(cards["plots"], "symbol", "component:")
    assert rewards and rewards[0]["n"] >= REPLAY_YEARS

    _click_button(browser, "◀")
    previous = replay.frames[-2]
    _wait_for(browser, lambda c: _shows(c, previous["label"], previous["week"]), "one week back")
    browser.save_screenshot(str(artifacts_dir() / "viz-replay.png"))


# -- without a browser ---------------------------------------------------------------------------
def test_views_draw_a_replay_without_a_browser(tmp_path):
    from visualization.network import network_chart
    from visualization.plots import activity_chart, gini_chart, mean_needs_chart, reward_chart
    from visualization.sources import ReplayTown
    from visualization.town_map import resident_table, town_map_chart

    source = ReplayTown.open(_record_run(tmp_path))
    last = source.frame()
    assert last["week"] == REPLAY_YEARS * 10 and source.frame(3)["week"] == 3
    table = resident_table(source, last)
    assert len(table) == 30 and table["x"].between(-0.5, source.world.grid.width).all()
    spec = town_map_chart(source, last, "deposit").to_dict()
    assert len(spec["layer"]) == 3  # places, their names, residents
    labelled, residents, places = sorted(len(rows) for rows in spec["datasets"].values())
    assert (residents, places) == (30, APARTMENT_PLACES) and 7 <= labelled <= 14  # labels that would overlap are left out
    network = network_chart("test", last, "affection").to_dict()
    assert "affection ratings" in network["title"]["subtitle"][0]
    metrics = source.metrics(last["week"])
    weeks = REPLAY_YEARS * 10 + 1  # week 0 and every lived week
    assert len(metrics) == weeks
    # Each chart draws the run's numbers with its own mark (an empty chart is a grey text mark).
    mark, rows = _drawn(mean_needs_chart(metrics))
    assert mark == "line" and len(rows) == weeks * 5
    assert {r["need"] for r in rows} == {"vitality", "mood", "material", "social", "esteem"}
    moods = [r["value"] for r in sorted(rows, key=lambda r: r["week"]) if r["need"] == "mood"]
    assert moods == pytest.approx(list(metrics["mean_mood"]))
    mark, rows = _drawn(gini_chart(metrics))
    assert mark == "line" and [r["gini_deposit"] for r in rows] == pytest.approx(list(metrics["gini_deposit"]))
    assert 0 < max(r["gini_deposit"] for r in rows) < 1
    mark, rows = _drawn(activity_chart(metrics))
    kinds = [c for c in metrics if c.startswith("n_") and c[2:] in {r["activity"] for r in rows}]
    assert mark == "bar" and len(rows) == (weeks - 1) * len(kinds) and len(kinds) >= 5
    assert sum(r["value"] for r in rows) == pytest.approx(metrics[kinds].sum().sum()) and metrics[kinds].sum().sum() > 0
    rewards = source.rewards(last["week"])
    mark, rows = _drawn(reward_chart(rewards))
    components = {r["component"] for r in rows}
    assert mark == "line" and components == {"liked-by", "respected-by", "subjective", "economic"}
    assert len(rows) == REPLAY_YEARS * len(components)
    expected = rewards.groupby("year")["economic"].mean()
    assert {r["year"]: r["mean"] for r in rows if r["component"] == "economic"} == pytest.approx(expected.to_dict())
    # rewards show only the years settled by the week shown
    assert set(source.rewards(15)["year"]) == {2020}
    assert set(source.rewards(last["week"])["year"]) == {2020, 2021}


def _drawn(chart) -> tuple[str, list[dict]]:
    """The mark type a chart draws (of its inner chart when faceted) and the data rows it draws."""
    spec = chart.to_dict()
    inner = spec.get("spec", spec)
    mark = inner["mark"]["type"] if isinstance(inner["mark"], dict) else inner["mark"]
    (rows,) = spec["datasets"].values()
    return mark, rows


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("agentopia: error: ") and "Traceback" not in err
    return err


def test_agentopia_viz_explains_bad_input(tmp_path, capsys, monkeypatch):
    assert viz_main(["--replay", str(tmp_path)]) == 2  # a directory that is not a run
    assert "has no replay.jsonl" in _one_error_line(capsys)
    assert viz_main(["--replay", str(tmp_path / "nowhere")]) == 2
    assert f"--replay: {tmp_path / 'nowhere'} has no replay.jsonl" in _one_error_line(capsys)
    with pytest.raises(SystemExit) as bad_port:
        viz_main(["--port", "eighty"])
    assert bad_port.value.code == 2 and "invalid int value: 'eighty'" in capsys.readouterr().err
    assert find_app() == APP
    command = solara_command(APP, "127.0.0.1", 9999)
    assert command[1:4] == ["-m", "solara", "run"] and "--port" in command and "9999" in command

    # a run directory, but no Solara: one line saying what to install, and no server started
    run = tmp_path / "run"
    run.mkdir()
    (run / "replay.jsonl").write_text("")
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "solara", None)  # as if mesa[viz] were not installed
        assert viz_main(["--replay", str(run)]) == 2
    assert "solara is not installed: pip install 'mesa[viz]'" in _one_error_line(capsys)

    # --fetch-assets with libraries missing from Solara's cache and no npm to fetch them
    from solara.server import settings

    monkeypatch.setattr(settings.assets, "proxy_cache_dir", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert viz_main(["--fetch-assets"]) == 2
    assert "npm not found: install Node.js" in _one_error_line(capsys)


def _rendered_text(element) -> str:
    """All text a Solara element renders to (Markdown HTML and plain strings), without a browser."""
    import solara

    box, _ = solara.render(element, handle_error=False)
    parts, stack = [], [box]
    while stack:
        widget = stack.pop()
        parts.append(str(getattr(widget, "template", "")))
        for child in getattr(widget, "children", None) or []:
            if isinstance(child, str):
                parts.append(child)
            else:
                stack.append(child)
    return " ".join(parts)


def test_inspector_shows_llm_prompts_and_responses():
    from types import SimpleNamespace

    from visualization.panels import Decisions

    llm = SimpleNamespace(name="Ann", model=SimpleNamespace(minds={"Ann": SimpleNamespace(name="ollama:qwen3")}))
    decisions = [{
        "stage": "plan", "when": "Y2020-W01-plan", "model": "ollama:qwen3", "fallback": True,
        "messages": [{"role": "system", "content": "You are Ann."}, SimpleNamespace(role="user", content="Plan your week")],
        "response": '{"goals": ["find a job"]}',
    }]
    text = _rendered_text(Decisions(llm, decisions, 1))
    for expected in ("Y2020-W01-plan", "fallback", "You are Ann.", "Plan your week", "find a job"):
        assert expected in text
    rules = SimpleNamespace(name="Ann", model=SimpleNamespace(minds={"Ann": SimpleNamespace(name="rules")}))
    assert "no LLM decisions recorded" in _rendered_text(Decisions(rules, [], 1))


def test_live_town_with_llm_minds_shows_their_prompts():
    import runpy

    import agentopia_mesa.llm.settings  # noqa: F401 (ours: a broken import fails this test, never skips it)

    from visualization.panels import Decisions
    from visualization.sources import live_town

    town_model = runpy.run_path(str(APP))["TownModel"]
    model = town_model(residents=12, years=1, seed="3", mind="llm:fake")
    source = live_town(model)
    model.step()
    resident = model.residents[0]
    assert not hasattr(resident, "decisions")  # the channel is the mind's listeners, not the agent
    text = _rendered_text(Decisions(resident, source.decisions(resident.name), model.weeks_done))
    assert "no LLM decisions recorded" not in text
    assert "plan" in text and "system" in text
