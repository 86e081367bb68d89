"""See the town: a Solara app (``solara run visualization/app.py``) for live runs and replays.

Modules: ``sources`` (what is drawn: a live model or a recorded run, as week frames), ``town_map``,
``network`` and ``plots`` (Altair charts from frames, no Solara), ``panels`` (Solara components),
``app`` (the pages).
"""
