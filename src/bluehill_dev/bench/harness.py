"""The benchmark's machinery: the scenario registry, the botocore counters, per-route figures
and their targets, the cold-start measurement, and the report (table and JSON).

Counting. `Recorder.attach` is registered through `tenant_guard.on_every_client`, so it sees
every botocore client created afterwards, boto3's and PynamoDB's alike. Per DynamoDB request:
`before-call` is one logical call (by operation name), `before-send` one HTTP attempt (retries
included), `after-call` gives the items DynamoDB read (`ScannedCount` of a Query, the item of
a GetItem, the items of a BatchGetItem). Each call is put in a phase by
`before-parameter-build`, the one event that sees the API parameters (`before-call` gets the
serialized request): the idempotency record's (its table), the authorizer's (made while
Chalice's gateway runs the route's authorizer), or the route's own. The phase rides in the
request context to the other events. Other services' calls (EventBridge, Cognito) are counted
by `service.Operation`, beside."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bluehill_dev.harness_env import Api, Response, TenantWorld

ROUTE, AUTHORIZER, IDEMPOTENCY = "route", "authorizer", "idempotency"
READ_OPERATIONS = ("GetItem", "BatchGetItem", "Query")
ROUTE_CEILING = 2  # no route's own calls over this, whatever its kind
IMPORT_RATIO_TARGET = 2.5
MODULES_RATIO_TARGET = 1.7

# ---------- scenarios ----------


@dataclass(frozen=True)
class Call:
    """One request a scenario wants measured."""

    method: str
    path: str
    body: Any = None
    role: str = "owner"
    headers: dict[str, str] | None = None


# A scenario is a generator: it yields the calls to measure and is sent back each response
# (to follow a cursor or carry a version). Anything it does between yields is unmeasured setup.
Steps = Generator[Call, Response | None, None]
StepsFactory = Callable[["Bench"], Steps]


@dataclass(frozen=True)
class Target:
    label: str
    max_route_calls: int
    max_queries_per_page: int | None = None
    # A route whose issue sets its own budget (transactions and reads) instead of the ceiling.
    max_transactions: int | None = None
    max_reads: int | None = None

    def misses(self, route_calls: int, queries: int, transactions: int = 0, reads: int = 0) -> list[str]:
        """Why a request's worst figures miss this target (empty when they meet it)."""
        found = []
        if self.max_transactions is not None:
            if transactions > self.max_transactions:
                found.append(f"{transactions} transactions > {self.max_transactions}")
            if self.max_reads is not None and reads > self.max_reads:
                found.append(f"{reads} reads > {self.max_reads}")
            return found
        allowed = min(self.max_route_calls, ROUTE_CEILING)
        if route_calls > allowed:
            found.append(f"{route_calls} calls > {allowed}")
        if self.max_queries_per_page is not None and queries > self.max_queries_per_page:
            found.append(f"{queries} Queries/page > {self.max_queries_per_page}")
        return found


READ = Target("read ≤1", 1)
WRITE = Target("write ≤1", 1)
LIST = Target(f"list 1 Q/page ≤{ROUTE_CEILING}", ROUTE_CEILING, 1)


@dataclass(frozen=True)
class Scenario:
    name: str
    group: str
    target: Target
    steps: StepsFactory


SCENARIOS: list[Scenario] = []


def scenario(name: str, *, group: str, target: Target) -> Callable[[StepsFactory], StepsFactory]:
    """Register a scenario under `name` (the route, plus what varies in brackets)."""

    def register(steps: StepsFactory) -> StepsFactory:
        if any(existing.name == name for existing in SCENARIOS):
            raise ValueError(f"scenario {name!r} is registered twice")
        SCENARIOS.append(Scenario(name, group, target, steps))
        return steps

    return register


T = TypeVar("T")


class Bench:
    """What a scenario runs against: one tenant with a user and token per role."""

    def __init__(self, world: TenantWorld, repeats: int) -> None:
        self.world, self.repeats = world, repeats
        self._prepared: dict[Callable[[Bench], Any], Any] = {}

    @property
    def tenant_id(self) -> str:
        return self.world.tenant_id

    def api(self, role: str = "owner") -> Api:
        return self.world.as_(role)

    def principal(self, role: str = "owner") -> Any:
        return self.world.principal(role)

    def prepared(self, build: Callable[[Bench], T]) -> T:
        """`build(bench)`, run once per bench run however many scenarios ask: shared seed data."""
        if build not in self._prepared:
            self._prepared[build] = build(self)
        return self._prepared[build]

    def send(self, call: Call) -> Response:
        return self.api(call.role).request(call.method, call.path, call.body, headers=call.headers)


# ---------- counting ----------


@dataclass
class PhaseCounts:
    calls: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    items_read: int = 0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


@dataclass
class Sample:
    """What one request cost."""

    phases: defaultdict[str, PhaseCounts] = field(default_factory=lambda: defaultdict(PhaseCounts))
    other_calls: Counter[str] = field(default_factory=Counter)
    status: int = 0
    items_returned: int = 0


def items_read(operation: str, parsed: Mapping[str, Any]) -> int:
    """Items DynamoDB read to answer one call (what it was paid to read, filtered or not)."""
    if operation in {"Query", "Scan"}:
        return int(parsed.get("ScannedCount", 0))
    if operation == "GetItem":
        return int("Item" in parsed)
    if operation == "BatchGetItem":
        return sum(len(items) for items in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for response in parsed.get("Responses", []) if response.get("Item"))
    return 0


def items_returned(body: Any) -> int:
    """Items the route gave its client: a list's items, else one resource (none for 204)."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return len(body["items"])
    return int(bool(body))


_authorizing: ContextVar[bool] = ContextVar("bench_authorizing", default=False)
_PHASE = "bench_phase"


@contextmanager
def authorizer_phase() -> Iterator[None]:
    token = _authorizing.set(True)
    try:
        yield
    finally:
        _authorizing.reset(token)


def mark_authorizer_phase() -> None:
    """Put the calls made while Chalice's local gateway runs a route's authorizer in the
    authorizer's phase. Wrapping the gateway (not `auth.authorize`, which the route table
    captured at import) catches whichever authorizer a route has."""
    from chalice import local

    original = local.LocalGatewayAuthorizer.authorize
    if getattr(original, "marks_bench_phase", False):
        return

    def authorize(self: Any, *args: Any, **kwargs: Any) -> Any:
        with authorizer_phase():
            return original(self, *args, **kwargs)

    authorize.marks_bench_phase = True  # type: ignore[attr-defined]
    local.LocalGatewayAuthorizer.authorize = authorize  # type: ignore[method-assign]


class Recorder:
    """botocore event hooks that add every call made inside `measuring()` to its sample."""

    def __init__(self, idempotency_table: str) -> None:
        self.idempotency_table = idempotency_table
        self._sample: Sample | None = None

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        events = client.meta.events
        events.register("before-parameter-build", lambda **kw: self.classify(service, **kw))
        events.register("before-call", lambda **kw: self.before_call(service, **kw))
        events.register("before-send", lambda **kw: self.before_send(service, **kw))
        events.register("after-call", lambda **kw: self.after_call(service, **kw))

    @contextmanager
    def measuring(self) -> Iterator[Sample]:
        self._sample = sample = Sample()
        try:
            yield sample
        finally:
            self._sample = None

    def phase_of(self, params: Mapping[str, Any]) -> str:
        if params.get("TableName") == self.idempotency_table:
            return IDEMPOTENCY
        return AUTHORIZER if _authorizing.get() else ROUTE

    def classify(self, service: str, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        if service == "dynamodb":
            context[_PHASE] = self.phase_of(params)

    def before_call(self, service: str, model: Any, context: Mapping[str, Any], **_: Any) -> None:
        if self._sample is None:
            return
        phase = context.get(_PHASE)
        if phase is None:
            self._sample.other_calls[f"{service}.{model.name}"] += 1
        else:
            self._sample.phases[phase].calls[model.name] += 1

    def before_send(self, service: str, request: Any, **_: Any) -> None:
        phase = (getattr(request, "context", None) or {}).get(_PHASE)
        if self._sample is not None and phase is not None:
            self._sample.phases[phase].attempts += 1

    def after_call(self, service: str, model: Any, parsed: Mapping[str, Any], context: Mapping[str, Any],
                   **_: Any) -> None:
        phase = context.get(_PHASE)
        if self._sample is not None and phase is not None:
            self._sample.phases[phase].items_read += items_read(model.name, parsed)


# ---------- figures ----------


@dataclass(frozen=True)
class Stat:
    mean: float
    max: int

    @classmethod
    def of(cls, values: Sequence[int]) -> Stat:
        return cls(round(statistics.fmean(values), 2), max(values)) if values else cls(0.0, 0)


def _mean_counter(counters: Sequence[Counter[str]]) -> dict[str, float]:
    total: Counter[str] = sum(counters, Counter())
    return {name: round(count / len(counters), 2) for name, count in sorted(total.items())} if counters else {}


@dataclass(frozen=True)
class RouteResult:
    name: str
    group: str
    target: str
    requests: int
    route_calls: Stat
    route_operations: dict[str, float]
    route_attempts: Stat
    queries_per_request: Stat
    items_read_per_request: Stat
    items_read: int
    items_returned: int
    read_per_returned: float | None
    authorizer_calls: Stat
    idempotency_calls: Stat
    idempotency_operations: dict[str, float]
    other_calls: dict[str, float]
    statuses: list[int]
    verdict: str
    misses: list[str]
    error: str | None


def summarize(scenario: Scenario, samples: Sequence[Sample], error: str | None = None) -> RouteResult:
    route = [s.phases[ROUTE] for s in samples]
    idempotency = [s.phases[IDEMPOTENCY] for s in samples]
    read, returned = sum(p.items_read for p in route), sum(s.items_returned for s in samples)
    route_calls = Stat.of([p.total_calls for p in route])
    queries = Stat.of([p.calls["Query"] for p in route])
    statuses = sorted({s.status for s in samples})
    transactions = max((p.calls["TransactWriteItems"] for p in route), default=0)
    reads = max((sum(p.calls[name] for name in READ_OPERATIONS) for p in route), default=0)
    misses = scenario.target.misses(route_calls.max, queries.max, transactions, reads)
    if error is None and any(status >= 400 for status in statuses):
        error = f"answered {', '.join(str(status) for status in statuses if status >= 400)}"
    if error is None and not samples:
        error = "measured no request"
    verdict = "ERROR" if error else "FAIL" if misses else "PASS"
    return RouteResult(
        name=scenario.name,
        group=scenario.group,
        target=scenario.target.label,
        requests=len(samples),
        route_calls=route_calls,
        route_operations=_mean_counter([p.calls for p in route]),
        route_attempts=Stat.of([p.attempts for p in route]),
        queries_per_request=queries,
        items_read_per_request=Stat.of([p.items_read for p in route]),
        items_read=read,
        items_returned=returned,
        read_per_returned=round(read / returned, 2) if returned else None,
        authorizer_calls=Stat.of([s.phases[AUTHORIZER].total_calls for s in samples]),
        idempotency_calls=Stat.of([p.total_calls for p in idempotency]),
        idempotency_operations=_mean_counter([p.calls for p in idempotency]),
        other_calls=_mean_counter([s.other_calls for s in samples]),
        statuses=statuses,
        verdict=verdict,
        misses=misses,
        error=error,
    )


def run_scenario(bench: Bench, recorder: Recorder, scenario: Scenario) -> RouteResult:
    samples: list[Sample] = []
    response: Response | None = None
    try:
        steps = scenario.steps(bench)
        while True:
            try:
                call = steps.send(response)
            except StopIteration:
                break
            with recorder.measuring() as sample:
                response = bench.send(call)
            sample.status, sample.items_returned = response.status, items_returned(response.body)
            samples.append(sample)
    except Exception as broken:  # one room's broken scenario must not cost the others their figures
        return summarize(scenario, samples, f"{type(broken).__name__}: {broken}")
    return summarize(scenario, samples)


# ---------- cold start ----------

_IMPORT_PROBE = (
    "import sys, time; before = len(sys.modules); start = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - start, before, len(sys.modules))"
)


@dataclass(frozen=True)
class ImportSample:
    seconds: float
    modules: int  # modules the import added to a fresh interpreter's


def parse_import_probe(output: str) -> ImportSample:
    seconds, before, after = output.split()
    return ImportSample(float(seconds), int(after) - int(before))


def import_once(module: str, cwd: Path, env: Mapping[str, str]) -> ImportSample:
    probe = _IMPORT_PROBE.format(module=module)
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=dict(env), capture_output=True, text=True,
                          check=True)
    return parse_import_probe(done.stdout)


@dataclass(frozen=True)
class ImportFigures:
    module: str
    runs: int
    median_ms: float
    median_modules: float


def import_figures(module: str, samples: Sequence[ImportSample]) -> ImportFigures:
    return ImportFigures(
        module=module,
        runs=len(samples),
        median_ms=round(statistics.median(s.seconds for s in samples) * 1000, 2),
        median_modules=statistics.median(s.modules for s in samples),
    )


@dataclass(frozen=True)
class HeavyImport:
    package: str
    self_ms: float
    imported_by: str


@dataclass(frozen=True)
class ColdStart:
    handler: ImportFigures
    baseline: ImportFigures
    import_ratio: float
    modules_ratio: float
    import_ratio_target: float
    modules_ratio_target: float
    import_verdict: str
    modules_verdict: str
    heaviest_imports: list[HeavyImport]


def cold_start_ratios(handler: ImportFigures, baseline: ImportFigures,
                      heaviest: list[HeavyImport] | None = None) -> ColdStart:
    import_ratio = round(handler.median_ms / baseline.median_ms, 2)
    modules_ratio = round(handler.median_modules / baseline.median_modules, 2)
    return ColdStart(
        handler=handler,
        baseline=baseline,
        import_ratio=import_ratio,
        modules_ratio=modules_ratio,
        import_ratio_target=IMPORT_RATIO_TARGET,
        modules_ratio_target=MODULES_RATIO_TARGET,
        import_verdict="PASS" if import_ratio <= IMPORT_RATIO_TARGET else "FAIL",
        modules_verdict="PASS" if modules_ratio <= MODULES_RATIO_TARGET else "FAIL",
        heaviest_imports=heaviest or [],
    )


_IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


FIRST_PARTY = "chalicelib"


def _package(module: str) -> str:
    """The group an import is charged to: its top-level package; the app's own by room."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == FIRST_PARTY else parts[0]


def heaviest_imports(importtime_stderr: str, top: int = 10) -> list[HeavyImport]:
    """From `python -X importtime` output: self time summed per package (the app's own per
    room), heaviest first, each with the module of another package that first pulled it in."""
    entries = []  # (depth, module, self µs) in the order printed: children before their parent
    for line in importtime_stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match:
            entries.append((len(match.group(3)) // 2, match.group(4), int(match.group(1))))
    self_us: Counter[str] = Counter()
    entry_point: dict[str, tuple[int, str]] = {}  # package → (depth, importer) of its shallowest entry
    for index, (depth, module, own) in enumerate(entries):
        package = _package(module)
        self_us[package] += own
        parent = next((m for d, m, _ in entries[index + 1:] if d < depth), "<top>")
        if _package(parent) != package and depth < entry_point.get(package, (depth + 1, ""))[0]:
            entry_point[package] = (depth, parent)
    return [HeavyImport(package, round(us / 1000, 1), entry_point.get(package, (0, "<top>"))[1])
            for package, us in self_us.most_common(top)]


def measure_cold_start(functions_dir: Path, env: Mapping[str, str], runs: int) -> ColdStart:
    """`import app` (the API handler) against a bare `import boto3`, in fresh interpreters,
    interleaved so drift in the machine's load hits both alike."""
    for module in ("app", "boto3"):  # warm the bytecode caches; not counted
        import_once(module, functions_dir, env)
    handler, baseline = [], []
    for _ in range(runs):
        handler.append(import_once("app", functions_dir, env))
        baseline.append(import_once("boto3", functions_dir, env))
    traced = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=functions_dir,
                            env=dict(env), capture_output=True, text=True, check=True)
    return cold_start_ratios(import_figures("app", handler), import_figures("boto3", baseline),
                             heaviest_imports(traced.stderr))


# ---------- report ----------


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _stat(stat: Stat) -> str:
    return _number(stat.mean) if stat.mean == stat.max else f"{_number(stat.mean)} (max {stat.max})"


def _operations(operations: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {_number(count)}" for name, count in operations.items()) or "-"


_COLUMNS = ("route", "n", "calls", "operations", "HTTP", "read/ret", "read/req", "Q/req", "auth", "idem", "other AWS",
            "target", "result")


def _row(result: RouteResult) -> tuple[str, ...]:
    ratio = "-" if result.read_per_returned is None else _number(result.read_per_returned)
    verdict = result.verdict if not result.misses else f"{result.verdict} ({'; '.join(result.misses)})"
    if result.error:
        verdict = f"ERROR ({result.error[:80]})"
    return (
        result.name, str(result.requests), _stat(result.route_calls), _operations(result.route_operations),
        _stat(result.route_attempts), ratio, _stat(result.items_read_per_request),
        _stat(result.queries_per_request), _stat(result.authorizer_calls),
        _stat(result.idempotency_calls), _operations(result.other_calls), result.target, verdict,
    )


def render_routes(results: Sequence[RouteResult]) -> str:
    rows = [_COLUMNS, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_cold_start(cold: ColdStart) -> str:
    handler, baseline = cold.handler, cold.baseline
    lines = [
        f"Cold start ({handler.runs} fresh interpreters each, medians)",
        f"  import app      {handler.median_ms:8.1f} ms   +{_number(handler.median_modules)} modules",
        f"  import boto3    {baseline.median_ms:8.1f} ms   +{_number(baseline.median_modules)} modules",
        f"  import ratio    {cold.import_ratio:8.2f}      target ≤ {cold.import_ratio_target}  {cold.import_verdict}",
        f"  modules ratio   {cold.modules_ratio:8.2f}      target ≤ {cold.modules_ratio_target}  "
        f"{cold.modules_verdict}",
        "  heaviest packages under `import app` (self time, -X importtime, first imported by):",
    ]
    lines += [f"    {h.package:<24} {h.self_ms:7.1f} ms   ← {h.imported_by}" for h in cold.heaviest_imports]
    return "\n".join(lines)


def results_document(routes: Sequence[RouteResult], cold: ColdStart | None, generated_at: str,
                     unloaded_modules: Mapping[str, str]) -> dict[str, Any]:
    return {
        "routes": [asdict(r) for r in routes],
        "cold_start": asdict(cold) if cold else None,
        "generated_at": generated_at,
        "unloaded_scenario_modules": dict(unloaded_modules),
    }


def selected(scenarios: Sequence[Scenario], groups: Sequence[str]) -> list[Scenario]:
    """The scenarios of `groups` (all when empty), group by group in the order groups first
    registered, each group's in the order registered."""
    order = {group: index for index, group in reversed(list(enumerate(s.group for s in scenarios)))}
    chosen = [s for s in scenarios if not groups or s.group in groups]
    return sorted(chosen, key=lambda s: order[s.group])


def child_environment() -> dict[str, str]:
    """The environment the import probes run in: the bench's own (the app's settings, offline
    credentials) minus what would skew them: no bytecode cache would recompile the app's
    modules on every run but not boto3's (installed with theirs)."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"}}
