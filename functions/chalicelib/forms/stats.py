"""Form analytics from counters, never from history: per version and channel how often the form
was opened and submitted (completion rate); per field how often it was answered or left blank,
and for choice and scale fields how often each value was given.

Opened is one ADD when the form is fetched to be filled; submitted is an ADD in the
submission's own transaction; the per-field counts are added by the forms room's consumer of
Form.Submitted, in chunks of at most CHUNK counters, each chunk committed with a guard item
named after the event and the chunk, so a replayed event adds nothing twice."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.counters import shard_sort_key, summed
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.pagination import drain
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, query_reader

from . import fields as field_rules
from . import logic, service
from .models import FormCounter, Submission

CHANNELS = ("portal", "link")
CHUNK = 90
GUARD_TTL_SECONDS = 45 * 24 * 3600
MAX_VALUE_LENGTH = 200


def _channel_sort(number: int, channel: str) -> str:
    return f"CH#{number:06d}#{channel}"


def _shard(tenant_id: str, form_id: str, sort: str) -> FormCounter:
    return FormCounter(FormCounter.pk(tenant_id, form_id), shard_sort_key(sort))


def _identity(tenant_id: str) -> list[Any]:
    return [FormCounter.type.set("FormCounter"), FormCounter.tenant_id.set(tenant_id)]


def count_opened(tenant_id: str, form_id: str, number: int, channel: str) -> None:
    counter = _shard(tenant_id, form_id, _channel_sort(number, channel))
    counter.update([FormCounter.opened.add(1), FormCounter.channel.set(channel), FormCounter.number.set(number),
                    *_identity(tenant_id)])


def count_submitted(tx: Transaction, tenant_id: str, form_id: str, number: int, channel: str) -> None:
    counter = _shard(tenant_id, form_id, _channel_sort(number, channel))
    tx.update(counter, [FormCounter.submitted.add(1), FormCounter.channel.set(channel),
                        FormCounter.number.set(number), *_identity(tenant_id)])


def _answer_updates(tenant_id: str, form_id: str, number: int, form_fields: list[dict[str, Any]],
                    answers: dict[str, Any]) -> list[tuple[FormCounter, list[Any]]]:
    updates: list[tuple[FormCounter, list[Any]]] = []
    for field in form_fields:
        if field["type"] == "section":
            continue
        key, value = field["key"], answers.get(field["key"])
        answered = logic.is_answered(value)
        counter = _shard(tenant_id, form_id, f"FA#{number:06d}#{key}")
        updates.append((counter, [(FormCounter.answered if answered else FormCounter.blank).add(1),
                                  FormCounter.field.set(key), *_identity(tenant_id)]))
        if not answered or field["type"] not in field_rules.DISTRIBUTED:
            continue
        for each in value if isinstance(value, list) else [value]:
            shown = field_rules.display(field, each)[:MAX_VALUE_LENGTH]
            counter = _shard(tenant_id, form_id, f"FD#{number:06d}#{key}#{shown}")
            updates.append((counter, [FormCounter.count.add(1), FormCounter.field.set(key),
                                      FormCounter.value.set(shown), *_identity(tenant_id)]))
    return updates


def count_answers(tenant_id: str, form_id: str, submission_id: str, event_id: str) -> int:
    """Add one submission's answers to the field counters (consumer of Form.Submitted): chunks
    already committed for this event are skipped. The number of counters added."""
    try:
        submission = Submission.get(Submission.pk(tenant_id, form_id), submission_id)
    except Submission.DoesNotExist:
        return 0
    version = service.load_version(tenant_id, form_id, int(submission.form_version))
    updates = _answer_updates(tenant_id, form_id, int(submission.form_version), version.fields, submission.answers)
    added = 0
    for start in range(0, len(updates), CHUNK):
        guard = FormCounter(FormCounter.pk(tenant_id, form_id), f"COUNTED#{event_id}#{start // CHUNK}",
                            type="FormCounter", tenant_id=tenant_id, expires_at=int(time.time()) + GUARD_TTL_SECONDS)
        tx = Transaction()
        tx.create(guard, lambda: Conflict("counted"))
        for counter, actions in updates[start:start + CHUNK]:
            tx.update(counter, actions)
        try:
            tx.commit()
        except Conflict:
            continue
        added += len(updates[start:start + CHUNK])
    return added


def _rate(done: int, out_of: int) -> float | None:
    return round(done / out_of, 4) if out_of else None


def analytics(principal: Principal, form_id: str, number: int | None) -> dict[str, Any]:
    require(principal, "forms:results")
    form = service.load_form(principal.tenant_id, form_id)
    if not form.published_version:
        raise NotFound(f"form {form_id} has no published version yet")
    number = number or int(form.published_version)
    if not 1 <= number <= int(form.published_version):
        raise validation_error("version", f"must be a published version, 1 to {form.published_version}")
    version = service.load_version(principal.tenant_id, form_id, number)
    pk = FormCounter.pk(principal.tenant_id, form_id)
    channel_rows = drain([query_reader(FormCounter, pk, FormCounter.SK.startswith("CH#"))], 10_000, "version")
    per = summed(channel_rows, lambda row: (int(row.number), row.channel), ("opened", "submitted"))
    versions = []
    for each in range(1, int(form.published_version) + 1):
        by_channel = {channel: per.get((each, channel), {"opened": 0, "submitted": 0}) for channel in CHANNELS}
        opened = sum(c["opened"] for c in by_channel.values())
        submitted = sum(c["submitted"] for c in by_channel.values())
        versions.append({"version": each, "opened": opened, "submitted": submitted,
                         "completion_rate": _rate(submitted, opened),
                         "channels": {channel: {**c, "completion_rate": _rate(c["submitted"], c["opened"])}
                                      for channel, c in by_channel.items()}})
    field_rows = drain([query_reader(FormCounter, pk, FormCounter.SK.startswith(f"FA#{number:06d}#"))],
                       10_000, "version")
    value_rows = drain([query_reader(FormCounter, pk, FormCounter.SK.startswith(f"FD#{number:06d}#"))],
                       10_000, "version")
    answered = summed(field_rows, lambda row: row.field, ("answered", "blank"))
    values = summed(value_rows, lambda row: (row.field, row.value), ("count",))
    fields_out = []
    for field in version.fields:
        if field["type"] == "section":
            continue
        seen = answered.get(field["key"], {"answered": 0, "blank": 0})
        total = seen["answered"] + seen["blank"]
        distribution = {value: c["count"] for (key, value), c in sorted(values.items()) if key == field["key"]}
        fields_out.append({"key": field["key"], "label": field["label"], "type": field["type"],
                           "answered": seen["answered"], "blank": seen["blank"],
                           "blank_rate": _rate(seen["blank"], total),
                           "distribution": distribution if field["type"] in field_rules.DISTRIBUTED else None})
    current = versions[number - 1]
    return {"form_id": form_id, "version": number, "opened": current["opened"], "submitted": current["submitted"],
            "completion_rate": current["completion_rate"], "channels": current["channels"],
            "fields": fields_out, "versions": versions}
