"""The daily board-status refresh: an auto status moves with time as well as with tasks
(elapsed time grows, open tasks fall overdue, due dates pass), so once a day every live board
whose status is computed, and not yet complete, is evaluated again — one Query per shard of
the system index, and a write only for the boards whose status moved. "Today" is the
scheduled event's `time`, so replaying an event asks the same question and changes nothing
the first run already changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from chalice import Blueprint

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py)
from chalicelib.core.auth import Principal
from chalicelib.core.observability import logger
from chalicelib.core.scope import system_scope, tenant_scope
from chalicelib.jobs import service as jobs

from . import service
from .models import REFRESH_SHARDS

bp = Blueprint(__name__)
ARCHIVE_JOB = "work.archive"


@dataclass
class RefreshReport:
    day: str
    boards_read: int = 0
    boards_moved: int = 0

    def summary(self) -> dict[str, Any]:
        return {"day": self.day, "boards_read": self.boards_read, "boards_moved": self.boards_moved}


def refresh(day: date) -> RefreshReport:
    report = RefreshReport(day=day.isoformat())
    for shard in range(REFRESH_SHARDS):
        with system_scope():
            boards = list(service.boards_to_refresh(shard))
        for board in boards:
            report.boards_read += 1
            with tenant_scope(board.tenant_id):
                report.boards_moved += service.refresh_auto_status(board, day)
    return report


def run_archive(principal: Principal, arguments: dict[str, Any]) -> dict[str, Any]:
    """Finish an archive the request began: the project is archived; its tasks leave the lists."""
    project = service.archive_project(principal, arguments["project_id"])
    return {"project_id": project.id, "archived": bool(project.archived)}


# The job function imports this module (chalicelib.jobs.runner), and so do the routes that start it.
jobs.register(ARCHIVE_JOB, run_archive, "projects:write")


@bp.schedule("cron(10 0 * * ? *)", name="board_status_refresh", description="Re-evaluate auto board statuses")
def board_status_refresh(event: Any) -> dict[str, Any]:
    summary = refresh(date.fromisoformat(event.time[:10])).summary()
    logger().info("board status refresh", extra=summary)
    return summary
