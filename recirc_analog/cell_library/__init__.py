"""The hand-written SPICE cells as package data (``*.lib``), read through :mod:`importlib.resources`.

The top-level ``circuits/`` folder holds the same files beside their testbenches
for chip designers to browse; ``tests/test_cells_library.py`` keeps the copies identical.
"""
