"""The cost of the second layer of isolation (core.tenant_credentials), on in-process moto:
`python -m bluehill_dev.bench.isolation` (run by `make bench`).

The same request (`GET /customers` as the owner, a few customers in the tenant) is timed in
three ways: without tenant credentials (TENANT_ROLE_ARN unset: the function's own, as before);
cold (the container's first request for the tenant: one STS AssumeRole, then a new DynamoDB
client for the session); warm (the session cached). Reported: STS calls per request and the
latency (p50, p95) of each, and what cold and warm add to the baseline. moto's STS answers in
microseconds of network; AWS's AssumeRole takes tens of milliseconds, paid once per tenant per
container per hour — the figure to weigh is the warm one."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/BlueHillTenantAccess"  # moto's account
MODES = ("off", "cold", "warm")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(requests: int) -> dict[str, Any]:
    from chalice.test import Client

    from bluehill_dev.harness_env import build_tenant, in_process_aws, jwks_server

    with jwks_server() as jwks_url, in_process_aws(jwks_url) as aws:
        from app import app
        from chalicelib.core import tenant_credentials

        with Client(app) as client:
            world = build_tenant(aws, client, roles=("owner",))
            owner = world.as_("owner")
            for n in range(5):
                owner.post("/customers", {"name": f"Isolation bench {n}"})
            rows = {}
            for mode in MODES:
                if mode == "off":
                    os.environ.pop("TENANT_ROLE_ARN", None)
                else:
                    os.environ["TENANT_ROLE_ARN"] = ROLE
                tenant_credentials.forget_all()
                owner.get("/customers")  # warms everything but the session (and, warm, the session)
                seconds, sts_calls = [], 0
                for _ in range(requests):
                    if mode == "cold":
                        tenant_credentials.forget_all()
                    before = tenant_credentials.counters.assume_role_calls
                    started = time.perf_counter()
                    assert owner.get("/customers").status == 200
                    seconds.append((time.perf_counter() - started) * 1000)
                    sts_calls += tenant_credentials.counters.assume_role_calls - before
                rows[mode] = {"requests": requests, "sts_calls_per_request": round(sts_calls / requests, 2),
                              "p50_ms": round(statistics.median(seconds), 2),
                              "p95_ms": round(_percentile(seconds, 0.95), 2)}
            os.environ.pop("TENANT_ROLE_ARN", None)
    for mode in ("cold", "warm"):
        rows[mode]["added_p50_ms"] = round(rows[mode]["p50_ms"] - rows["off"]["p50_ms"], 2)
    return rows


def render(rows: dict[str, Any]) -> str:
    lines = ["Tenant credentials (GET /customers, in-process moto)",
             f"{'mode':>6} {'STS/request':>11} {'p50 ms':>8} {'p95 ms':>8} {'added p50':>9}"]
    for mode, row in rows.items():
        lines.append(f"{mode:>6} {row['sts_calls_per_request']:>11} {row['p50_ms']:>8} {row['p95_ms']:>8} "
                     f"{row.get('added_p50_ms', ''):>9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.isolation", description=__doc__)
    parser.add_argument("--requests", type=int, default=40, help="requests timed per mode")
    parser.add_argument("--output", type=Path, default=Path(".bench") / "isolation.json")
    args = parser.parse_args(argv)
    rows = measure(args.requests)
    print(render(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
