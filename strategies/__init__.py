"""Stateless strategy modules the engine loads and hot-reloads.

Dependency (and reload) order: ``ta_engine`` -> ``momentum_strategy`` ->
``strategy``. Siblings import each other as ``from strategies import ta_engine``
so that a reload which replaces a leaf module is seen by its dependants. See
``docs/strategy-api.md`` for the contract and its rules: no module-level mutable
state, no I/O, no threads, no import of ``engine`` or ``foresight_tui``.
"""
