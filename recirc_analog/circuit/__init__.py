"""circuit sub-package."""
