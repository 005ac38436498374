"""Jobs: work a request started and answered `202 Accepted` for, run after the response.

| access pattern | index | key condition |
|---|---|---|
| a job by id (poll, run) | table | PK = T#t#JOB#<id>, SK = JOB |

A job item expires (`expires_at`) a week after it was made: its result is for polling, not
for keeping — what the job made (a project, moved tasks) is kept by the room that owns it.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import VersionedItem, tenant_key

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED)
FINISHED = (SUCCEEDED, FAILED)


class Job(VersionedItem):
    SORT = "JOB"

    id = UnicodeAttribute()
    operation = UnicodeAttribute()
    status = UnicodeAttribute()
    created_by = UnicodeAttribute()
    caller = JSONAttribute()  # the principal's context: the job acts as the caller did
    arguments = JSONAttribute()
    progress_done = NumberAttribute(default=0)
    progress_total = NumberAttribute(default=0)
    attempts = NumberAttribute(default=0)
    result = JSONAttribute(null=True)
    error = JSONAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()

    @staticmethod
    def pk(tenant_id: str, job_id: str) -> str:
        return tenant_key(tenant_id, "JOB", job_id)
