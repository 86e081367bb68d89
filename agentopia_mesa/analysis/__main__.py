"""``python -m agentopia_mesa.analysis RUN_OR_SWEEP_DIR``: the same as ``agentopia analyze``."""

import sys

from agentopia_mesa.cli.analyze import add_analyze_parser, standalone_main

if __name__ == "__main__":
    sys.exit(standalone_main(add_analyze_parser, "analyze"))
