import sys

from agentopia_mesa.cli import main

sys.exit(main())
