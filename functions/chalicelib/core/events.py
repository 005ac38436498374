"""Domain events: the one envelope, the declared event types, and the outbox item that carries
a transaction's events to the relay.

- An event type is declared once, as a subclass of `EventData` naming its `TYPE`
  (`<Entity>.<PastTenseVerb>`) and `SOURCE` (`bluehill.<capability>`): its fields are the
  event's `data`. Publishers build it, consumers read it (`event.typed()`), tests and the
  catalog (`catalog()`) are generated from it.
- `Event` is the envelope every event travels in: `id` (a ULID: unique, time-sortable, the
  idempotency key downstream), `type`, `source`, `occurred_at`, `tenant_id`, `actor`,
  `schema_version`, `data`.
- A write publishes by `tx.publish(event)` on the transaction it already makes; at commit the
  transaction carries one `OutboxItem` with all of its events (see core/table.py). Nothing is
  published "after commit": the relay (core/relay.py) reads committed outbox items from the
  table's stream and puts them on the bus.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.ids import new_id
from chalicelib.core.table import TableItem, now_iso, tenant_key

ActorType = Literal["user", "portal", "system", "automation", "email", "api_key"]
SOURCE_PREFIX = "bluehill."


class Actor(BaseModel):
    """Who caused the event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ActorType
    id: str | None = None


SYSTEM_ACTOR = Actor(type="system")
_actor: ContextVar[Actor] = ContextVar("bluehill_actor", default=SYSTEM_ACTOR)


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Events built inside carry this actor (a request's caller, a consumer's automation)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


# ---------- declared event types ----------

D = TypeVar("D", bound="EventData")

EVENT_TYPES: dict[str, type[EventData]] = {}


class Change(BaseModel):
    """One field's value before and after a change."""

    model_config = ConfigDict(extra="forbid")

    before: Any = None
    after: Any = None


class EventData(BaseModel):
    """The `data` of one event type. A subclass declares `TYPE` and `SOURCE` (SOURCE usually from
    its room's base class, one without a TYPE; and, when its
    shape changes incompatibly, a higher `SCHEMA_VERSION`); its docstring is the catalog's
    description. Declaring a type twice is an error."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    TYPE: ClassVar[str]
    SOURCE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        event_type, source = cls.__dict__.get("TYPE"), getattr(cls, "SOURCE", None)  # a room base may give SOURCE
        if event_type is None:
            return  # an abstract base shared by several types
        entity, _, verb = event_type.partition(".")
        if not (entity[:1].isupper() and verb[:1].isupper()):
            raise TypeError(f"{cls.__name__}: event type {event_type!r} is not <Entity>.<PastTenseVerb>")
        if not (isinstance(source, str) and source.startswith(SOURCE_PREFIX)):
            raise TypeError(f"{cls.__name__}: source {source!r} is not bluehill.<capability>")
        if event_type in EVENT_TYPES and EVENT_TYPES[event_type].__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {event_type} is declared twice ({EVENT_TYPES[event_type].__name__})")
        EVENT_TYPES[event_type] = cls

    def event(self, tenant_id: str, actor: Actor | None = None) -> Event:
        """This data in a new envelope (a new id, now, the current actor)."""
        return Event(
            id=new_id(), type=self.TYPE, source=self.SOURCE, occurred_at=now_iso(), tenant_id=tenant_id,
            actor=actor or current_actor(), schema_version=self.SCHEMA_VERSION,
            data=self.model_dump(mode="json", by_alias=True),
        )

    @classmethod
    def description(cls) -> str:
        return " ".join((cls.__doc__ or "").split())


class Event(BaseModel):
    """The envelope every domain event travels in, on the bus as the `detail`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="ULID: unique, time-sortable; consumers' idempotency key")
    type: str = Field(description="<Entity>.<PastTenseVerb>, the EventBridge detail-type")
    source: str = Field(description="bluehill.<capability>, the EventBridge source")
    occurred_at: str
    tenant_id: str
    actor: Actor
    schema_version: int
    data: dict[str, Any]

    def typed(self) -> EventData:
        """The data as its declared model."""
        return EVENT_TYPES[self.type].model_validate(self.data)

    def data_as(self, model: type[D]) -> D:
        """The data as `model`, which must be this event's declared type."""
        if self.type != model.TYPE:
            raise ValueError(f"a {self.type} event is not a {model.TYPE}")
        return model.model_validate(self.data)

    def entry(self, bus_name: str) -> dict[str, Any]:
        """A PutEvents entry for this event."""
        return {"Source": self.source, "DetailType": self.type, "Detail": self.model_dump_json(),
                "EventBusName": bus_name}

    @classmethod
    def from_bus(cls, message: dict[str, Any]) -> Event:
        """The envelope of an EventBridge event (as a rule's target receives it)."""
        detail = message["detail"]
        return cls.model_validate(json.loads(detail) if isinstance(detail, str) else detail)


def declared(event_type: str) -> type[EventData]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError as unknown:
        raise KeyError(f"event type {event_type} is not declared") from unknown


def new_event(tenant_id: str, event_type: str, data: dict[str, Any]) -> Event:
    """An event of a declared type, its data validated by the declaration."""
    return declared(event_type).model_validate(data).event(tenant_id)


def actor_of(user_id: str, role: str) -> Actor:
    """The actor a principal's writes carry."""
    if role == "portal":
        return Actor(type="portal", id=user_id)
    if role == "system":
        return Actor(type="system", id=user_id)
    if user_id in ("automation", "auto"):
        return Actor(type="automation", id=user_id)
    return Actor(type="user", id=user_id)


def catalog() -> list[dict[str, Any]]:
    """Every declared event type: type, source, schema version, description, JSON Schema."""
    return [
        {"type": name, "source": model.SOURCE, "schema_version": model.SCHEMA_VERSION,
         "description": model.description(), "json_schema": model.model_json_schema(by_alias=True)}
        for name, model in sorted(EVENT_TYPES.items())
    ]


# ---------- the outbox ----------

OUTBOX = "OUTBOX"
MAX_OUTBOX_BYTES = 300_000  # of events' JSON per outbox item, under DynamoDB's 400 KB item limit
DELIVERED_TTL_SECONDS = 24 * 3600  # a delivered outbox item stays a day (for `bluehill events`), then expires


class OutboxItem(TableItem):
    """The events of one committed transaction, in the tenant's outbox partition. Written in
    the transaction (so it exists exactly when the change does); the relay marks it delivered,
    which sets its TTL."""

    SORT_PREFIX = "EVT#"

    events = UnicodeAttribute()  # JSON list of envelopes
    created_at = UnicodeAttribute()
    delivered_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, OUTBOX)

    @classmethod
    def carrying(cls, events: list[Event]) -> OutboxItem:
        tenant = events[0].tenant_id
        if any(event.tenant_id != tenant for event in events):
            raise ValueError("an outbox item carries one tenant's events")
        return cls(cls.pk(tenant), f"{cls.SORT_PREFIX}{events[0].id}", type="OutboxItem", tenant_id=tenant,
                   created_at=now_iso(), events=json.dumps([event.model_dump(mode="json") for event in events]))

    @classmethod
    def for_events(cls, events: list[Event]) -> list[OutboxItem]:
        """The outbox items of one transaction's events: one per tenant, unless its events pass
        MAX_OUTBOX_BYTES (DynamoDB's items stop at 400 KB), then as few as hold them."""
        items: list[OutboxItem] = []
        by_tenant: dict[str, list[Event]] = {}
        for event in events:
            by_tenant.setdefault(event.tenant_id, []).append(event)
        for tenant_events in by_tenant.values():
            chunk: list[Event] = []
            size = 0
            for event in tenant_events:
                length = len(event.model_dump_json())
                if chunk and size + length > MAX_OUTBOX_BYTES:
                    items.append(cls.carrying(chunk))
                    chunk, size = [], 0
                chunk.append(event)
                size += length
            items.append(cls.carrying(chunk))
        return items

    @staticmethod
    def events_of(raw_events: str) -> list[Event]:
        return [Event.model_validate(entry) for entry in json.loads(raw_events)]
