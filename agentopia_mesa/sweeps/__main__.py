"""``python -m agentopia_mesa.sweeps CONFIG``: the same as ``agentopia sweep CONFIG``."""

import sys

from agentopia_mesa.cli.analyze import standalone_main
from agentopia_mesa.cli.sweep import add_sweep_parser

if __name__ == "__main__":
    sys.exit(standalone_main(add_sweep_parser, "sweep"))
