"""Every Lambda the stack deploys points at a real entry point of the packaged app, and each
one's process is wired as the API's is (tenant guard, the authorizer's user check) even
though only the API's Lambda imports app.py. Each handler is imported in a fresh interpreter,
as Lambda would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chalicelib.core.schema import ENVIRONMENT_VARIABLES

from tests.infra.infra_synth import Synth

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
LAMBDA_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
PROBE = """
import importlib, json, sys
module, name = sys.argv[1].rsplit(".", 1)
entry = getattr(importlib.import_module(module), name)
outcome = None
if type(entry).__name__ == "ChaliceAuthorizer":
    event = {"type": "TOKEN", "authorizationToken": "Bearer not-a-token",
             "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/customers"}
    try:
        entry(event, None)
    except Exception as refused:
        outcome = str(refused)
from chalicelib.core import auth, tenant_guard
print(json.dumps({"kind": type(entry).__name__, "guarded": tenant_guard._installed,
                  "user_check": auth._user_is_current is not None, "outcome": outcome}))
"""


def _handlers(synth: Synth) -> list[str]:
    return sorted(resource["Properties"]["Handler"] for resource in synth.template_json["Resources"].values()
                  if resource["Type"] in LAMBDA_TYPES and str(resource["Properties"].get("Handler", "")).count("."))


def _probe(handler: str) -> dict[str, object]:
    settings = {name: f"https://probe.invalid/{name.lower()}" for name in ENVIRONMENT_VARIABLES}
    env = {**os.environ, **settings, "PYTHONPATH": str(FUNCTIONS), "AWS_DEFAULT_REGION": "eu-west-1"}
    run = subprocess.run([sys.executable, "-c", PROBE, handler], cwd=FUNCTIONS, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probes(synth: Synth) -> dict[str, dict[str, object]]:
    return {handler: _probe(handler) for handler in _handlers(synth)}


def test_the_stack_deploys_the_api_the_authorizer_and_every_job(probes: dict[str, dict[str, object]]) -> None:
    kinds = {handler: probe["kind"] for handler, probe in probes.items()}
    assert kinds.pop("app.app") == "Chalice"
    assert kinds.pop("chalicelib.authorizer.api_authorizer") == "ChaliceAuthorizer"
    assert "chalicelib.jobs.runner.job_runner" in kinds  # the job function
    assert "chalicelib.sla.jobs.sla_sweep" in kinds and set(kinds.values()) == {"EventSourceHandler"}


def test_every_entry_points_process_has_the_tenant_guard_and_the_user_check(
        probes: dict[str, dict[str, object]]) -> None:
    unwired = {handler: probe for handler, probe in probes.items() if not (probe["guarded"] and probe["user_check"])}
    assert unwired == {}


def test_the_authorizer_entry_point_refuses_a_bad_token_as_unauthorized(probes: dict[str, dict[str, object]]) -> None:
    assert probes["chalicelib.authorizer.api_authorizer"]["outcome"] == "Unauthorized"
