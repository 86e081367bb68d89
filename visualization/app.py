"""See the town: ``solara run visualization/app.py`` (or ``agentopia viz``).

Two pages:

- ``/`` a live run in Mesa's ``SolaraViz``: choose world, residents, years, seed and mind in the
  sidebar, then Step / Play / Reset. Every view draws the snapshot taken after the last whole week.
- ``/replay`` a recorded run: open a run directory (default ``$AGENTOPIA_REPLAY``) and scrub
  through its weeks with a slider; nothing is recomputed.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:  # `solara run` executes this file as a script
    sys.path.insert(0, str(_REPO))

import solara  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from agentopia_mesa.llm.settings import LLMSettings  # noqa: E402
from agentopia_mesa.model import AgentopiaModel  # noqa: E402
from agentopia_mesa.run.builder import RunSettings, model_arguments  # noqa: E402
from agentopia_mesa.run.replay import ReplayError  # noqa: E402
from agentopia_mesa.world.loader import builtin_world_names  # noqa: E402
from visualization.panels import Dashboard  # noqa: E402
from visualization.sources import ReplayTown, live_town, viewer_run_dir  # noqa: E402

DEFAULT_RESIDENTS = int(os.environ.get("AGENTOPIA_VIZ_RESIDENTS", "100"))
DEFAULT_WORLD = os.environ.get("AGENTOPIA_VIZ_WORLD", "apartment")
#: rules: RuleMind, runs anywhere. llm:fake: schema-following made-up answers (prompts, no model).
#: llm:embedded: the in-process 270M model (slow: use Play, which steps in a worker thread).
AVAILABLE_MINDS = ["rules", "llm:fake", "llm:embedded"]
DEFAULT_MIND = os.environ.get("AGENTOPIA_VIZ_MIND", "rules")


def _seed(value) -> int:
    """Seeds typed as text: digits are the seed, any other text hashes to one."""
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else zlib.crc32(text.encode())


class TownModel(AgentopiaModel):
    """``AgentopiaModel`` with the app's controls as keyword arguments (SolaraViz rebuilds it on Reset),
    built by the same ``run.builder`` as ``agentopia run``."""

    def __init__(self, world: str = DEFAULT_WORLD, residents: int = DEFAULT_RESIDENTS, years: int = 10, seed=0,
                 mind: str = DEFAULT_MIND, rng=None, scenario=None, **overrides):
        # SolaraViz's Reset passes Mesa's default ``scenario``; the town's settings are the config.
        if mind not in AVAILABLE_MINDS:
            raise ValueError(f"mind: {mind!r} is not available; choose one of {', '.join(AVAILABLE_MINDS)}")
        llm = LLMSettings.from_args("llm", mind.removeprefix("llm:"), None) if mind != "rules" else LLMSettings()
        settings = RunSettings(world=world, residents=int(residents), years=int(years), seed=_seed(seed),
                               overrides=overrides, llm=llm)
        arguments, _ = model_arguments(settings)
        super().__init__(**arguments, rng=rng)
        self.mind_choice = mind


MODEL_PARAMS = {
    "world": {"type": "Select", "value": DEFAULT_WORLD, "values": builtin_world_names(), "label": "World"},
    "residents": {"type": "SliderInt", "value": DEFAULT_RESIDENTS, "min": 10, "max": 200, "step": 10, "label": "Residents"},
    "years": {"type": "SliderInt", "value": 10, "min": 1, "max": 10, "step": 1, "label": "Years"},
    "seed": {"type": "InputText", "value": "0", "label": "Seed"},
    "mind": {"type": "Select", "value": DEFAULT_MIND, "values": AVAILABLE_MINDS, "label": "Mind"},
}


@solara.component
def LiveDashboard(model: TownModel):
    update_counter.get()  # redraw after every Step / Play tick / Reset
    source = live_town(model)
    Dashboard(source, source.frame()["week"])  # a new week is a new prop: children redraw


@solara.component
def page():
    """The live run: Mesa's SolaraViz controls in the sidebar, our dashboard in the main area."""
    first = solara.use_memo(lambda: TownModel(), [])
    model = solara.use_reactive(first)
    SolaraViz(model, components=[], model_params=MODEL_PARAMS, name="Agentopia: the town, live", play_interval=150)
    solara.Markdown(
        f"Mind: **{model.value.mind_choice}**. `rules` runs anywhere with no model; with an LLM mind "
        "(pick it under Model Parameters, then Reset) the inspector shows each resident's prompts and "
        "responses, and Play steps in a worker thread so the page stays live. [Replay a recorded run](/replay)",
        style={"font-size": "13px", "color": "#616161", "padding": "0 8px"},
    )
    LiveDashboard(model.value)


@solara.component
def ReplayPage():
    """A recorded run, scrubbed week by week from its replay.jsonl."""
    run_dir = solara.use_reactive(os.environ.get("AGENTOPIA_REPLAY", ""))
    reloads = solara.use_reactive(0)
    week = solara.use_reactive(-1)

    def open_run():
        if not run_dir.value.strip():
            return None, "Type a run directory (one written by `agentopia run --out DIR`)."
        try:
            return ReplayTown.open(viewer_run_dir(run_dir.value)), None  # only run dirs under the root
        except (ReplayError, ValueError, OSError) as exc:
            return None, str(exc)

    source, error = solara.use_memo(open_run, [run_dir.value, reloads.value])
    weeks = source.replay.weeks if source else [0]
    shown = week.value if week.value in weeks else weeks[-1]

    with solara.AppBar():
        solara.AppBarTitle("Agentopia: replay")
    with solara.Sidebar():
        with solara.Card("Recorded run"):
            solara.InputText("Run directory", value=run_dir, continuous_update=False)
            solara.Button("Reload", on_click=lambda: reloads.set(reloads.value + 1), outlined=True, dense=True)
            if source:
                solara.Markdown(f"{source.title}: weeks {weeks[0]}-{weeks[-1]}"
                                + (" (the run stopped mid-write)" if source.replay.truncated else ""))
        if source:
            with solara.Card("Week"):
                solara.SliderInt(f"Week {shown}: {source.frame(shown)['label']}", value=shown, min=weeks[0], max=weeks[-1],
                                 on_value=week.set)
                with solara.Row():
                    solara.Button("◀", on_click=lambda: week.set(max(weeks[0], shown - 1)), dense=True)
                    solara.Button("▶", on_click=lambda: week.set(min(weeks[-1], shown + 1)), dense=True)
                    solara.Button("Year ▶▶", on_click=lambda: week.set(min(weeks[-1], shown + source.weeks_per_year)), dense=True)
        solara.Markdown("[Back to the live town](/)")
    if error:
        solara.Warning(error)
    elif source:
        Dashboard(source, shown)


routes = [
    solara.Route(path="/", component=page, label="Live town"),
    solara.Route(path="replay", component=ReplayPage, label="Replay"),
]
