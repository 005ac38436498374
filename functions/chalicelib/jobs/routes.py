"""GET /jobs/{job_id}: where a 202 Accepted points."""

from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint
from pydantic import Field

from chalicelib.core.auth import Principal
from chalicelib.core.http import Accepted, route
from chalicelib.core.models import Out

from . import service
from .models import Job

bp = Blueprint(__name__)


class JobProgress(Out):
    done: int = Field(description="steps finished (e.g. tasks written)")
    total: int


class JobOut(Out):
    id: str
    operation: str = Field(description="what the job does, e.g. templates.apply")
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: JobProgress
    result: dict[str, Any] | None = Field(description="the operation's answer, once succeeded")
    error: dict[str, Any] | None = Field(description="Problem Details, once failed")
    attempts: int
    created_by: str
    created_at: str
    updated_at: str
    finished_at: str | None


def job_out(job: Job) -> JobOut:
    return JobOut(id=job.id, operation=job.operation, status=job.status,  # type: ignore[arg-type]
                  progress=JobProgress(done=int(job.progress_done), total=int(job.progress_total)),
                  result=job.result, error=job.error, attempts=int(job.attempts), created_by=job.created_by,
                  created_at=job.created_at, updated_at=job.updated_at, finished_at=job.finished_at)


def accepted(job: Job) -> Accepted:
    """A route's 202: the job as queued, and where to poll it."""
    return Accepted(job_out(job), f"/jobs/{job.id}")


@route(bp, "/jobs/{job_id}", "GET", summary="A job's status, progress and result", permission="jobs:read",
       response=JobOut)
def get_job(principal: Principal, job_id: str) -> JobOut:
    return job_out(service.get_job(principal, job_id))
