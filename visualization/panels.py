"""Solara components shared by the live and replay pages: the dashboard (map, network, plots, the
week's conversations: ``visualization.conversations``) and the resident inspector. They draw week
frames from a ``TownSource`` and never step a model."""

from __future__ import annotations

import altair as alt
import solara

from agentopia_mesa.town.state import NEEDS
from visualization.conversations import ConversationCard
from visualization.network import GRAPHS, network_chart
from visualization.plots import (
    activity_chart,
    gini_chart,
    mean_needs_chart,
    resident_history,
    resident_history_chart,
    reward_chart,
)
from visualization.sources import TownSource
from visualization.town_map import COLOUR_BY, town_map_chart

alt.data_transformers.disable_max_rows()


#: Solara's page embeds charts with Vega-Lite 5 (solara/widgets/vue/vegalite.vue loads
#: vega-lite@5), while Altair 6 labels its specs Vega-Lite 6, so the browser console warned on
#: every chart. The charts use nothing new in 6; their specs name the runtime that draws them.
RUNTIME_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def runtime_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec, drawn as SVG, labelled with the runtime's schema version."""
    spec = chart.properties(usermeta={"embedOptions": {"renderer": "svg", "actions": False}}).to_dict()
    spec["$schema"] = RUNTIME_SCHEMA
    return spec


def Chart(chart: alt.TopLevelMixin):
    """An Altair chart drawn as SVG (crisp text, marks in the DOM for tooltips and tests)."""
    return solara.widgets.VegaLite.element(spec=runtime_spec(chart), on_click=None, listen_to_click=False,
                                           on_hover=None, listen_to_hover=False)

# Per browser tab (Solara scopes reactive variables to the connection).
colour_by = solara.reactive("mood")
graph_kind = solara.reactive("affection")
inspected = solara.reactive("")


@solara.component
def Dashboard(source: TownSource, week: int | None = None):
    """Everything about one week: headline numbers, map, network, plots, conversations and the inspector."""
    frame = source.frame(week)
    Headline(frame)
    with solara.Columns([1, 1], gutters_dense=True):
        TownMapCard(source, frame)
        NetworkCard(source, frame)
    Plots(source, frame["week"])
    ConversationCard(source, frame)
    Inspector(source, frame)


@solara.component
def Headline(frame: dict):
    m = frame["metrics"]
    residents = len(frame["residents"]["name"])
    parts = [
        f"**{frame['label']}** (week {frame['week']})",
        f"{residents} residents",
        f"{m.get('employed', 0):.0f} employed",
        f"{m.get('ties', 0):.0f} acquaintance ties",
        f"{m.get('friendships', 0):.0f} friendships",
        f"mean deposit {m.get('mean_deposit', 0):.0f}",
        f"Gini {m.get('gini_deposit', 0):.2f}",
    ]
    with solara.Div(classes=["agentopia-headline"]):
        solara.Markdown(" · ".join(parts), style={"font-size": "15px", "padding": "4px 8px"})


@solara.component
def TownMapCard(source: TownSource, frame: dict):
    chart = solara.use_memo(
        lambda: town_map_chart(source, frame, colour_by.value), [id(source), frame["week"], colour_by.value]
    )
    with solara.Card(classes=["agentopia-map"], margin=1):
        solara.Select("Colour residents by", values=list(COLOUR_BY), value=colour_by, dense=True,
                      style={"max-width": "260px"})
        Chart(chart)


@solara.component
def NetworkCard(source: TownSource, frame: dict):
    chart = solara.use_memo(
        lambda: network_chart(id(source), frame, graph_kind.value, colour_by.value),
        [id(source), frame["week"], graph_kind.value, colour_by.value],
    )
    with solara.Card(classes=["agentopia-network"], margin=1):
        solara.ToggleButtonsSingle(value=graph_kind, values=list(GRAPHS), dense=True)
        Chart(chart)


@solara.component
def Plots(source: TownSource, week: int):
    metrics = solara.use_memo(lambda: source.metrics(week), [id(source), week])
    rewards = solara.use_memo(lambda: source.rewards(week), [id(source), week])
    with solara.Card(classes=["agentopia-plots"], margin=1):
        with solara.Row(style={"flex-wrap": "wrap", "gap": "12px"}):
            Chart(mean_needs_chart(metrics))
            Chart(gini_chart(metrics))
            Chart(activity_chart(metrics))
            Chart(reward_chart(rewards))


@solara.component
def Inspector(source: TownSource, frame: dict):
    """Profile, state history, notebook, diary, recent activities and decisions of one resident."""
    names = sorted(frame["residents"]["name"])
    name = inspected.value if inspected.value in names else names[0]
    columns = frame["residents"]
    i = columns["name"].index(name)
    current = {c: values[i] for c, values in columns.items()}
    resident = source.resident(name)
    week = frame["week"]
    history = solara.use_memo(
        lambda: resident_history([f for f in source.frames if f["week"] <= week], name), [id(source), week, name]
    )
    with solara.Card("Resident inspector", classes=["agentopia-inspector"], margin=1):
        solara.Select("Resident", values=names, value=name, on_value=inspected.set)
        with solara.Columns([1, 1, 1]):
            with solara.Column():
                solara.Markdown(_profile_markdown(source, name, current, frame, resident))
            with solara.Column():
                Chart(resident_history_chart(history, name))
                solara.Markdown(_rewards_markdown(source, name, frame["week"]))
            with solara.Column():
                if resident is None:
                    solara.Markdown(_replay_activities_markdown(source, name, frame["week"]))
                    solara.Markdown("_Notebook, diary and decisions are not recorded in replays._")
                else:
                    LiveNotes(resident, source.decisions(name), frame["week"])


@solara.component
def LiveNotes(resident, decisions: list[dict], week: int):
    """Activities, notebook and decisions, read from the live resident (``week`` makes a new week
    a new prop, so this redraws: Solara skips components whose arguments did not change)."""
    try:
        activities, notebook = _activities_markdown(resident), _notebook_markdown(resident)
    except RuntimeError:  # the week is being lived in another thread right now
        solara.Markdown("_updating: the week is being lived_")
        return
    solara.Markdown(activities)
    solara.Markdown(notebook)
    Decisions(resident, decisions, week)


@solara.component
def Decisions(resident, decisions: list[dict], week: int):
    decisions = decisions[-5:]
    solara.Markdown("**Recent decisions**")
    if not decisions:
        mind = getattr(resident.model.minds.get(resident.name), "name", "mind")
        solara.Markdown(f"_no LLM decisions recorded ({mind} decides without prompts)_")
        return
    for d in reversed(decisions):
        flags = [f for f in ("fallback", "cached") if d.get(f)]
        title = " · ".join(str(d.get(k, "?")) for k in ("when", "stage", "model")) + (f" ({', '.join(flags)})" if flags else "")
        with solara.Details(title):
            for message in d.get("messages") or d.get("prompt") or []:
                role, content = _message_parts(message)
                solara.Markdown(f"**{role}**\n\n```\n{content}\n```")
            solara.Markdown(f"**response**\n\n```\n{d.get('response') or d.get('error') or ''}\n```")


def _message_parts(message) -> tuple[str, str]:
    """(role, content) of a chat message given as a dict or an object with those attributes."""
    if isinstance(message, dict):
        return str(message.get("role", "?")), str(message.get("content", ""))
    return str(getattr(message, "role", "?")), str(getattr(message, "content", message))


# -- markdown helpers ---------------------------------------------------------------------------
def _levels(values: dict[str, int], top: int = 6) -> str:
    ordered = sorted(values.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{k} {v}" for k, v in ordered) or "-"


def _profile_markdown(source: TownSource, name: str, current: dict, frame: dict, resident) -> str:
    profile = source.profile(name)
    year = int(frame["metrics"].get("year") or 0)
    age = f"{resident.age}" if resident is not None else (f"{year - profile.birth_year}" if profile and year else "?")
    lines = [f"### {name}"]
    if profile:
        lines.append(f"{profile.gender}, {age} · lives at {source.place_names.get(profile.home, profile.home)}")
    lines += [
        f"**job**: {source.job_title(current['job'])}",
        f"**now**: {current['activity']} at {source.place_names.get(current['place'], current['place'])}",
        f"**vitality** {current['vitality']} · " + " · ".join(f"**{n}** {current[n]}" for n in NEEDS),
        f"**deposit** {current['deposit']} · **living standard** {current['living_standard']}",
    ]
    if profile:
        skills = resident.state.skills if resident is not None else profile.skills
        lines += [
            f"**traits**: {_levels(profile.traits if resident is None else resident.traits)}",
            f"**talents**: {_levels(profile.talents if resident is None else resident.talents)}",
            f"**skills**: {_levels(skills)}",
        ]
        if profile.values:
            lines.append("**values**: " + " / ".join(profile.values))
        if profile.motivation:
            lines.append(f"**motivation**: {profile.motivation}")
        if profile.introduction:
            lines.append(f"_{profile.introduction}_")
    return "\n\n".join(lines)


def _rewards_markdown(source: TownSource, name: str, week: int) -> str:
    rewards = source.rewards(week)
    if rewards.empty:
        return "**Life reward**: none yet (settled at each year end)"
    mine = rewards[rewards["name"] == name]
    rows = ["**Life reward**", "", "| year | total | social | subjective | economic |", "|---|---|---|---|---|"]
    for row in mine.tail(5).itertuples():
        rows.append(f"| {row.year} | {row.total:+.2f} | {row.social:.4f} | {row.subjective:.1f} | {row.economic:.0f} |")
    return "\n".join(rows)


def _activities_markdown(resident) -> str:
    records = resident.records or resident.last_records
    if not records:
        return "**This week**: nothing yet"
    lines = ["**Recent activities**", ""]
    for r in records[-6:]:
        people = f" with {', '.join(r.with_people)}" if r.with_people else ""
        changes = ", ".join(_change(k, v) for k, v in r.changes.items() if v)
        lines.append(f"- {r.when}: {r.title} ({r.kind}) at {r.place}{people}" + (f"; {changes}" if changes else "")
                     + (f"\n  - _{r.note}_" if r.note else ""))
    return "\n".join(lines)


def _change(key: str, value) -> str:
    if isinstance(value, dict):  # e.g. skills: {"photography": 2}
        return ", ".join(f"{k} {v:+d}" for k, v in value.items())
    return f"{key} {value:+d}"


def _replay_activities_markdown(source: TownSource, name: str, week: int) -> str:
    lines = ["**Recent weeks**", ""]
    frames = [f for f in source.frames if f["week"] <= week][-6:]
    for f in reversed(frames):
        columns = f["residents"]
        i = columns["name"].index(name)
        place = columns["place"][i]
        lines.append(f"- {f['label']}: {columns['activity'][i]} at {source.place_names.get(place, place)}")
        lines += [f"  - {text}" for text in f.get("outcomes", {}).get(str(i), [])]  # the LLM environment's narration
    return "\n".join(lines)


def _notebook_markdown(resident) -> str:
    book = resident.notebook
    lines = ["**Notebook**", "", f"_{book.general.summary or 'no general notes yet'}_", ""]
    for person in book.recent_people(5):
        lines.append(f"- **{person}**: {book.people[person].summary}")
    for topic, note in list(book.topics.items())[:3]:
        lines.append(f"- _{topic}_: {note.summary}")
    lines += ["", "**Diary**", ""]
    for entry in reversed(book.recent_diary(3)):
        lines.append(f"- {entry.when}: {entry.summary}" + (f" _{entry.reflection}_" if entry.reflection else ""))
    if not book.diary:
        lines.append("- no entries yet")
    return "\n".join(lines)
