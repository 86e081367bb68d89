"""The ``agentopia analyze`` sub-command."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_analyze_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``analyze RUN_OR_SWEEP_DIR [--out DIR]`` on an argparse sub-parsers object."""
    parser = subparsers.add_parser(
        "analyze", help="emergent-behaviour measures, figures and a report for a run or sweep directory",
        description="Network density, clustering and communities, Gini of deposits, social mobility, relationships "
                    "formed and dissolved, innate fields vs life reward, reward components by year; for sweeps, "
                    "each measure against each swept parameter with 95 % intervals.",
    )
    parser.add_argument("path", type=Path, metavar="RUN_OR_SWEEP_DIR", help="a run directory (agentopia run) or a sweep directory (agentopia sweep)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the report (default: RUN_OR_SWEEP_DIR/analysis)")
    parser.set_defaults(handler=_analyze)
    return parser


def _analyze(args) -> int:
    from agentopia_mesa.analysis.analyzer import analyze

    report = analyze(args.path, args.out)
    print(f"report: {report}")
    print(f"markdown: {report.with_suffix('.md')}")
    return 0


def standalone_main(add_parser, command: str, argv: list[str] | None = None) -> int:
    """Run one sub-command outside ``agentopia`` (``python -m agentopia_mesa.analysis DIR``), with
    the CLI's error contract: bad input is one line on stderr and exit code 2."""
    import sys

    from agentopia_mesa.cli.parsing import Parser, handle

    parser = Parser(prog="agentopia")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return handle(parser.parse_args([command, *(sys.argv[1:] if argv is None else argv)]))
