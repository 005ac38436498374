"""Safe placeholder rendering for canned responses: no template engine, one regex pass over a
fixed whitelist. Values are inserted as plain text and never scanned again, so a customer
named `{{agent.name}}` stays exactly that."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS = ("customer.name", "contact.first_name", "ticket.id", "agent.name")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")


class MissingPlaceholder(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"placeholder {{{{{name}}}}} has no value for this ticket")
        self.name = name


def placeholders_in(text: str) -> list[str]:
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def unknown_placeholders(text: str) -> list[str]:
    return [name for name in placeholders_in(text) if name not in PLACEHOLDERS]


def render(text: str, values: Mapping[str, str | None]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if name not in PLACEHOLDERS or not value:
            raise MissingPlaceholder(name)
        return value

    return _PLACEHOLDER.sub(substitute, text)


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """The same one-pass substitution for text whose placeholders were checked when it was saved
    (form actions: `{{answers.<key>}}`): an empty answer fills as nothing; values are inserted as
    plain text and never scanned again."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1)) or "", text)
