"""Figures (``plots``, matplotlib on the Agg canvas, imported lazily) and the
single-file HTML report (``html``).

May import the layers below it (``nn``, ``data``, ``training``, ``experiments``,
``io``, ``_validation``); never ``reglab.cli``.
"""
