"""Opaque, URL-safe, time-sortable identifiers (ULIDs)."""

from __future__ import annotations

from ulid import ULID


def new_id() -> str:
    return str(ULID()).lower()
