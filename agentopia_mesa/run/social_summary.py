"""What the summary shows of the social reward: what moves.

The social reward is a resident's share of two PageRanks (affection and respect), and shares
sum to about one: its yearly mean is about 1 / residents every year by construction (0.0112 in
every year of a 90-resident run), so printing it says nothing. Its spread does move, and so do
the counts behind it: how many residents like (liked-by) and respect (respected-by) each one.
"""

from __future__ import annotations

import pandas as pd

HEADER = ("life reward by year (total: mean / sd / min / max; components: mean+-sd; social: the share's sd "
          "(its mean is ~1/residents by construction) and the liked-by and respected-by counts)")


def social_part(year_rows: pd.DataFrame) -> str:
    """"social sd 0.0875, liked-by 1.20+-0.80, respected-by 0.90+-0.70" for one year's reward rows."""
    text = f"social sd {year_rows['social'].std(ddof=0):.4f}"
    for column in ("liked_by", "respected_by"):
        if column in year_rows:
            values = year_rows[column]
            text += f", {column.replace('_', '-')} {values.mean():.2f}+-{values.std(ddof=0):.2f}"
    return text
