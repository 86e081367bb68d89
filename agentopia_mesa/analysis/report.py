"""A report as a list of blocks, written as Markdown (images beside it) and as one
self-contained HTML file (images inlined), so it can be mailed or attached as is."""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Report:
    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("heading", (level, text)))

    def text(self, text: str) -> None:
        self.blocks.append(("text", text))

    def bullets(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("bullets", items))

    def table(self, frame: pd.DataFrame, digits: int = 3) -> None:
        if frame is not None and not frame.empty:
            self.blocks.append(("table", (frame, digits)))

    def figure(self, path: Path, caption: str) -> None:
        self.blocks.append(("figure", (Path(path), caption)))

    def write(self, out: Path) -> tuple[Path, Path]:
        """Write ``report.md`` and ``report.html`` into ``out``; returns both paths."""
        md, page = out / "report.md", out / "report.html"
        md.write_text(self.markdown(out), encoding="utf-8")
        page.write_text(self.html(), encoding="utf-8")
        return md, page

    def markdown(self, relative_to: Path) -> str:
        lines = [f"# {self.title}", ""]
        for kind, value in self.blocks:
            if kind == "heading":
                level, text = value
                lines += ["#" * level + " " + text, ""]
            elif kind == "text":
                lines += [value, ""]
            elif kind == "bullets":
                lines += [f"- {item}" for item in value] + [""]
            elif kind == "table":
                lines += [_markdown_table(*value), ""]
            elif kind == "figure":
                path, caption = value
                lines += [f"![{caption}]({_relative(path, relative_to)})", "", f"*{caption}*", ""]
        return "\n".join(lines)

    def html(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "heading":
                level, text = value
                body.append(f"<h{level}>{html.escape(text)}</h{level}>")
            elif kind == "text":
                body.append(f"<p>{html.escape(value)}</p>")
            elif kind == "bullets":
                body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in value) + "</ul>")
            elif kind == "table":
                frame, digits = value
                body.append(frame.to_html(index=False, float_format=lambda x, d=digits: _number(x, d), na_rep="", border=0))
            elif kind == "figure":
                path, caption = value
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                body.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                            f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        return _PAGE.format(title=html.escape(self.title), body="\n".join(body))


def _number(x, digits: int) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return ""
        return f"{x:.{digits}f}" if abs(x) < 10_000 else f"{x:.0f}"
    return str(x)


def _markdown_table(frame: pd.DataFrame, digits: int) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_number(v, digits) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }}
th {{ background: #f4f4f4; }}
img {{ max-width: 100%; }}
figcaption {{ font-style: italic; color: #555; }}
</style></head>
<body>
{body}
</body></html>
"""
