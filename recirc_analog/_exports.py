"""Lazy public names for the sub-packages (PEP 562), so ``import recirc_analog.X`` stays cheap.

A sub-package's ``__init__`` lists its public names and the module each lives in;
the module is imported on first use of a name. ``recirc-analog --help`` thus
imports no NumPy, SciPy or networkx, while ``from recirc_analog.reference import
Trainer`` works as if the name were defined in the package.
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__all__, __getattr__, __dir__)`` for ``package``; ``exports`` maps name -> sub-module (relative)."""

    def __getattr__(name: str):
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | set(vars(importlib.import_module(package))))

    return sorted(exports), __getattr__, __dir__
