"""A run directory and everything that reads or writes it: layout, builder, session, checkpoints, recorders, reader."""
