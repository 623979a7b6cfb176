"""cosim sub-package."""
