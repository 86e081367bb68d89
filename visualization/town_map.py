"""The town map (Altair): places as squares coloured by category, residents as dots coloured by a
chosen variable, spread around the place they are at, with tooltips."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from visualization.sources import PLACE_CATEGORIES, TownSource

#: What residents can be coloured by: frame column -> (legend title, colour scheme, fixed domain).
COLOUR_BY: dict[str, tuple[str, str, tuple[float, float] | None]] = {
    "mood": ("mood", "redyellowgreen", (0, 100)),
    "material": ("material", "redyellowgreen", (0, 100)),
    "social": ("social", "redyellowgreen", (0, 100)),
    "esteem": ("esteem", "redyellowgreen", (0, 100)),
    "vitality": ("vitality", "redyellowgreen", (0, 100)),
    "deposit": ("deposit", "viridis", None),
    "reward_total": ("life reward", "redblue", None),
}

CATEGORY_COLOURS = ("#dcdcdc", "#a1887f", "#64b5f6", "#81c784", "#f48fb1", "#ffb74d", "#b39ddb")
_GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


def resident_table(source: TownSource, frame: dict) -> pd.DataFrame:
    """One row per resident of ``frame``: map position (spread around its place) and tooltip fields."""
    columns = frame["residents"]
    table = pd.DataFrame(columns)
    places = source.places.set_index("key")
    table["place_name"] = [source.place_names.get(k, k) for k in table["place"]]
    table["job_title"] = [source.job_title(j) for j in table["job"]]
    crowd = table.groupby("place").cumcount()
    size = table.groupby("place")["name"].transform("count")
    radius = 0.42 * ((crowd + 0.5) / size) ** 0.5
    radius[size == 1] = 0.0
    angle = crowd * _GOLDEN_ANGLE
    px = places.reindex(table["place"])
    table["x"] = px["x"].to_numpy() + radius.to_numpy() * angle.map(math.cos).to_numpy()
    table["y"] = px["y"].to_numpy() + radius.to_numpy() * angle.map(math.sin).to_numpy()
    return table


LABEL_FONT = 8
LABEL_CHARS = 26  # longer names are cut with "…" (the tooltip has the whole name)


def place_labels(places: pd.DataFrame, cell: float, font_size: float = LABEL_FONT) -> pd.DataFrame:
    """The public places' labels that fit without overlapping, as rows of x, y (grid units) and
    label. Greedy, shortest first (more of them fit): a label is kept if its box (about 0.6 em a character) overlaps no
    label kept before; the places left out keep their tooltips."""
    public = places[~places["category"].isin(["home", "workplace"])]
    kept_boxes, rows = [], []
    candidates = sorted(public.itertuples(index=False), key=lambda p: (len(p.name), p.x, p.y))
    for place in candidates:
        label = place.name if len(place.name) <= LABEL_CHARS else place.name[: LABEL_CHARS - 1] + "…"
        width, centre_x = 0.6 * font_size * len(label), place.x * cell
        bottom = place.y * cell - cell * 0.62 + font_size * 0.5  # drawn above its square
        box = (centre_x - width / 2, bottom - font_size, centre_x + width / 2, bottom)
        if any(_overlap(box, other) for other in kept_boxes):
            continue
        kept_boxes.append(box)
        rows.append({"x": place.x, "y": place.y, "label": label})
    return pd.DataFrame(rows, columns=["x", "y", "label"])


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def town_map_chart(source: TownSource, frame: dict, colour_by: str = "mood", size: int = 470) -> alt.LayerChart:
    """Places (squares, by category) and residents (dots, coloured by ``colour_by``)."""
    grid = source.world.grid
    cell = size / max(grid.width, grid.height)
    x = alt.X("x:Q", scale=alt.Scale(domain=[-0.5, grid.width - 0.5], nice=False), axis=None)
    y = alt.Y("y:Q", scale=alt.Scale(domain=[-0.5, grid.height - 0.5], nice=False, reverse=True), axis=None)

    places = source.places.copy()
    places["here"] = places["key"].map(pd.Series(frame["residents"]["place"]).value_counts()).fillna(0).astype(int)
    place_layer = (
        alt.Chart(places)
        .mark_square(size=(cell * 0.92) ** 2, opacity=0.85, stroke="#9e9e9e", strokeWidth=0.5)
        .encode(
            x=x, y=y,
            color=alt.Color(
                "category:N", title="place",
                scale=alt.Scale(domain=list(PLACE_CATEGORIES), range=list(CATEGORY_COLOURS)),
                legend=alt.Legend(orient="bottom", columns=4, symbolType="square"),
            ),
            tooltip=[
                alt.Tooltip("name:N", title="place"), alt.Tooltip("kind:N"), alt.Tooltip("affords:N"),
                alt.Tooltip("here:Q", title="residents here"),
            ],
        )
    )
    labels = (
        alt.Chart(place_labels(places, cell))
        .mark_text(fontSize=LABEL_FONT, dy=-cell * 0.62, color="#424242", opacity=0.8)
        .encode(x=x, y=y, text="label:N")
    )

    title, scheme, domain = COLOUR_BY.get(colour_by, COLOUR_BY["mood"])
    colour_by = colour_by if colour_by in COLOUR_BY else "mood"
    scale = alt.Scale(scheme=scheme, domain=list(domain)) if domain else alt.Scale(scheme=scheme)
    if colour_by == "reward_total":
        scale = alt.Scale(scheme=scheme, domainMid=0)
    residents = resident_table(source, frame)
    resident_layer = (
        alt.Chart(residents)
        .mark_circle(size=max(14.0, (cell * 0.42) ** 2), opacity=0.95, stroke="#263238", strokeWidth=0.6)
        .encode(
            x=x, y=y,
            color=alt.Color(f"{colour_by}:Q", title=title, scale=scale, legend=alt.Legend(orient="right")),
            tooltip=[
                alt.Tooltip("name:N"), alt.Tooltip("job_title:N", title="job"),
                alt.Tooltip("activity:N"), alt.Tooltip("place_name:N", title="at"),
                alt.Tooltip("vitality:Q"), alt.Tooltip("mood:Q"), alt.Tooltip("material:Q"),
                alt.Tooltip("social:Q"), alt.Tooltip("esteem:Q"), alt.Tooltip("deposit:Q"),
                alt.Tooltip("living_standard:N", title="living standard"),
                alt.Tooltip("reward_total:Q", title="life reward", format="+.2f"),
            ],
        )
    )
    return (
        alt.layer(place_layer, labels, resident_layer)
        .resolve_scale(color="independent")
        .properties(width=size, height=size * grid.height / grid.width, title=f"Town map: {frame['label']}")
    )
