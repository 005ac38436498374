"""Follow-up lists and buckets: one partition of a sparse index (an assignee's or a customer's
open follow-ups, by due instant) and, for a bucket, the window of due instants it means from
where the assignee stands (dates.py) as the key condition — one Query per page, nothing read
outside the bucket."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.core.auth import Principal
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import Reach, require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.table import query_reader
from chalicelib.customers import service as customers
from chalicelib.team import service as team

from . import dates, service
from .models import FollowUp, assignee_pk, customer_pk

AFTER_ALL = "~"  # sorts after every follow-up id in a `<due_at>#<id>` key


def _bound(instant: Any) -> str:
    return f"{dates.format_instant(instant)}#{AFTER_ALL}"


def _window(sort_key: Any, bucket: str | None, timezone: str, upcoming_days: int) -> Condition | None:
    if bucket is None:
        return None
    window = dates.bucket_window(bucket, service.now(), timezone, upcoming_days)
    if window.low is None:
        return sort_key <= _bound(window.high)
    return sort_key.between(_bound(window.low), _bound(window.high))


def timezone_of(tenant_id: str, user_id: str) -> str:
    plan = ReadPlan()
    zones = team.timezones_for(plan, tenant_id, [user_id])
    plan.run()
    return zones().get(user_id, "UTC")


def list_follow_ups(principal: Principal, assignee_id: str | None, customer_id: str | None, bucket: str | None,
                    upcoming_days: int, limit: int, cursor: str | None) -> tuple[Page[FollowUp], str]:
    """A page of open (and overdue) follow-ups by due instant, and the timezone its buckets were
    computed in: the assignee's (theirs, else the tenant's); a customer's list without an
    assignee, the caller's."""
    reach = require(principal, "followups:read")
    if assignee_id == "me" or (assignee_id is None and customer_id is None):
        assignee_id = principal.user_id
    keep = None
    if reach is Reach.ASSIGNED and assignee_id != principal.user_id:
        return Page([], None), timezone_of(principal.tenant_id, principal.user_id)  # nobody else's
    if reach is Reach.OWNED and assignee_id != principal.user_id and not (
            customer_id and customers.reaches_customer(principal, customer_id)):
        reachable, me = set(customers.reachable_customer_ids(principal)), principal.user_id

        def keep(follow_up: FollowUp) -> bool:
            return follow_up.assignee_id == me or follow_up.customer_id in reachable
    timezone = timezone_of(principal.tenant_id, assignee_id or principal.user_id)
    tenant, condition = principal.tenant_id, None
    if assignee_id is not None:
        index, partition, sort_key = FollowUp.by_assignee, assignee_pk(tenant, assignee_id), FollowUp.GSI1SK
        condition = FollowUp.customer_id == customer_id if customer_id else None
    else:
        assert customer_id is not None
        index, partition, sort_key = FollowUp.by_customer, customer_pk(tenant, customer_id), FollowUp.GSI2SK
    source = query_reader(index, partition, _window(sort_key, bucket, timezone, upcoming_days), condition, keep=keep)
    return read_page([source], limit, cursor), timezone
