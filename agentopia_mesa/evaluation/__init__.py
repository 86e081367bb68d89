"""Role-play evaluation (``agentopia eval roleplay``): CoSER-style given-circumstance acting.

Scenes (``scenes``) come from a world not used for training (``world_scenes``) or from a
CoSER-format test file (``coser``); each model under test plays every character of every scene
while the environment model narrates and picks who speaks (``play``); a judge model counts flaws
in four dimensions and the CoSER rule turns them into scores (``judge``, ``scoring``); means,
bootstrap intervals and A-B differences (``bootstrap``) go into a table, a plot and CSV/JSONL
files (``report``). ``roleplay.evaluate_roleplay`` runs it all through the LLM layer: every call
goes through the response cache and is recorded as a decision, so a second run replays it.
"""
