"""Time-series plots (Altair): mean needs, Gini of deposits, life reward by year, activity mix,
and one resident's state history."""

from __future__ import annotations

import altair as alt
import pandas as pd

from agentopia_mesa.metrics import ACTIVITY_KINDS
from agentopia_mesa.town.state import NEEDS

WIDTH, HEIGHT = 300, 170


def _week_axis(weeks: int, title: str | None = "week") -> alt.X:
    """Whole weeks on the x axis (no 0.5-week ticks on short runs)."""
    return alt.X("week:Q", title=title, axis=alt.Axis(format="d", tickCount=max(1, min(10, weeks))))
NEED_COLOURS = {"vitality": "#546e7a", "mood": "#fbc02d", "material": "#8d6e63", "social": "#e91e63", "esteem": "#3f51b5"}


def _empty(title: str, message: str) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"text": [message]}))
        .mark_text(color="#757575", fontSize=12)
        .encode(text="text:N")
        .properties(width=WIDTH, height=HEIGHT, title=title)
    )


def _long(metrics: pd.DataFrame, columns: dict[str, str], name: str, by: str = "week") -> pd.DataFrame:
    """Columns of ``metrics`` (renamed by ``columns``) stacked into (by, name, value) rows."""
    present = {c: label for c, label in columns.items() if c in metrics}
    frame = metrics[[by, *present]].rename(columns=present)
    return frame.melt(by, var_name=name, value_name="value")


def mean_needs_chart(metrics: pd.DataFrame) -> alt.Chart:
    title = "Mean needs (0-100)"
    if metrics.empty:
        return _empty(title, "no weeks yet")
    data = _long(metrics, {f"mean_{n}": n for n in ("vitality", *NEEDS)}, "need")
    return (
        alt.Chart(data)
        .mark_line(strokeWidth=2)
        .encode(
            x=_week_axis(len(metrics) - 1),
            y=alt.Y("value:Q", title="mean", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("need:N", scale=alt.Scale(domain=list(NEED_COLOURS), range=list(NEED_COLOURS.values()))),
            tooltip=["week:Q", "need:N", alt.Tooltip("value:Q", format=".1f")],
        )
        .properties(width=WIDTH, height=HEIGHT, title=title)
    )


def gini_chart(metrics: pd.DataFrame) -> alt.Chart:
    title = "Gini of deposits"
    if metrics.empty or "gini_deposit" not in metrics:
        return _empty(title, "no weeks yet")
    return (
        alt.Chart(metrics[["week", "gini_deposit", "median_deposit", "mean_deposit"]])
        .mark_line(strokeWidth=2, color="#6a1b9a", point=len(metrics) < 30)
        .encode(
            x=_week_axis(len(metrics) - 1),
            y=alt.Y("gini_deposit:Q", title="Gini (0 = equal)", scale=alt.Scale(zero=False)),
            tooltip=["week:Q", alt.Tooltip("gini_deposit:Q", format=".3f", title="Gini"),
                     alt.Tooltip("mean_deposit:Q", format=".0f"), alt.Tooltip("median_deposit:Q", format=".0f")],
        )
        .properties(width=WIDTH, height=HEIGHT, title=title)
    )


#: The reward panels: the social reward is a share of two PageRanks, whose yearly mean is about
#: 1/residents every year by construction (a flat line that an auto-scaled axis turns into noise),
#: so the panels show what moves instead: how many residents like and respect each one.
REWARD_PANELS = {"liked_by": "liked-by", "respected_by": "respected-by", "subjective": "subjective",
                 "economic": "economic"}
PANEL_COLOURS = {"liked-by": "#e91e63", "respected-by": "#8e24aa", "social": "#e91e63", "subjective": "#fbc02d",
                 "economic": "#43a047"}


def reward_chart(rewards: pd.DataFrame) -> alt.Chart:
    """Yearly means per resident: liked-by and respected-by counts and the subjective and economic
    components, one panel each (scales differ widely). Rewards without the counts (a replay of an
    unfinished run) show the social component instead."""
    title = "Life reward by year (mean per resident)"
    if rewards.empty:
        return _empty(title, "settled at the end of each year")
    panels = {c: name for c, name in REWARD_PANELS.items() if c in rewards}
    if not {"liked_by", "respected_by"} <= set(panels) and "social" in rewards:
        panels = {"social": "social", **{c: n for c, n in panels.items() if c in ("subjective", "economic")}}
    data = (rewards.groupby("year")[list(panels)].mean().rename(columns=panels).reset_index()
            .melt("year", var_name="component", value_name="mean"))
    years = data["year"].nunique()
    order = list(panels.values())
    return (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("year:Q", title=None, scale=alt.Scale(zero=False, padding=6),
                    axis=alt.Axis(format="d", tickCount=min(years, 4), labelAngle=0)),
            y=alt.Y("mean:Q", title=None, scale=alt.Scale(zero=False)),
            color=alt.Color("component:N", legend=None,
                            scale=alt.Scale(domain=order, range=[PANEL_COLOURS[name] for name in order])),
            tooltip=["year:O", "component:N", alt.Tooltip("mean:Q", format=".4g")],
        )
        .properties(width=WIDTH / len(order) - 12, height=HEIGHT - 30)
        .facet(column=alt.Column("component:N", title=None, sort=order))
        .resolve_scale(y="independent")
        .properties(title=title)
    )


def activity_chart(metrics: pd.DataFrame, by_year_after: int = 30) -> alt.Chart:
    """Activity slots per week, stacked by kind; per year (weekly mean) once there are many weeks."""
    columns = {f"n_{k}": k for k in ACTIVITY_KINDS}
    lived = metrics[metrics["week"] > 0] if "week" in metrics else metrics
    if lived.empty or not set(columns) & set(lived):
        return _empty("Activity mix (slots per week)", "no activities yet")
    if len(lived) > by_year_after and "year" in lived:
        yearly = lived.groupby("year")[[c for c in columns if c in lived]].mean().reset_index()
        x, title = alt.X("year:O", title="year"), "Activity mix (mean slots per week, by year)"
        data = _long(yearly, columns, "activity", by="year")
    else:
        x, title = alt.X("week:O", title="week"), "Activity mix (slots per week)"
        data = _long(lived, columns, "activity")
    kinds = list(ACTIVITY_KINDS)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("value:Q", title="slots", stack="zero"),
            color=alt.Color("activity:N", sort=kinds, scale=alt.Scale(domain=kinds, scheme="tableau10")),
            order=alt.Order("activity_order:Q"),
            tooltip=[x.shorthand, "activity:N", alt.Tooltip("value:Q", format=".0f")],
        )
        .transform_calculate(activity_order=f"indexof({kinds!r}, datum.activity)")
        .properties(width=WIDTH, height=HEIGHT, title=title)
    )


def resident_history(frames: list[dict], name: str) -> pd.DataFrame:
    """One resident's vitality, needs and deposit per recorded week."""
    rows = []
    for f in frames:
        columns = f["residents"]
        try:
            i = columns["name"].index(name)
        except ValueError:
            continue
        rows.append({"week": f["week"], **{c: columns[c][i] for c in ("vitality", *NEEDS, "deposit")}})
    return pd.DataFrame(rows)


def resident_history_chart(history: pd.DataFrame, name: str) -> alt.VConcatChart | alt.Chart:
    title = f"{name}: state by week"
    if history.empty:
        return _empty(title, "no weeks recorded")
    needs = (
        alt.Chart(history.melt("week", value_vars=["vitality", *NEEDS], var_name="need", value_name="value"))
        .mark_line(strokeWidth=2)
        .encode(
            x=_week_axis(len(history) - 1, None),
            y=alt.Y("value:Q", title="0-100", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("need:N", scale=alt.Scale(domain=list(NEED_COLOURS), range=list(NEED_COLOURS.values())),
                            legend=alt.Legend(orient="top", title=None)),
            tooltip=["week:Q", "need:N", "value:Q"],
        )
        .properties(width=290, height=150, title=title)
    )
    deposit = (
        alt.Chart(history)
        .mark_area(color="#43a047", opacity=0.5, line=True)
        .encode(x=_week_axis(len(history) - 1), y=alt.Y("deposit:Q", title="deposit"), tooltip=["week:Q", "deposit:Q"])
        .properties(width=290, height=70)
    )
    return alt.vconcat(needs, deposit)
