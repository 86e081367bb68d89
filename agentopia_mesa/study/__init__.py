"""Studies: the paper's whole loop as one resumable experiment (``agentopia study``).

A study file (``experiments/laptop.toml``, ``experiments/paper.toml``) names generation 0's towns,
how their lives become training data, how the model is tuned, generation 1's mixed towns, the
role-play evaluation and ablations. ``spec`` reads and checks it, ``costs`` says what it will cost,
``steps`` records each finished step with the hash of its inputs, ``runner`` runs the steps,
``training`` tunes the model through one of three backends and ``report`` writes ``report.md``.
"""
