"""Event delivery on the local stack and in the in-process tests, the way AWS delivers: the
relay (chalicelib.core.relay, the deployed relay's own code) reads the table's stream through
the standard DynamoDB Streams API (moto, DynamoDB Local), puts the events on the bus, and each
event goes to every consumer the registry (chalicelib.core.consumers) matches — through the
same idempotent `deliver` the deployed consumer functions call.

A consumer that raises is retried with backoff; after its last attempt the delivery is parked
in the local dead-letter store (`<dir>/dlq/<id>.json`, `bluehill events dlq` / `redrive`).
Every relayed event is appended to `<dir>/archive.jsonl` (`bluehill events replay`) and every
delivery to `<dir>/deliveries.jsonl` (`bluehill events tail`). The stream position is
checkpointed in `<dir>/checkpoint.json` only after a batch is delivered: a relay killed half way
reads the batch again on its next start (at least once; consumers are idempotent)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.core import relay
from chalicelib.core.consumers import CONSUMERS, Consumer, DeliveryInProgress, consumers_of, deliver
from chalicelib.core.events import EVENT_TYPES, Event
from chalicelib.core.ids import new_id
from chalicelib.core.table import now_iso

ATTEMPTS = 4
BACKOFF_SECONDS = 0.1  # 0.1, 0.2, 0.4 s between the attempts
IN_PROGRESS_WAIT_SECONDS = 30.0  # how long a copy waits for another copy of the event being handled


def _endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL") or None


class StreamReader:
    """The table's stream, shard by shard, from a checkpoint (the last sequence number acted on
    in each shard) or from the stream's start."""

    def __init__(self, table_name: str, checkpoint: dict[str, str] | None = None) -> None:
        import boto3

        self._dynamodb = boto3.client("dynamodb", endpoint_url=_endpoint())
        # The classic regional endpoint when no local one is set (in-process moto): botocore would
        # otherwise pick the account-based one, which moto does not serve.
        region = self._dynamodb.meta.region_name
        self._streams = boto3.client("dynamodbstreams",
                                     endpoint_url=_endpoint() or f"https://streams.dynamodb.{region}.amazonaws.com")
        self.table_name = table_name
        self.checkpoint: dict[str, str] = dict(checkpoint or {})
        self._iterators: dict[str, str | None] = {}
        self.calls = 0

    def _shards(self) -> list[str]:
        arn = self._dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        self.calls += 1
        shards, start = [], None
        while True:
            kwargs = {"ExclusiveStartShardId": start} if start else {}
            description = self._streams.describe_stream(StreamArn=arn, **kwargs)["StreamDescription"]
            self.calls += 1
            shards += [(arn, shard["ShardId"]) for shard in description.get("Shards", [])]
            start = description.get("LastEvaluatedShardId")
            if not start:
                break
        self._arn = arn
        return [shard_id for _, shard_id in shards]

    def _iterator(self, shard_id: str, kind: str, sequence: str | None = None) -> str:
        kwargs: dict[str, Any] = {"SequenceNumber": sequence} if sequence else {}
        self.calls += 1
        return self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=kind,
                                                **kwargs)["ShardIterator"]

    def skip_to_end(self) -> None:
        """Read from now on: what is already in the stream is left unread."""
        for shard_id in self._shards():
            self._iterators[shard_id] = self._iterator(shard_id, "LATEST")

    def read(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """The records not yet read, per shard, in order."""
        batches = []
        for shard_id in self._shards():
            if shard_id not in self._iterators:
                acked = self.checkpoint.get(shard_id)
                self._iterators[shard_id] = (self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", acked) if acked
                                             else self._iterator(shard_id, "TRIM_HORIZON"))
            iterator, records = self._iterators[shard_id], []
            while iterator:
                answer = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                self.calls += 1
                records += answer.get("Records", [])
                iterator = answer.get("NextShardIterator")
                if not answer.get("Records"):
                    break
            self._iterators[shard_id] = iterator
            if records:
                batches.append((shard_id, records))
        return batches

    def acknowledge(self, shard_id: str, sequence: str) -> None:
        self.checkpoint[shard_id] = sequence

    def rewind(self, shard_id: str, sequence: str) -> None:
        """Read this shard again from `sequence` (a record that could not be delivered)."""
        self._iterators[shard_id] = self._iterator(shard_id, "AT_SEQUENCE_NUMBER", sequence)


@dataclass
class Parked:
    id: str
    consumer: str
    event: dict[str, Any]
    error: str
    attempts: int
    parked_at: str


@dataclass
class Delivered:
    event: Event
    outcomes: dict[str, str] = field(default_factory=dict)  # consumer -> applied | duplicate | parked


class LocalStore:
    """The dead-letter store, the archive and the delivery log, as files under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (directory / "dlq").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _append(self, name: str, entry: dict[str, Any]) -> None:
        with self._lock, (self.directory / name).open("a") as log:
            log.write(json.dumps(entry, default=str) + "\n")

    def archive(self, event: Event) -> None:
        self._append("archive.jsonl", event.model_dump(mode="json"))

    def archived(self) -> list[Event]:
        path = self.directory / "archive.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [Event.model_validate_json(line) for line in lines if line.strip()]

    def log(self, delivered: Delivered) -> None:
        event = delivered.event
        self._append("deliveries.jsonl", {"at": now_iso(), "type": event.type, "tenant_id": event.tenant_id,
                                          "id": event.id, "outcomes": delivered.outcomes})

    def park(self, parked: Parked) -> None:
        (self.directory / "dlq" / f"{parked.id}.json").write_text(json.dumps(asdict(parked), indent=2))

    def parked(self) -> list[Parked]:
        return [Parked(**json.loads(path.read_text())) for path in sorted((self.directory / "dlq").glob("*.json"))]

    def unpark(self, parked_id: str) -> None:
        (self.directory / "dlq" / f"{parked_id}.json").unlink(missing_ok=True)

    def checkpoint(self) -> dict[str, str]:
        path = self.directory / "checkpoint.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def save_checkpoint(self, checkpoint: dict[str, str]) -> None:
        path = self.directory / "checkpoint.json"
        path.with_suffix(".tmp").write_text(json.dumps(checkpoint))
        path.with_suffix(".tmp").replace(path)


FAIL_CONSUMERS_VARIABLE = "BLUEHILL_FAIL_CONSUMERS"


class InjectedFailure(RuntimeError):
    """A consumer made to fail on the local stack (`BLUEHILL_FAIL_CONSUMERS=name,name`), to try
    the dead-letter store and its redrive by hand or in the e2e tests."""


def _failing(name: str) -> bool:
    return name in {part.strip() for part in os.environ.get(FAIL_CONSUMERS_VARIABLE, "").split(",")}


def deliver_with_retries(registered: Consumer, event: Event, store: LocalStore, attempts: int = ATTEMPTS,
                         backoff: float = BACKOFF_SECONDS, sleep: Callable[[float], None] = time.sleep) -> str:
    """One consumer, one event: retried with backoff, parked after the last attempt."""
    error, attempt, waited = "", 0, 0.0
    while attempt < attempts:
        try:
            if _failing(registered.name):
                raise InjectedFailure(f"{registered.name} made to fail ({FAIL_CONSUMERS_VARIABLE})")
            return deliver(registered, event)
        except DeliveryInProgress as busy:  # another copy is running it: wait for it, not an attempt
            error = str(busy)
            if waited < IN_PROGRESS_WAIT_SECONDS:
                sleep(backoff)
                waited += backoff
                continue
        except Exception as failure:  # a consumer's failure is retried, then parked: the relay goes on
            error = f"{type(failure).__name__}: {failure}"
        attempt += 1
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    store.park(Parked(new_id(), registered.name, event.model_dump(mode="json"), error, attempts, now_iso()))
    return "parked"


class LocalBus:
    """The relay and the consumers' delivery, in this process."""

    def __init__(self, table_name: str, bus_name: str, store: LocalStore, put_events: relay.PutEvents,
                 attempts: int = ATTEMPTS, backoff: float = BACKOFF_SECONDS, persist: bool = True) -> None:
        self.store, self.bus_name, self.put_events = store, bus_name, put_events
        self.attempts, self.backoff, self.persist = attempts, backoff, persist
        self.reader = StreamReader(table_name, store.checkpoint() if persist else None)
        self.put_calls = self.mark_calls = 0
        self._lock = threading.Lock()

    def dispatch(self, event: Event) -> Delivered:
        delivered = Delivered(event)
        for registered in consumers_of(event):
            delivered.outcomes[registered.name] = deliver_with_retries(registered, event, self.store, self.attempts,
                                                                       self.backoff)
        self.store.log(delivered)
        return delivered

    def pump(self) -> list[Delivered]:
        """One pass: read what the stream has, relay it, deliver it, checkpoint."""
        with self._lock:
            delivered: list[Delivered] = []
            for shard_id, records in self.reader.read():
                result = relay.relay(records, self.bus_name, self.put_events, relay.mark_delivered)
                self.put_calls += result.put_calls
                self.mark_calls += result.mark_calls
                for event in result.delivered:
                    self.store.archive(event)
                    delivered.append(self.dispatch(event))
                done = [r for r in records if result.failed_sequence is None
                        or int(r["dynamodb"]["SequenceNumber"]) < int(result.failed_sequence)]
                if done:
                    self.reader.acknowledge(shard_id, done[-1]["dynamodb"]["SequenceNumber"])
                    if self.persist:
                        self.store.save_checkpoint(self.reader.checkpoint)
                if result.failed_sequence is not None:
                    self.reader.rewind(shard_id, result.failed_sequence)
            return delivered

    def drain(self, rounds: int = 20) -> list[Delivered]:
        """Pump until nothing new arrives (consumers' own writes publish events too)."""
        everything: list[Delivered] = []
        for _ in range(rounds):
            delivered = self.pump()
            if not delivered:
                break
            everything += delivered
        return everything

    def run(self, stopped: threading.Event, interval: float = 0.1) -> None:
        """The local relay's loop (`make dev`): a failing pass is reported and tried again."""
        while not stopped.wait(interval):
            try:
                self.pump()
            except Exception as failure:  # the stack stays up; the checkpoint keeps what is not delivered
                print(f"event relay: {failure!r}", flush=True)


def consumer_named(name: str) -> Consumer:
    try:
        return CONSUMERS[name]
    except KeyError as unknown:
        raise KeyError(f"no consumer named {name!r}; registered: {', '.join(sorted(CONSUMERS))}") from unknown


def redrive(store: LocalStore, parked_id: str | None = None) -> list[tuple[Parked, str]]:
    """Deliver parked deliveries again (one by id, or all); delivered ones leave the store. Each
    delivery goes to the delivery log, as the relay's do."""
    results = []
    for parked in store.parked():
        if parked_id is not None and parked.id != parked_id:
            continue
        event = Event.model_validate(parked.event)
        store.unpark(parked.id)
        outcome = deliver_with_retries(consumer_named(parked.consumer), event, store)
        store.log(Delivered(event, {parked.consumer: outcome}))  # `bluehill events tail` shows it
        results.append((parked, outcome))
    return results


class BadReplay(ValueError):
    """A replay asked for something that cannot be: the message says what, in one line."""


def _instant(text: str) -> str:
    """`text` (an ISO date or instant, `Z` or an offset) as the archive writes `occurred_at`: UTC, `…Z`."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as bad:
        raise BadReplay(f"--since {text!r} is not an ISO date or instant (e.g. 2026-12-04T09:00:00Z)") from bad
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def replay(store: LocalStore, since: str, event_type: str | None = None,
           consumer: str | None = None) -> list[Delivered]:
    """Deliver archived events again (from `since`, optionally one type, one consumer).
    Raises BadReplay for a `since` that is not an ISO instant, a type not declared or a consumer
    not registered (each would otherwise replay nothing, or to no one, and report success)."""
    since = _instant(since)
    if consumer is not None and consumer not in CONSUMERS:
        raise BadReplay(f"no consumer named {consumer!r}; registered: {', '.join(sorted(CONSUMERS)) or 'none'}")
    if event_type is not None and event_type not in EVENT_TYPES:
        raise BadReplay(f"no event type {event_type!r} is declared (`bluehill events catalog` lists them)")
    replayed = []
    for event in store.archived():
        if event.occurred_at < since or (event_type and event.type != event_type):
            continue
        delivered = Delivered(event)
        for registered in consumers_of(event):
            if consumer is None or registered.name == consumer:
                delivered.outcomes[registered.name] = deliver_with_retries(registered, event, store)
        store.log(delivered)
        replayed.append(delivered)
    return replayed
