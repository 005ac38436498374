"""Scenario modules, one per room: each registers its scenarios with `@scenario` on import.
`load_all` imports every module in this package, so a new module needs no registration."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> dict[str, str]:
    """Import every scenario module; a module that fails to import (a room's work in
    progress) is left out and named, with its error, rather than stopping the others."""
    unloaded = {}
    for module in pkgutil.iter_modules(__path__):
        try:
            importlib.import_module(f"{__name__}.{module.name}")
        except Exception as broken:
            unloaded[module.name] = f"{type(broken).__name__}: {broken}"
    return unloaded
