"""`make bench` (`python -m bluehill_dev.bench`): what each route costs in DynamoDB calls, and
what the API handler costs to import. Not part of `make test`; it reports, it never fails.

It runs the real app through `chalice.test.Client` on in-process moto (the same harness as the
tests: `bluehill_dev.harness_env`), with the tenant guard on, and prints one row per scenario:

- calls: the route's own logical DynamoDB calls per request (botocore `before-call`), with the
  operations; the authorizer's (`auth`) and the Idempotency-Key record's (`idem`) beside;
- HTTP: the route's HTTP attempts per request (botocore `before-send`: retries included);
- read/ret: items DynamoDB read for the route (Query `ScannedCount`, GetItem and BatchGetItem
  items) ÷ items the route returned;
- Q/req: Queries per request (per page, for lists);
- the target and PASS/FAIL: reads and single-item writes ≤ 1 call, lists 1 Query per page,
  no route over 2.

Then the cold start: median `import app` time ÷ median `import boto3` (fresh interpreters, same
run), modules loaded ÷ boto3's, and the heaviest packages. Everything lands in
`.bench/results.json`; what the app itself prints (access logs, EMF, errors) in `.bench/app.log`.
A scenario that raises, or a scenario module that fails to import, is reported as such and the
rest still run.

Adding scenarios for your room: drop a module into `bluehill_dev/bench/scenarios/` (it is
imported automatically) and register generators with `@scenario`:

    from bluehill_dev.bench.harness import LIST, READ, Bench, Call, Steps, scenario

    def projects(bench: Bench) -> list[str]:        # seed once, share between scenarios
        return bench.prepared(_seed_projects)       # _seed_projects(bench) runs on first use

    @scenario("GET /projects/{id}", group="projects", target=READ)
    def read_project(bench: Bench) -> Steps:
        for project_id in projects(bench)[: bench.repeats]:
            yield Call("GET", f"/projects/{project_id}")

Each yielded `Call` is one measured request (`role=` picks the caller, `headers=` e.g. an
Idempotency-Key); the generator is sent back its `Response`, to follow `next_cursor` or carry
`version`. Anything done between yields (`bench.api(role).post(...)`, services under
`tenant_scope(bench.tenant_id)`) is unmeasured setup. Name a scenario after its route, with
what varies in brackets or as a query (`GET /customers?tier=`), and pick READ, WRITE or LIST,
or a `Target` of your own. `python -m bluehill_dev.bench --group projects` runs one group."""
