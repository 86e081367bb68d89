"""Take the manual's pictures again, with one command:

    python docs/gen_pictures.py              # all of them (the browser part needs .ci/install-browser.sh)
    python docs/gen_pictures.py --no-browser # only the plots: overview.png and a study's figures

- ``viz-live.png``, ``viz-replay.png``, ``viz-conversation.png``: the screenshots that
  ``tests/test_viz_browser.py`` takes in headless Chromium (run here with ``CI=true``, so a missing
  browser fails instead of skipping);
- ``overview.png``: what ``agentopia run`` writes for a 30-resident rules town of three years;
- ``study-generation0.png``, ``study-roleplay.png``: the report figures of the micro-study that
  ``docs/tutorials/study-on-a-laptop.md`` runs on the fake backend.

Each is shrunk to at most ``WIDTH`` pixels and a 128-colour palette, so the manual's pictures stay
a few hundred KB in all.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
IMAGES = DOCS / "images"
WIDTH = 900


def shrink(source: Path, target: Path, width: int = WIDTH, crop_height: int | None = None) -> None:
    """``source`` as a palette PNG of at most ``width`` pixels (and ``crop_height`` of its top) at ``target``."""
    from PIL import Image

    image = Image.open(source).convert("RGB")
    if crop_height and image.height > crop_height:
        image = image.crop((0, 0, image.width, crop_height))
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def _agentopia(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "agentopia_mesa", *args], cwd=cwd, check=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)})


def plots(folder: Path) -> None:
    _agentopia("run", "--world", "school", "--residents", "30", "--years", "3", "--seed", "1", "--out", "town", "--quiet",
               cwd=folder)
    shrink(folder / "town" / "overview.png", IMAGES / "overview.png")
    tutorial = (DOCS / "tutorials" / "study-on-a-laptop.md").read_text(encoding="utf-8")
    study = re.search(r"cat > micro.toml <<'EOF'\n(.*?)^EOF$", tutorial, re.S | re.M).group(1)
    (folder / "micro.toml").write_text(study, encoding="utf-8")
    _agentopia("study", "run", "micro.toml", "--out", "micro", "--quiet", cwd=folder)
    shrink(folder / "micro" / "generation0.png", IMAGES / "study-generation0.png")
    shrink(folder / "micro" / "evaluation" / "summary.png", IMAGES / "study-roleplay.png")


def screenshots(folder: Path) -> None:
    env = {**os.environ, "CI": "true", "AGENTOPIA_ARTIFACTS": str(folder)}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_viz_browser.py",
                    "-k", "live_town_steps or replay_scrubs"], cwd=REPO, env=env, check=True)
    shrink(folder / "viz.png", IMAGES / "viz-live.png", crop_height=1500)
    shrink(folder / "viz-replay.png", IMAGES / "viz-replay.png", crop_height=1500)
    shrink(folder / "viz-conversation.png", IMAGES / "viz-conversation.png", width=700)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take the manual's pictures again (docs/images/).")
    parser.add_argument("--no-browser", action="store_true", help="only the plots, not the viewer's screenshots")
    args = parser.parse_args(argv)
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        plots(Path(folder))
        if not args.no_browser:
            screenshots(Path(folder))
    total = sum(p.stat().st_size for p in IMAGES.glob("*.png"))
    print(f"docs/images: {len(list(IMAGES.glob('*.png')))} pictures, {total // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
