"""The argument parser every ``agentopia`` command uses.

- No abbreviations: ``--year 3`` is an error, not ``--years 3`` (``allow_abbrev=False``, passed on
  to every sub-parser, since sub-parsers are made of their parent's class).
- An unknown option is reported by the sub-command it was given to, with that sub-command's
  usage (``agentopia run --yeers 3`` shows ``run``'s usage, not the top-level one).
"""

from __future__ import annotations

import argparse
import errno
import sys


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, allow_abbrev: bool = False, **kwargs):
        super().__init__(*args, allow_abbrev=allow_abbrev, **kwargs)

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            innermost(self, parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def innermost(parser: argparse.ArgumentParser, parsed: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub-)sub-command parser that ``parsed`` went through, e.g. the one of ``world check``."""
    while True:
        chosen = None
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                name = getattr(parsed, action.dest or "", None)
                chosen = action.choices.get(name) if name is not None else None
        if chosen is None:
            return parser
        parser = chosen


def handle(args: argparse.Namespace, errors: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError)) -> int:
    """Run the parsed command's handler under the CLI's error contract: bad input (``errors``) and a
    file that cannot be read or written are one line on stderr and exit code 2, a full disk one line
    and exit code 75; Ctrl-C is one line and exit code 130."""
    try:
        return args.handler(args)
    except errors as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"agentopia: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be written or read: one line too, --quiet or not
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            from agentopia_mesa.run.session import DISK_FULL_EXIT  # as a run stopped by a full disk

            print(f"agentopia: disk full{where}: free some space and run the command again", file=sys.stderr)
            return DISK_FULL_EXIT
        print(f"agentopia: error: {exc.strerror or type(exc).__name__}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("agentopia: interrupted", file=sys.stderr)
        return 130
