"""`python -m bluehill_dev.bench.events [--events N]`: event delivery as `make dev` runs it.

The relay loop of the local stack (bluehill_dev.eventbus.LocalBus.run, polling the table's
stream every 0.1 s) runs in a thread next to the app; N customer PATCHes each commit a
Customer.Updated (the outbox) that the `templates_follow_contract_start` consumer takes.
Printed: the latency from each request's answer (its commit is before it) to the end of its
consumer's delivery — p50, p95, max — and the relay's cost per delivered event: PutEvents and
UpdateItem (mark delivered) calls, which is what the deployed relay pays per event (Lambda's
event source mapping reads the stream), and the local poller's stream API calls besides.
On in-process moto: the figures show the mechanism's own latency, not DynamoDB's."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from contextlib import redirect_stdout
from io import StringIO
from typing import Any

from bluehill_dev.harness_env import build_tenant, event_bus, in_process_aws, jwks_server

PACE_SECONDS = 0.1  # ten requests a second: a busy team, not a load test


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(count: int) -> dict[str, Any]:
    with redirect_stdout(StringIO()), jwks_server() as jwks_url, in_process_aws(jwks_url) as aws:
        from app import app
        from chalice.test import Client

        with Client(app) as client:
            world = build_tenant(aws, client, roles=("owner",))
            api = world.as_("owner")
            customer = api.post("/customers", {"name": "Bench Events Co", "tier": "smb"}).json
            bus = event_bus()
            bus.drain()
            answered: dict[int, float] = {}
            delivered: dict[int, float] = {}
            real_dispatch = bus.dispatch

            def dispatch(event: Any) -> Any:
                result = real_dispatch(event)
                if event.type == "Customer.Updated" and event.data["customer_id"] == customer["id"]:
                    delivered[int(event.data["version"])] = time.perf_counter()
                return result

            bus.dispatch = dispatch  # type: ignore[method-assign]
            start_calls = (bus.put_calls, bus.mark_calls, bus.reader.calls)
            stopped = threading.Event()
            relay = threading.Thread(target=bus.run, args=(stopped,), daemon=True)
            relay.start()
            version = customer["version"]
            for n in range(count):
                changed = api.patch(f"/customers/{customer['id']}",
                                    {"version": version, "tier": "mid_market" if n % 2 == 0 else "smb"})
                version = changed.json["version"]
                answered[version] = time.perf_counter()
                time.sleep(PACE_SECONDS)  # a steady stream of requests, not one burst
            deadline = time.monotonic() + 30
            while len(delivered) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            stopped.set()
            relay.join()
            puts, marks, stream = (now - before for now, before in
                                   zip((bus.put_calls, bus.mark_calls, bus.reader.calls), start_calls, strict=True))
    latencies = [(delivered[v] - answered[v]) * 1000 for v in answered if v in delivered]
    events = len(latencies)
    return {
        "events": count, "delivered": events,
        "latency_ms": {"p50": round(_percentile(latencies, 0.5), 1), "p95": round(_percentile(latencies, 0.95), 1),
                       "max": round(max(latencies), 1)} if latencies else None,
        "relay_calls_per_event": {"PutEvents": round(puts / max(events, 1), 3),
                                  "UpdateItem": round(marks / max(events, 1), 3),
                                  "stream_api_local_poller": round(stream / max(events, 1), 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.events", description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"Event delivery: {args.events} Customer.Updated events through the local relay loop…", flush=True)
    result = measure(args.events)
    latency = result["latency_ms"] or {}
    print(f"  delivered {result['delivered']}/{result['events']} (target: every one within 2 s)")
    print(f"  commit → consumer done: p50 {latency.get('p50')} ms, p95 {latency.get('p95')} ms, "
          f"max {latency.get('max')} ms")
    costs = result["relay_calls_per_event"]
    print(f"  relay calls per delivered event: PutEvents {costs['PutEvents']}, UpdateItem {costs['UpdateItem']} "
          f"(+ {costs['stream_api_local_poller']} stream API calls by the local poller)")
    ok = result["delivered"] == result["events"] and latency and latency["p95"] <= 2000
    print("  PASS" if ok else "  FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
