"""Scenario modules, one per room: each registers its scenarios with `@scenario` on import.
`load_all` imports every module in this package, so a new module needs no registration."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
