"""How a queued job reaches the job function: the only place the jobs room touches boto3.

- In AWS (`JOB_FUNCTION_NAME` set by the stack): an asynchronous invoke of the job function
  (`InvocationType=Event`); Lambda retries a failed invocation twice, as the stack configures.
- Locally, the same `service.execute` runs in-process, in a fresh context (no request, no
  tenant scope leaks into it), retried as Lambda would: on a thread (`BLUEHILL_LOCAL_JOBS=thread`,
  the default: the request is answered first, as in AWS), or before the 202 is answered
  (`inline`: the tests, which then poll a job that has already finished)."""

from __future__ import annotations

import contextvars
import json
import threading
from functools import cache
from typing import Any

from chalicelib.core.observability import logger
from chalicelib.core.settings import job_function_name, local_jobs_mode

_local_threads: list[threading.Thread] = []


@cache
def _lambda() -> Any:
    import boto3

    return boto3.client("lambda")


def dispatch(tenant_id: str, job_id: str) -> None:
    function = job_function_name()
    if function:
        payload = json.dumps({"tenant_id": tenant_id, "job_id": job_id}).encode()
        _lambda().invoke(FunctionName=function, InvocationType="Event", Payload=payload)
        return
    if local_jobs_mode() == "inline":
        contextvars.Context().run(run_locally, tenant_id, job_id)
        return
    thread = threading.Thread(target=run_locally, args=(tenant_id, job_id), name=f"job-{job_id}", daemon=True)
    _local_threads.append(thread)
    thread.start()


def run_locally(tenant_id: str, job_id: str) -> None:
    """The job function's body with Lambda's retries of an asynchronous invocation."""
    from .service import MAX_ATTEMPTS, execute

    for _ in range(MAX_ATTEMPTS):
        try:
            execute(tenant_id, job_id)
            return
        except Exception:
            continue
    logger().error("a local job gave up", extra={"job_id": job_id})


def wait_for_local_jobs(timeout: float = 60.0) -> None:
    """Join the local job threads started so far (dev tooling and tests)."""
    while _local_threads:
        _local_threads.pop().join(timeout)
