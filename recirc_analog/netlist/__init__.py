"""netlist sub-package."""
