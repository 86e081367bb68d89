import sys

from agentopia_mesa.cli.main import main

sys.exit(main())
