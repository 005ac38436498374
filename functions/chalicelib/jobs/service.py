"""Jobs: operations that can outlive API Gateway's 29 s run after the request is answered.

A room registers an operation (`register`); its route raises `RunAsJob` when a request is
bigger than one request should carry (each room states its threshold), and answers 202 with
the job `start` made. The job runs as its caller, in its caller's tenant, on the job function
(an asynchronous Lambda invoke in AWS; a thread, or inline, locally — see `dispatch`).

Running is idempotent: a finished job is never run again (a duplicate delivery changes
nothing), and an operation a job runs must itself be resumable — Lambda retries an invocation
that failed (MAX_ATTEMPTS in all), and the retry finishes what the first attempt began."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.core.auth import Principal
from chalicelib.core.errors import DomainError, NotFound, problem_for, problem_for_status
from chalicelib.core.ids import new_id
from chalicelib.core.observability import logger
from chalicelib.core.permissions import Reach, require
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import now_iso

from .models import FAILED, FINISHED, QUEUED, RUNNING, SUCCEEDED, Job

JOB_DAYS = 7
MAX_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first attempt and two retries


class RunAsJob(Exception):  # a signal, not an error
    """Raised by a service when the request is bigger than one request should carry: the
    route answers 202 and the same operation runs as a job."""

    def __init__(self, reason: str, steps: int) -> None:
        super().__init__(reason)
        self.reason, self.steps = reason, steps


# An operation's body: the caller and the arguments `start` recorded → the result (JSON).
# Progress is its step count (`total`), done when the job succeeds: the operations run today
# (apply, re-anchor) write in a few transactions, and report no finer steps.
Runner = Callable[[Principal, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    run: Runner
    permission: str


_operations: dict[str, Operation] = {}


def register(name: str, run: Runner, permission: str) -> None:
    """Declare an operation jobs may run; `permission` is asked again when the job runs."""
    _operations[name] = Operation(run, permission)


def start(principal: Principal, operation: str, arguments: dict[str, Any], total: int, reason: str) -> Job:
    """Record a queued job for the caller and hand it to the job function."""
    if operation not in _operations:
        raise KeyError(f"no job operation {operation!r} is registered")
    require(principal, _operations[operation].permission)
    job_id, now = new_id(), now_iso()
    job = Job(Job.pk(principal.tenant_id, job_id), Job.SORT, type="Job", tenant_id=principal.tenant_id, id=job_id,
              operation=operation, status=QUEUED, created_by=principal.user_id, caller=principal.context(),
              arguments=arguments, progress_total=total, version=1, created_at=now, updated_at=now,
              expires_at=int(time.time()) + JOB_DAYS * 24 * 3600)
    job.save(condition=Job.PK.does_not_exist())  # a new ULID: one conditional put
    logger().info("job queued", extra={"job_id": job_id, "operation": operation, "reason": reason})
    from . import dispatch  # boto3 (in AWS) only when a job is started

    dispatch.dispatch(principal.tenant_id, job_id)
    return job


def get_job(principal: Principal, job_id: str) -> Job:
    """A job its caller started; owners and admins see every job of the tenant."""
    reach = require(principal, "jobs:read")
    try:
        job = Job.get(Job.pk(principal.tenant_id, job_id), Job.SORT, consistent_read=True)
    except Job.DoesNotExist as missing:
        raise NotFound(f"job {job_id} not found") from missing
    if reach is not Reach.ALL and job.created_by != principal.user_id:
        raise NotFound(f"job {job_id} not found")
    return job


def _claim(job: Job) -> bool:
    """queued/running → running, one more attempt; False when the job has already finished."""
    try:
        job.update([Job.status.set(RUNNING), Job.attempts.add(1), Job.started_at.set(now_iso()),
                    Job.updated_at.set(now_iso())], condition=Job.status.is_in(QUEUED, RUNNING))
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _finish(job: Job, status: str, **fields: Any) -> None:
    actions = [Job.status.set(status), Job.finished_at.set(now_iso()), Job.updated_at.set(now_iso()),
               Job.version.add(1)]
    actions += [getattr(Job, name).set(value) for name, value in fields.items()]
    job.update(actions, condition=Job.status == RUNNING)


def execute(tenant_id: str, job_id: str) -> str:
    """Run one attempt of a job (the job function's body). Returns the job's status after it.
    A domain error ends the job failed with its Problem Details; any other error is raised
    while attempts remain (so the invocation is retried) and then ends the job failed."""
    with tenant_scope(tenant_id):
        try:
            job = Job.get(Job.pk(tenant_id, job_id), Job.SORT, consistent_read=True)
        except Job.DoesNotExist:
            logger().warning("a job to run does not exist", extra={"job_id": job_id})
            return "missing"
        if job.status in FINISHED or not _claim(job):
            return job.status
        operation = _operations[job.operation]
        caller = Principal.from_context(job.caller)
        try:
            require(caller, operation.permission)
            result = operation.run(caller, dict(job.arguments))
        except DomainError as error:
            _finish(job, FAILED, error=problem_for(error).body(job_id))
            return FAILED
        except Exception:
            if int(job.attempts) < MAX_ATTEMPTS:  # `attempts` counts this one (_claim)
                logger().exception("a job attempt failed; it will be retried", extra={"job_id": job_id})
                raise
            logger().exception("a job failed on its last attempt", extra={"job_id": job_id})
            _finish(job, FAILED, error=problem_for_status(500, "An internal error occurred.").body(job_id))
            return FAILED
        _finish(job, SUCCEEDED, result=result, progress_done=int(job.progress_total))
        return SUCCEEDED
