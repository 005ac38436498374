"""`python -m bluehill_dev.bench [--group G ...] [--repeats N] [--cold-start-runs N]`: measure,
print the table, write `.bench/results.json`. Exits 0 whatever the figures: it reports."""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

from bluehill_dev import FUNCTIONS_DIR, REPO_ROOT, resources
from bluehill_dev.bench import harness, local_stack, mail, scenarios
from bluehill_dev.harness_env import build_tenant, in_process_aws, jwks_server


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench", description=__doc__)
    parser.add_argument("--group", action="append", default=[], help="only this scenario group (repeatable)")
    parser.add_argument("--repeats", type=int, default=5, help="requests per single-item scenario")
    parser.add_argument("--cold-start-runs", type=int, default=15, help="fresh interpreters per import; 0 skips")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / ".bench" / "results.json")
    return parser.parse_args(argv)


def _measure_routes(chosen: list[harness.Scenario], repeats: int, app_log: Path) -> list[harness.RouteResult]:
    """Run the scenarios; what the app prints (access logs, EMF metrics, errors) goes to
    `app_log`, so the terminal shows progress and the table."""
    from chalicelib.core.tenant_guard import on_every_client

    recorder = harness.Recorder(idempotency_table=resources.IDEMPOTENCY_TABLE)
    on_every_client(recorder.attach)  # before any client exists, so none escapes counting
    harness.mark_authorizer_phase()
    terminal = sys.stdout
    with (
        app_log.open("w") as log,
        redirect_stdout(log),
        redirect_stderr(log),
        jwks_server() as jwks_url,
        in_process_aws(jwks_url) as aws,
    ):
        from app import app
        from chalice.test import Client

        with Client(app) as client:
            bench = harness.Bench(build_tenant(aws, client), repeats)
            results = []
            for chosen_scenario in chosen:
                print(f"  {chosen_scenario.name}", file=terminal, flush=True)
                results.append(harness.run_scenario(bench, recorder, chosen_scenario))
            return results


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.group == [local_stack.GROUP]:  # not in-process scenarios: the stack `make dev` starts, over HTTP
        return local_stack.main([])
    if args.group == [mail.GROUP]:  # the handler on its S3 event, then the local stack: not route scenarios
        return mail.main([])
    unloaded = scenarios.load_all()
    for module, error in unloaded.items():
        print(f"scenario module {module} left out: {error}", flush=True)
    chosen = harness.selected(harness.SCENARIOS, args.group)
    print(f"Measuring {len(chosen)} scenarios on in-process moto…", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    app_log = args.output.parent / "app.log"
    routes = _measure_routes(chosen, args.repeats, app_log)
    cold = None
    if args.cold_start_runs > 0:
        print(f"Measuring cold start ({args.cold_start_runs} fresh interpreters each)…", flush=True)
        cold = harness.measure_cold_start(FUNCTIONS_DIR, harness.child_environment(), args.cold_start_runs)
    print()
    print(harness.render_routes(routes))
    if cold:
        print()
        print(harness.render_cold_start(cold))
    generated_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = harness.results_document(routes, cold, generated_at, unloaded)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {os.path.relpath(args.output)} (the app's own output: {os.path.relpath(app_log)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
