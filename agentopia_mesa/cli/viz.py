"""``agentopia viz``: see the town in a browser, a live run or a recorded one.

It starts ``solara run visualization/app.py`` (a Solara server) and tells you where to point the
browser. Solara's page loads its browser libraries from a public CDN; the first ``agentopia viz``
puts them in Solara's local cache from the npm registry (``--fetch-assets`` does only that), so a
machine that reaches only package registries can show the page; offline it says so and goes on.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from agentopia_mesa.run.layout import RunLayout

APP_ENV = "AGENTOPIA_VIZ_APP"  # where the app is, when neither the repo nor the cwd has it
REPLAY_ENV = "AGENTOPIA_REPLAY"  # the run directory the replay page opens first


class VizError(ValueError):
    """The viewer cannot start: one line saying why and what to do."""


def add_viz_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``agentopia viz [--replay RUN_DIR] [--port N] [--host H]`` to the command's subparsers."""
    viz = subparsers.add_parser("viz", help="see the town in a browser: a live run, or --replay RUN_DIR")
    viz.add_argument("--replay", type=Path, default=None, metavar="RUN_DIR",
                     help="open this run directory (it needs replay.jsonl) on the replay page")
    viz.add_argument("--port", type=int, default=8765, help="port of the Solara server (default: 8765)")
    viz.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    viz.add_argument("--open", action="store_true", help="also open a browser window")
    viz.add_argument("--fetch-assets", action="store_true",
                     help="put Solara's browser libraries in its local cache from the npm registry, then exit")
    viz.set_defaults(handler=run_viz)
    return viz


def find_app() -> Path:
    """visualization/app.py: $AGENTOPIA_VIZ_APP, next to the package (a source checkout), or under the cwd."""
    candidates = []
    if os.environ.get(APP_ENV):
        candidates.append(Path(os.environ[APP_ENV]))
    candidates.append(Path(__file__).resolve().parent.parent / "visualization" / "app.py")
    candidates.append(Path.cwd() / "visualization" / "app.py")
    for path in candidates:
        if path.is_file():
            return path
    raise VizError(
        "visualization/app.py not found: run from a source checkout of agentopia-mesa or set "
        f"{APP_ENV}=/path/to/visualization/app.py"
    )


def solara_command(app: Path, host: str, port: int, open_browser: bool = False) -> list[str]:
    if importlib.util.find_spec("solara") is None:
        raise VizError("solara is not installed: pip install 'mesa[viz]' (or reinstall agentopia-mesa)")
    command = [sys.executable, "-m", "solara", "run", str(app), "--host", host, "--port", str(port), "--production"]
    return [*command, "--open" if open_browser else "--no-open"]


def viz_environment(replay: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no phoning home from closed networks
    if replay is not None:
        env[REPLAY_ENV] = str(replay.resolve())
    return env


def run_viz(args) -> int:
    if args.fetch_assets:
        for line in fetch_browser_assets():
            print(line)
        return 0
    replay = args.replay
    if replay is not None and not RunLayout(replay).replay.is_file():
        raise VizError(f"--replay: {replay} has no replay.jsonl; pass a run directory written by `agentopia run`")
    command = solara_command(find_app(), args.host, args.port, args.open)
    ensure_browser_assets()
    page = "replay" if replay is not None else ""
    print(f"agentopia viz: open http://{args.host}:{args.port}/{page}  (Ctrl-C stops the server)", flush=True)
    return run_until_stopped(command, viz_environment(replay))


#: How long the server gets to stop after a forwarded signal before it is killed.
STOP_GRACE_S = 10.0


def run_until_stopped(command: list[str], env: dict[str, str] | None) -> int:
    """Run the server ``command`` and return its exit code. SIGTERM and SIGHUP to this process are
    passed on to the server (else the server would outlive ``agentopia viz`` and keep answering on
    its port); Ctrl-C reaches both through the terminal. A server still running ``STOP_GRACE_S``
    after a signal is killed."""
    import signal
    import time

    child = subprocess.Popen(command, env=env)
    stop_at: list[float] = []

    def forward(signum, frame):
        if child.poll() is None:
            child.send_signal(signum)
        stop_at.append(time.monotonic() + STOP_GRACE_S)

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, forward)
        except ValueError:  # not the main thread: no forwarding
            pass
    interrupted = False
    try:
        while True:
            try:
                code = child.wait(timeout=0.2)
                return 130 if interrupted else (128 - code if code < 0 else code)  # killed by signal N: 128 + N
            except subprocess.TimeoutExpired:
                if stop_at and time.monotonic() > stop_at[0]:
                    child.kill()
            except KeyboardInterrupt:  # the server got the Ctrl-C too; give it its grace time
                interrupted = True
                stop_at.append(time.monotonic() + STOP_GRACE_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- browser assets -------------------------------------------------------------------------------
_CDN_REFERENCE = re.compile(r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/([^\"'`\s{]+)")


def _solara_dir() -> Path:
    spec = importlib.util.find_spec("solara")
    if spec is None or spec.origin is None:
        raise VizError("solara is not installed: pip install 'mesa[viz]'")
    return Path(spec.origin).parent


def _cache_dir() -> Path:
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def browser_asset_files() -> dict[str, list[str]]:
    """npm package@version -> files under it that the app's page asks Solara's CDN proxy for."""
    solara_dir = _solara_dir()
    try:
        vue3 = int(version("ipyvue").split(".")[0]) >= 3
    except PackageNotFoundError:
        vue3 = True
    wanted: dict[str, list[str]] = {"font-awesome@4.5.0": ["css/font-awesome.min.css"]}
    sources = [
        solara_dir / "server" / "templates" / "solara.html.j2",
        solara_dir / "widgets" / "vue" / "vegalite.vue",
        solara_dir / "components" / "markdown.py",
    ]
    for source in sources:
        for package, file in _CDN_REFERENCE.findall(source.read_text(encoding="utf-8")):
            if package.startswith("@widgetti/solara-vuetify") and ("vuetify3" in package) != vue3:
                continue  # the template offers one app for Vue 2 and one for Vue 3
            wanted.setdefault(package, []).append(file)
    return wanted


def missing_browser_assets() -> list[str]:
    try:
        cache = _cache_dir()
        wanted = browser_asset_files()
    except Exception:  # noqa: BLE001 - a hint only; never stop the viewer over it
        return []
    return [package for package, files in wanted.items() if not all((cache / package / f).exists() for f in files if "." in f)]


def ensure_browser_assets() -> None:
    """On the first ``agentopia viz``: fetch Solara's browser libraries into its cache. Offline
    (or without npm) say so in one line and go on: the page then loads them from the CDN, which
    works wherever the browser can reach it."""
    missing = missing_browser_assets()
    if not missing:
        return
    print(f"agentopia viz: fetching {len(missing)} browser libraries into Solara's cache (once) ...", file=sys.stderr,
          flush=True)
    try:
        fetch_browser_assets()
    except (VizError, OSError, subprocess.SubprocessError) as exc:
        print(f"agentopia viz: could not fetch them ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
              "the page will load them from the CDN (cdn.jsdelivr.net) instead, so this browser needs the internet; "
              "to cache them later: agentopia viz --fetch-assets", file=sys.stderr)


#: How long one ``npm pack`` may take (an offline machine fails faster, a slow registry not).
NPM_TIMEOUT_S = 120


def fetch_browser_assets() -> list[str]:
    """Fetch each missing package with ``npm pack`` and unpack it into Solara's CDN cache."""
    npm = shutil.which("npm")
    missing = missing_browser_assets()
    if not missing:
        return ["agentopia viz: browser libraries already cached"]
    if npm is None:
        raise VizError("npm not found: install Node.js to fetch Solara's browser libraries from the npm registry")
    cache = _cache_dir()
    done = []
    with tempfile.TemporaryDirectory() as work:
        for package in missing:
            try:
                result = subprocess.run([npm, "pack", "--silent", package], cwd=work, capture_output=True, text=True,
                                        timeout=NPM_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise VizError(f"npm pack {package} gave no answer in {NPM_TIMEOUT_S} s (offline?)") from None
            if result.returncode != 0:
                raise VizError(f"npm pack {package} failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")
            tarball = Path(work) / result.stdout.strip().splitlines()[-1]
            whole = package.startswith(_WHOLE_PACKAGES)
            _unpack(tarball, cache / package, None if whole else browser_asset_files()[package])
            done.append(f"agentopia viz: cached {package}")
    return done


# Packages whose files load more files (chunks, fonts): unpack whole. Others: only the files asked for.
_WHOLE_PACKAGES = ("@widgetti/", "font-awesome@", "katex@")


def _unpack(tarball: Path, target: Path, files: list[str] | None) -> None:
    """Unpack an npm tarball's ``package/`` (or just ``files`` of it) into ``target``, atomically."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    wanted = None if files is None else {f"package/{f}" for f in files} | {f"package/{f.replace('.min.', '.')}" for f in files}
    with tarfile.open(tarball) as archive:
        members = [
            m for m in archive.getmembers()
            if m.isfile() and m.name.startswith("package/") and not m.name.endswith(".map")
            and (wanted is None or m.name in wanted)
        ]
        for member in members:
            member.name = member.name.removeprefix("package/")
        archive.extractall(staging, members=members, filter="data")
    for file in files or []:
        # The CDN minifies on request (require.min.js); npm ships only the plain file.
        plain = staging / file.replace(".min.", ".")
        if not (staging / file).exists() and plain.is_file():
            shutil.copyfile(plain, staging / file)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def main(argv: list[str] | None = None) -> int:
    """``python -m agentopia_mesa.cli.viz [viz options]`` (the same as ``agentopia viz``)."""
    from agentopia_mesa.cli.parsing import Parser

    parser = Parser(prog="agentopia")
    add_viz_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["viz", *(argv if argv is not None else sys.argv[1:])])
    try:
        return args.handler(args)
    except VizError as exc:
        print(f"agentopia: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
