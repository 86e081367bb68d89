"""The `agentopia` command: one module per subcommand group (main holds the parser and `run`/`resume`/`branch`)."""
