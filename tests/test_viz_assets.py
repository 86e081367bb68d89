"""The first ``agentopia viz`` fetches Solara's browser libraries; offline it says so and goes on."""

from agentopia_mesa.cli import viz


def test_first_viz_fetches_the_browser_libraries(monkeypatch, capsys):
    fetched = []
    monkeypatch.setattr(viz, "missing_browser_assets", lambda: ["vega@5"])
    monkeypatch.setattr(viz, "fetch_browser_assets", lambda: fetched.append(True) or ["cached vega@5"])
    monkeypatch.setattr(viz, "run_until_stopped", lambda command, env: 0)
    assert viz.main(["--port", "9999"]) == 0
    assert fetched and "fetching 1 browser libraries" in capsys.readouterr().err


def test_offline_viz_says_why_and_still_starts_the_server(monkeypatch, capsys):
    def offline():
        raise viz.VizError("npm pack vega@5 gave no answer in 120 s (offline?)")

    started = []
    monkeypatch.setattr(viz, "missing_browser_assets", lambda: ["vega@5"])
    monkeypatch.setattr(viz, "fetch_browser_assets", offline)
    monkeypatch.setattr(viz, "run_until_stopped", lambda command, env: started.append(command) or 0)
    assert viz.main(["--port", "9999"]) == 0
    err = capsys.readouterr().err
    assert "could not fetch them (npm pack vega@5 gave no answer in 120 s (offline?))" in err
    assert "from the CDN" in err and "agentopia viz --fetch-assets" in err
    assert started


def test_nothing_is_fetched_when_the_libraries_are_cached(monkeypatch, capsys):
    monkeypatch.setattr(viz, "missing_browser_assets", lambda: [])
    monkeypatch.setattr(viz, "fetch_browser_assets", lambda: (_ for _ in ()).throw(AssertionError("fetched")))
    viz.ensure_browser_assets()
    assert capsys.readouterr().err == ""
