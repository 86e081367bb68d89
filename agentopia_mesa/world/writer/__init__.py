"""A world written by a language model, in steps small enough for a local one (``agentopia world new --llm``).

``answers`` says what each step's answer is (pydantic models, JSON schemas with token budgets),
``prompts`` what each step asks, ``assemble`` turns the answers into a valid ``WorldSpec`` (repairing
what a model got wrong), and ``write`` runs the steps through an LLM client, its cache and the
dispatcher.
"""
