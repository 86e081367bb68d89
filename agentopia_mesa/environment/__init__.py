"""The environment: the world's judge (paper §2.4): activity outcomes, public events and encounters, careers."""
