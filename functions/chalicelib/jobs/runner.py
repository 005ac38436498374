"""The job function: Lambda's entry point for jobs (an asynchronous invoke from the API with
`{"tenant_id", "job_id"}`). An entry point, so it imports the rooms whose operations it runs
(their registrations) and wires the process as the API's is."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

import chalicelib.templates.jobs  # registers templates.apply and templates.reanchor
import chalicelib.wiring  # this Lambda never imports app.py
import chalicelib.work.jobs  # noqa: F401 (registers work.archive)

from . import service

bp = Blueprint(__name__)


@bp.lambda_function(name="job_runner")
def job_runner(event: dict[str, Any], context: Any) -> dict[str, str]:
    return {"job_id": event["job_id"], "status": service.execute(event["tenant_id"], event["job_id"])}
