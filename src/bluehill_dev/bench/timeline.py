"""`python -m bluehill_dev.bench.timeline [--customers 3 --days 7]`: the customer timeline's figures.

On in-process moto with the local stack's relay loop (bluehill_dev.eventbus.LocalBus.run, as
`make dev` runs it) in a thread next to the app:
- projection latency: from a POST /customers/{id}/interactions answer to the end of the
  `timeline_feed` consumer's delivery of its Interaction.Created — p50, p95, max;
- a timeline page is one Query, whatever the filters (DynamoDB Query calls per GET);
- the heatmap's items read (Query ScannedCount + BatchGet items) for customers x days, with one
  event per (customer, day), then with 10x the events on the same grid: flat;
- quiet customers: Query calls per GET.
The figures show the mechanism's own cost, not DynamoDB's latency."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

from bluehill_dev.bench.events import _percentile
from bluehill_dev.bench.scenarios.sla import _counter
from bluehill_dev.harness_env import build_tenant, event_bus, in_process_aws, jwks_server

PACE_SECONDS = 0.1


def _log_grid(api: Any, customers: list[str], days: list[str], per_cell: int) -> list[float]:
    answered = []
    for customer in customers:
        for day in days:
            for _ in range(per_cell):
                response = api.post(f"/customers/{customer}/interactions",
                                    {"type": "call", "summary": "Bench call", "occurred_at": f"{day}T10:00:00Z"})
                assert response.status == 201, response.body
                answered.append(time.perf_counter())
    return answered


def measure(customer_count: int, day_count: int) -> dict[str, Any]:
    counter = _counter()
    with redirect_stdout(StringIO()), jwks_server() as jwks_url, in_process_aws(jwks_url) as aws:
        from app import app
        from chalice.test import Client

        with Client(app) as client:
            world = build_tenant(aws, client, roles=("owner",))
            api = world.as_("owner")
            customers = [api.post("/customers", {"name": f"Bench Timeline {n}"}).json["id"]
                         for n in range(customer_count)]
            today = datetime.now(UTC).date()
            days = [(today - timedelta(days=n)).isoformat() for n in range(day_count)]
            bus = event_bus()
            bus.drain()
            answered: dict[str, float] = {}
            delivered: dict[str, float] = {}
            real_dispatch = bus.dispatch

            def dispatch(event: Any) -> Any:
                result = real_dispatch(event)
                if event.type == "Interaction.Created":
                    delivered[event.data["interaction_id"]] = time.perf_counter()
                return result

            bus.dispatch = dispatch  # type: ignore[method-assign]
            stopped = threading.Event()
            relay = threading.Thread(target=bus.run, args=(stopped,), daemon=True)
            relay.start()
            for customer in customers:
                for day in days:
                    made = api.post(f"/customers/{customer}/interactions",
                                    {"type": "call", "summary": "Bench call", "occurred_at": f"{day}T10:00:00Z"})
                    answered[made.json["id"]] = time.perf_counter()
                    time.sleep(PACE_SECONDS)
            deadline = time.monotonic() + 30
            while len(delivered) < len(answered) and time.monotonic() < deadline:
                time.sleep(0.05)
            stopped.set()
            relay.join()
            bus.dispatch = real_dispatch  # type: ignore[method-assign]
            latencies = [(delivered[i] - answered[i]) * 1000 for i in answered if i in delivered]

            pages = {}
            for query in ("", "?types=call", "?system=false", "?customer_facing=true&from=" + days[-1],
                          "?exclude_types=note&limit=5"):
                with counter.counting():
                    assert api.get(f"/customers/{customers[0]}/timeline{query}").status == 200
                pages[query or "(no filter)"] = counter.calls["Query"]
            with counter.counting():
                assert api.get("/activity?limit=10").status == 200
            pages["/activity"] = counter.calls["Query"]

            heatmap = f"/reports/activity-heatmap?scope=org&rows=customer&bucket=week&from={days[-1]}&to={days[0]}"

            def heatmap_reads() -> int:
                with counter.counting():
                    grid = api.get(heatmap)
                assert grid.status == 200, grid.body
                return counter.items

            events_before = customer_count * day_count
            reads_before = heatmap_reads()
            _log_grid(api, customers, days, 9)  # 10x the events on the same grid
            bus.drain()
            reads_after = heatmap_reads()
            with counter.counting():
                assert api.get("/reports/quiet-customers?days=14").status == 200
            quiet_queries = counter.calls["Query"]
    return {
        "interactions": len(answered), "delivered": len(latencies),
        "latency_ms": {"p50": round(_percentile(latencies, 0.5), 1), "p95": round(_percentile(latencies, 0.95), 1),
                       "max": round(max(latencies), 1)} if latencies else None,
        "timeline_queries_per_page": pages,
        "heatmap_items_read": {"events": events_before, "read": reads_before,
                               "events_10x": events_before * 10, "read_10x": reads_after,
                               "grid_cells": customer_count * day_count},
        "quiet_customers_queries": quiet_queries,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.timeline", description=__doc__)
    parser.add_argument("--customers", type=int, default=3)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"Timeline: {args.customers} customers x {args.days} days of interactions…", flush=True)
    result = measure(args.customers, args.days)
    latency = result["latency_ms"] or {}
    print(f"  projection (answer → feed entry): p50 {latency.get('p50')} ms, p95 {latency.get('p95')} ms, "
          f"max {latency.get('max')} ms; delivered {result['delivered']}/{result['interactions']} (target: 2 s)")
    pages = result["timeline_queries_per_page"]
    print("  Queries per timeline page: " + ", ".join(f"{name} {count}" for name, count in pages.items()))
    heat = result["heatmap_items_read"]
    print(f"  heatmap items read: {heat['read']} at {heat['events']} events, {heat['read_10x']} at "
          f"{heat['events_10x']} events ({heat['grid_cells']} customer-days + labels)")
    print(f"  quiet customers: {result['quiet_customers_queries']} Query")
    ok = (all(count == 1 for count in pages.values()) and heat["read"] == heat["read_10x"]
          and result["quiet_customers_queries"] == 1 and latency and latency["p95"] <= 2000)
    print("  PASS" if ok else "  FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
