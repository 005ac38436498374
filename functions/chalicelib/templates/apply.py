"""Templates meet projects: apply (the one-click clone), re-anchor, upgrade to the latest
version, save a project as a template, and the completion counts analytics read.

Projects and tasks belong to the work room; everything here goes through its service functions.
The project item shows its template version and anchor, and each task its template key and
`dates_edited` (set by the work room when a person changes its dates; dates a template re-plan
gives clear it). What only re-planning needs (the Day, duration and role of each template
task, the calendar, whether the anchor follows contract_start) is this room's `ProjectLink`,
written in the same transaction as the project facts it repeats."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed, validation_error
from chalicelib.core.events import Event, new_event
from chalicelib.core.ids import new_id
from chalicelib.core.observability import logger
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, read_items
from chalicelib.customers import service as customers
from chalicelib.jobs import service as jobs
from chalicelib.team import service as team
from chalicelib.work import service as work
from chalicelib.work import tasks as work_tasks

from . import rules, service
from .models import ApplyClaim, ProjectLink, Template
from .schedule import OutOfCalendar, WorkCalendar, day_of_date, schedule

CONTRACT_START = "contract_start"
FIRST_PORTAL_LOGIN = "first_portal_login"  # the day the customer first signed in to the portal
# More template tasks than one transaction holds (100 items: each task is one, plus the
# project, its link, claim, counter and audit) makes a build of several transactions, and a
# re-anchor of several chunks: a request asks for those as jobs (202), so none can approach
# API Gateway's 29 s. Templates hold at most 200 tasks.
JOB_THRESHOLD_TASKS = 90
DATE = "date"
TEMPLATE_ONLY_FIELDS = ("day", "duration_days")  # a task has no such fields: they reach it as dates


@dataclass(frozen=True)
class Anchor:
    source: str  # contract_start | first_portal_login | date
    on: date


def calendar_for(tenant_id: str, kind: str) -> WorkCalendar:
    """The template's calendar; working days read the tenant's holidays (one GetItem)."""
    holidays = team.tenant_holidays(tenant_id) if kind == "working_days" else []
    return WorkCalendar.of(kind, holidays)  # type: ignore[arg-type]


def _event(tenant_id: str, detail_type: str, detail: dict[str, Any]) -> Event:
    return new_event(tenant_id, detail_type, detail)


# ---------- the link a template-made project keeps ----------


def load_link(tenant_id: str, project_id: str) -> ProjectLink:
    try:
        return ProjectLink.get(ProjectLink.pk(tenant_id, project_id), ProjectLink.SORT, consistent_read=True)
    except ProjectLink.DoesNotExist as missing:
        raise Conflict(f"project {project_id} was not made from a template") from missing


def link_view(link: ProjectLink) -> dict[str, Any]:
    return {
        "template_id": link.template_id,
        "template_version": int(link.template_version),
        "calendar": link.calendar,
        "anchor": {"source": link.anchor_source, "date": link.anchor_date},
        "follow_anchor": bool(link.follow_anchor),
        "task_keys": {entry["task_id"]: key for key, entry in link.planned.items()},
    }


def _planned_entry(task: rules.Task, task_id: str, start: str, due: str) -> dict[str, Any]:
    return {"task_id": task_id, "day": task["day"], "duration_days": task["duration_days"],
            "assignee_role": task["assignee_role"], "start_date": start, "due_date": due}


def _save_link(tx: Transaction, link: ProjectLink, previous_version: int | None) -> None:
    link.index_keys()
    if previous_version is None:
        tx.create(link, lambda: Conflict(f"project {link.project_id} already has a template link"))
    else:
        tx.put(link, ProjectLink.version == previous_version,
               lambda: Conflict(f"project {link.project_id} was re-planned by someone else meanwhile; retry"))


# ---------- apply ----------


def _resolve_anchor(customer: Any, source: str, on: date | None) -> Anchor:
    if source == CONTRACT_START:
        if not customer.contract_start:
            raise validation_error("anchor.source", f"customer {customer.id} has no contract_start to anchor on")
        return Anchor(CONTRACT_START, date.fromisoformat(customer.contract_start))
    if source == FIRST_PORTAL_LOGIN:
        from chalicelib.portal import signin  # the portal room's read; imported where used (it reads work)

        first = signin.first_login_at(customer.tenant_id, customer.id)
        if not first:
            raise validation_error("anchor.source", f"customer {customer.id} has not signed in to the portal yet")
        return Anchor(FIRST_PORTAL_LOGIN, date.fromisoformat(first[:10]))
    assert on is not None
    return Anchor(DATE, on)


def _kept_tasks(tasks: list[rules.Task], skip: list[str]) -> list[rules.Task]:
    """The template's tasks less the skipped ones (and their subtasks); links to them are dropped."""
    keys = {task["key"] for task in tasks}
    unknown = [key for key in skip if key not in keys]
    if unknown:
        raise validation_error("skip_task_keys", f"the template has no task {', '.join(unknown)}")
    skipped = set(skip) | {task["key"] for task in tasks if task["parent_key"] in skip}
    return [{**task, "depends_on": [key for key in task["depends_on"] if key not in skipped]}
            for task in tasks if task["key"] not in skipped]


def _assignees(roles: list[str], assignments: dict[str, str], fallback: str | None) -> dict[str, str | None]:
    unknown = sorted(set(assignments) - set(roles))
    if unknown:
        raise validation_error("role_assignments", f"the template has no role {', '.join(unknown)}")
    return {role: assignments.get(role, fallback) for role in roles}


def _task_spec(task: rules.Task, anchor: date, calendar: WorkCalendar,
               people: dict[str, str | None]) -> dict[str, Any]:
    dates = schedule(anchor, task["day"], task["duration_days"], calendar)
    assignee = people.get(task["assignee_role"] or "")
    return {
        "key": task["key"], "title": task["title"], "description": task["description"],
        "start_date": dates.start.isoformat(), "due_date": dates.due.isoformat(), "weight": task["weight"],
        "is_milestone": task["is_milestone"], "task_type": task["task_type"], "tags": task["tags"],
        "portal_visible": task["portal_visible"], "parent_key": task["parent_key"], "depends_on": task["depends_on"],
        "assignee_ids": [assignee] if assignee else [],
    }


@dataclass(frozen=True)
class Definition:
    """What apply builds from: the template's latest version, or the one a claim names."""

    number: int
    calendar: str
    project: dict[str, Any]
    roles: list[str]
    tasks: list[rules.Task]


class ApplyBegun(Conflict):
    """This apply request (its Idempotency-Key) began a project in an earlier attempt."""


CLAIM_SECONDS = 2 * 24 * 3600  # outlives the request's idempotency record


def apply_template(principal: Principal, template_id: str, request: dict[str, Any],
                   request_key: str | None = None, in_request: bool = False) -> dict[str, Any]:
    """Create the customer's project from the template's latest version, every task scheduled
    against the anchor: one transaction, or (too big for one) written hidden and shown by one
    write. With a `request_key` (the Idempotency-Key), the template and the request's claim are
    read together: a retry after a failed attempt finishes the project that attempt began.
    `in_request`: an apply of more than JOB_THRESHOLD_TASKS tasks is validated, then handed
    to a job (RunAsJob)."""
    require(principal, "templates:apply")
    template, claim = _template_and_claim(principal, template_id, request_key)
    if claim is not None:
        return _finish(principal, template, claim, request)
    if template.archived:
        raise Conflict(f"template {template_id} is archived")
    try:
        customer = customers.get_customer(principal, request["customer_id"])
    except NotFound as missing:
        raise validation_error("customer_id", f"customer {request['customer_id']} does not exist") from missing
    latest = Definition(template.template_version, template.calendar, template.project, template.roles,
                        template.tasks)
    anchor = _resolve_anchor(customer, request["anchor"]["source"], request["anchor"].get("date"))
    people = _assignees(template.roles, request.get("role_assignments") or {}, customer.owner_id)
    kept = len(_kept_tasks(latest.tasks, request.get("skip_task_keys") or []))
    if in_request and kept > JOB_THRESHOLD_TASKS:
        raise jobs.RunAsJob(f"{kept} tasks: more than {JOB_THRESHOLD_TASKS} apply as a job", kept)
    try:
        return _build(principal, template, latest, customer, anchor, people, request, request_key, None)
    except OutOfCalendar as beyond:  # raised while planning, before anything is written
        raise validation_error("anchor.date" if anchor.source == DATE else "anchor.source", str(beyond)) from beyond
    except ApplyBegun:  # another attempt with this key claimed it between our read and our write
        claim = ApplyClaim.get(_claim_pk(principal, template_id, str(request_key)), ApplyClaim.SORT,
                               consistent_read=True)
        return _finish(principal, template, claim, request)


def _template_and_claim(principal: Principal, template_id: str,
                        request_key: str | None) -> tuple[Template, ApplyClaim | None]:
    if not request_key:
        return service.load_template(principal, template_id, "templates:apply"), None
    items = read_items([(Template.pk(principal.tenant_id, template_id), Template.SORT),
                        (_claim_pk(principal, template_id, request_key), ApplyClaim.SORT)], [Template, ApplyClaim])
    template = next((item for item in items if isinstance(item, Template)), None)
    if template is None:
        raise NotFound(f"template {template_id} not found")
    return template, next((item for item in items if isinstance(item, ApplyClaim)), None)


def _finish(principal: Principal, template: Template, claim: ApplyClaim, request: dict[str, Any]) -> dict[str, Any]:
    """A retry: finish the project the claim names from what its first attempt decided (the
    version, anchor and people on the claim, the dates in the link it wrote), whatever has
    changed since (an archived template or customer, new holidays, a new version)."""
    if claim.request_hash != _request_hash(request):
        raise Conflict("Idempotency-Key was already used with a different request body")
    begun = service.template_version(principal.tenant_id, template.id, int(claim.template_version))
    definition = Definition(int(begun.number), begun.calendar, begun.project, begun.roles, begun.tasks)
    link = load_link(principal.tenant_id, claim.project_id)
    customer = customers.get_customer(principal, link.customer_id)
    anchor = Anchor(claim.anchor_source, date.fromisoformat(claim.anchor_date))
    return _build(principal, template, definition, customer, anchor, dict(claim.people), request, None, link)


def _claim_pk(principal: Principal, template_id: str, request_key: str) -> str:
    return ApplyClaim.pk(principal.tenant_id, principal.user_id, template_id, request_key)


def _request_hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _build(principal: Principal, template: Template, definition: Definition, customer: Any, anchor: Anchor,
           people: dict[str, str | None], request: dict[str, Any], request_key: str | None,
           begun: ProjectLink | None) -> dict[str, Any]:
    """Build the project, or finish the one an earlier attempt `begun` (its link has the
    planned dates). The claim and the link go with the project's first write, the audit with
    the write that shows it; Template.Applied goes out once it is shown (and counts the project
    in the template's analytics: templates/consumers.py)."""
    calendar = calendar_for(principal.tenant_id, definition.calendar)
    kept = rules.parents_first(_kept_tasks(definition.tasks, request.get("skip_task_keys") or []))
    specs = [_task_spec(task, anchor.on, calendar, people) for task in kept]
    if begun is not None:
        specs = [{**spec, **{name: begun.planned[spec["key"]][name] for name in ("start_date", "due_date")}}
                 for spec in specs]
    project_id = begun.project_id if begun else new_id()
    project_fields = {
        "name": request.get("project_name") or f"{template.name} — {customer.name}",
        "start_date": min((spec["start_date"] for spec in specs), default=anchor.on.isoformat()),
        "due_date": max((spec["due_date"] for spec in specs), default=anchor.on.isoformat()),
        "member_ids": sorted({user for user in people.values() if user and user != principal.user_id}),
        "template_version": definition.number, "anchor_source": anchor.source, "anchor_date": anchor.on.isoformat(),
        **{name: value for name, value in definition.project.items() if value is not None},
    }
    task_ids = work_tasks.build_task_ids(project_id, project_id, [spec["key"] for spec in specs])
    link = begun or _new_link(
        principal, project_id, customer, template.id, definition, anchor, request.get("follow_anchor", False),
        {spec["key"]: _planned_entry(task, task_ids[spec["key"]], spec["start_date"], spec["due_date"])
         for spec, task in zip(specs, kept, strict=True)})

    def first(tx: Transaction) -> None:
        if request_key:
            claim = ApplyClaim(_claim_pk(principal, template.id, request_key), ApplyClaim.SORT, type="ApplyClaim",
                               tenant_id=principal.tenant_id, project_id=project_id,
                               request_hash=_request_hash(request), template_version=definition.number,
                               anchor_source=anchor.source, anchor_date=anchor.on.isoformat(), people=people,
                               expires_at=int(time.time()) + CLAIM_SECONDS)
            tx.create(claim, lambda: ApplyBegun(f"this request already began project {project_id}"))
        _save_link(tx, link, None)

    applied = _event(principal.tenant_id, "Template.Applied", {
        "template_id": template.id, "template_version": definition.number, "project_id": project_id,
        "customer_id": customer.id, "anchor": {"source": anchor.source, "date": anchor.on.isoformat()}})

    def shown(tx: Transaction) -> None:
        audit.record(tx, principal, "apply", "template", template.id, {"project_id": {"before": None,
                                                                                      "after": project_id}})
        tx.publish(applied)

    project, built = work.create_project_with_tasks(
        principal, customer.id, project_fields, specs, template.id,
        work.Build(project_id, customer, resume=begun is not None, first=None if begun else first, shown=shown))
    return {"project": work.project_view(project), **link_view(link),
            "tasks": [{**spec, "id": built[spec["key"]]} for spec in specs]}


def _new_link(principal: Principal, project_id: str, customer: Any, template_id: str, definition: Definition,
              anchor: Anchor, follow: bool, planned: dict[str, Any]) -> ProjectLink:
    now = now_iso()
    return ProjectLink(
        ProjectLink.pk(principal.tenant_id, project_id), ProjectLink.SORT, type="ProjectLink",
        tenant_id=principal.tenant_id, project_id=project_id, customer_id=customer.id, template_id=template_id,
        template_version=definition.number, calendar=definition.calendar, anchor_source=anchor.source,
        anchor_date=anchor.on.isoformat(), follow_anchor=follow, customer_version=int(customer.version),
        planned=planned, version=1, created_at=now, updated_at=now,
    )


# ---------- the project as it stands ----------


@dataclass(frozen=True)
class Standing:
    """A template-made project's link and its tasks as they are now (one read of the board)."""

    link: ProjectLink
    project: dict[str, Any]
    tasks: dict[str, dict[str, Any]]  # task id -> task view

    def template_tasks(self) -> Iterable[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(key, planned entry, task view) for each template task still in the project."""
        for key, entry in self.link.planned.items():
            task = self.tasks.get(entry["task_id"])
            if task is not None:
                yield key, entry, task


def _standing(principal: Principal, project_id: str) -> Standing:
    board = work.gantt(principal, project_id)  # first: a project out of reach is a 404
    link = load_link(principal.tenant_id, project_id)
    return Standing(link, board["project"], {task["id"]: task for task in board["tasks"]})


def _relinked(link: ProjectLink, **changes: Any) -> ProjectLink:
    updated = ProjectLink(link.PK, link.SK, **{**link.attribute_values, **changes})
    updated.version, updated.updated_at = int(link.version) + 1, now_iso()
    return updated


def _span(link: ProjectLink) -> dict[str, str]:
    """The project's dates a plan gives: its tasks' first start and last due (as at apply)."""
    entries = list(link.planned.values())
    return {"start_date": min((entry["start_date"] for entry in entries), default=link.anchor_date),
            "due_date": max((entry["due_date"] for entry in entries), default=link.anchor_date)}


def _replan(principal: Principal, before: ProjectLink, after: ProjectLink, change: work_tasks.Replan,
            atomic: bool, budget_field: str, event: Event) -> dict[str, Any]:
    """The task changes, the project's template facts and dates, the new link and its event:
    they go in the last transaction, so a re-plan that fails part way leaves the link as it
    was. The project's dates follow the plan unless a person set them; returns what became
    of them."""
    change.extras.append(lambda tx: _save_link(tx, after, int(before.version)))
    change.extras.append(lambda tx: tx.publish(event))
    change.project_facts = {"template_version": int(after.template_version), "anchor_source": after.anchor_source,
                            "anchor_date": after.anchor_date}
    change.spans = (_span(before), _span(after))
    work_tasks.replan(principal, after.project_id, change, atomic, budget_field)
    if change.dates_kept:
        return {"followed": False, "reason": "dates edited by a person"}
    return {"followed": True, **change.spans[1]}


# ---------- re-anchor ----------


def reanchor(principal: Principal, project_id: str, new_anchor: date, include_edited: bool,
             source: str | None = None, customer_version: int | None = None,
             in_request: bool = False) -> dict[str, Any]:
    """Move every incomplete template task to its Day from the new anchor; tasks whose dates a
    person edited stay unless `include_edited`; completed tasks never move. A project of more
    tasks than one transaction holds moves in several; a retry moves what is left.
    `in_request`: a project of more than JOB_THRESHOLD_TASKS template tasks re-anchors as a
    job (RunAsJob)."""
    require(principal, "templates:apply")
    standing = _standing(principal, project_id)
    link = standing.link
    if in_request and len(link.planned) > JOB_THRESHOLD_TASKS:
        raise jobs.RunAsJob(f"{len(link.planned)} template tasks: more than {JOB_THRESHOLD_TASKS} re-anchor as a job",
                            len(link.planned))
    calendar = calendar_for(principal.tenant_id, link.calendar)
    planned, moved, kept = dict(link.planned), [], []
    for key, entry, task in standing.template_tasks():
        if task["status_category"] == "done":
            continue
        if task["dates_edited"] and not include_edited:
            kept.append({"task_id": task["id"], "key": key, "reason": "dates edited by a person"})
            continue
        try:
            dates = schedule(new_anchor, entry["day"], entry["duration_days"], calendar)
        except OutOfCalendar as beyond:
            raise validation_error("anchor_date", str(beyond)) from beyond
        target = {"start_date": dates.start.isoformat(), "due_date": dates.due.isoformat()}
        planned[key] = {**entry, **target}
        if (task["start_date"], task["due_date"]) != (target["start_date"], target["due_date"]):
            moved.append({"task_id": task["id"], "key": key, "from": {"start_date": task["start_date"],
                                                                      "due_date": task["due_date"]}, "to": target})
    after = _relinked(link, anchor_date=new_anchor.isoformat(), planned=planned,
                      anchor_source=source or link.anchor_source,
                      customer_version=customer_version or int(link.customer_version))
    project_dates = _replan(principal, link, after, work_tasks.Replan(
        {move["task_id"]: move["to"] for move in moved}, action="reanchor",
        audit=audit.diff({"anchor_date": link.anchor_date}, {"anchor_date": after.anchor_date})), False, "anchor_date",
        _event(principal.tenant_id, "Project.Reanchored", {
            "project_id": project_id, "anchor_date": after.anchor_date, "moved": len(moved)}))
    return {"project_id": project_id, "anchor": {"source": after.anchor_source, "date": after.anchor_date},
            "moved": moved, "kept": kept, "project_dates": project_dates}


def follow_contract_start(automation: Principal, customer_id: str, customer_version: int, contract_start: str) -> int:
    """For the Customer.Updated handler: re-anchor every project following this customer's
    contract_start. A link already at this customer version (a replay) or a later one is
    skipped. Returns how many projects were re-anchored."""
    followers = ProjectLink.followers.query(ProjectLink.followers_pk(automation.tenant_id, customer_id))
    count = 0
    for link in followers:
        if int(link.customer_version) >= customer_version:
            continue
        try:
            reanchor(automation, link.project_id, date.fromisoformat(contract_start), False, CONTRACT_START,
                     customer_version)
        except (Conflict, NotFound, ValidationFailed):  # archived, gone or too big: the others still follow
            logger().warning("a following project could not be re-anchored", extra={"project_id": link.project_id})
            continue
        count += 1
    return count


# ---------- upgrade ----------


def _project_tasks(standing: Standing) -> list[rules.ProjectTask]:
    keys = {entry["task_id"]: key for key, entry in standing.link.planned.items()}
    return [
        rules.ProjectTask(task["id"], key, task["status_category"], task["dates_edited"],
                          {name: task.get(name) for name in rules.UPGRADABLE_FIELDS if name in task},
                          keys.get(task["parent_id"] or ""))
        for key, entry, task in standing.template_tasks()
    ]


def _plan_view(plan: rules.UpgradePlan, link: ProjectLink, template: Template, dry_run: bool) -> dict[str, Any]:
    return {"project_id": link.project_id, "from_version": int(link.template_version),
            "to_version": template.template_version, "dry_run": dry_run, "added": plan.added,
            "changed": plan.changed, "removed": plan.removed, "kept": plan.kept}


def _task_changes(change: dict[str, Any]) -> dict[str, Any]:
    fields = {name: value["after"] for name, value in change["fields"].items() if name not in TEMPLATE_ONLY_FIELDS}
    dates = {name: change[name] for name in ("start_date", "due_date") if name in change}
    return {**fields, **dates}


def upgrade_template(principal: Principal, project_id: str, dry_run: bool) -> dict[str, Any]:
    """What moving the project to the template's latest version does (dry run), or doing it:
    added, changed and removed tasks, the new version and the link in one transaction."""
    require(principal, "templates:apply")
    standing = _standing(principal, project_id)
    link = standing.link
    template = service.load_template(principal, link.template_id)
    old = service.template_version(principal.tenant_id, link.template_id, int(link.template_version))
    anchor, calendar = date.fromisoformat(link.anchor_date), calendar_for(principal.tenant_id, link.calendar)
    try:
        plan = rules.plan_upgrade(_project_tasks(standing), old.tasks, template.tasks, anchor, calendar)
    except OutOfCalendar as beyond:  # the new version's Days, from this project's anchor
        raise validation_error("anchor_date", str(beyond)) from beyond
    view = _plan_view(plan, link, template, dry_run)
    if dry_run or int(link.template_version) == template.template_version:
        return view
    planned = dict(link.planned)
    for change in plan.changed:
        fields = change["fields"]
        planned[change["key"]] = {**planned[change["key"]],
                                  **{name: fields[name]["after"] for name in TEMPLATE_ONLY_FIELDS if name in fields},
                                  **{name: change[name] for name in ("start_date", "due_date") if name in change}}
    for removal in plan.removed:
        planned.pop(removal["key"], None)
    staying = {key: entry["task_id"] for key, entry in planned.items()}
    added = rules.parents_first(plan.added)
    seed = new_id()
    added_ids = work_tasks.build_task_ids(project_id, seed, [task["key"] for task in added])
    for task in added:
        planned[task["key"]] = _planned_entry(task, added_ids[task["key"]], task["start_date"], task["due_date"])
    after = _relinked(link, planned=planned, template_version=template.template_version)
    additions = [{name: task[name] for name in ("key", "title", "description", "weight", "is_milestone", "task_type",
                                                "tags", "portal_visible", "start_date", "due_date", "parent_key",
                                                "depends_on")} for task in added]
    _replan(principal, link, after, work_tasks.Replan(
        {change["task_id"]: _task_changes(change) for change in plan.changed},
        [removal["task_id"] for removal in plan.removed], additions, seed, staying, action="upgrade_template",
        audit=audit.diff({"template_version": int(link.template_version)},
                         {"template_version": template.template_version})), True, "dry_run",
        _event(principal.tenant_id, "Project.TemplateUpgraded", {
            "project_id": project_id, "template_id": link.template_id,
            "template_version": template.template_version}))
    return view


# ---------- save as template ----------


def _dated_task(task: dict[str, Any], key: str | None) -> rules.DatedTask:
    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return rules.DatedTask(task["id"], key, task["title"], day(task["start_date"]), day(task["due_date"]),
                           task["parent_id"], list(task["depends_on"]),
                           {name: task.get(name) for name in rules.TASK_DEFAULTS})


def save_as_template(principal: Principal, project_id: str, fields: dict[str, Any]) -> Template:
    """The project's tasks as a new template: dates become Days from the project's anchor (or
    its start date), keeping hierarchy, dependencies, weights, milestones and template roles."""
    require(principal, "templates:write")
    board = work.gantt(principal, project_id)
    project = board["project"]
    try:
        link: ProjectLink | None = load_link(principal.tenant_id, project_id)
    except Conflict:
        link = None
    keys = {entry["task_id"]: key for key, entry in (link.planned.items() if link else [])}
    roles = {key: entry["assignee_role"] for key, entry in (link.planned.items() if link else [])}
    kind = fields.get("calendar") or (link.calendar if link else "calendar_days")
    starts = [task["start_date"] for task in board["tasks"] if task["start_date"]]
    anchor_text = link.anchor_date if link else project["start_date"] or min(starts, default=None)
    anchor = date.fromisoformat(anchor_text) if anchor_text else date.today()
    ordered = sorted(board["tasks"], key=lambda task: (task["parent_id"] is not None, task["position"]))
    converted = rules.to_template_tasks([_dated_task(task, keys.get(task["id"])) for task in ordered], anchor,
                                        calendar_for(principal.tenant_id, kind))
    for task in converted:
        task["assignee_role"] = roles.get(task["key"])
    used_roles = sorted({role for role in roles.values() if role})
    return service.create_template(principal, {
        "name": fields["name"], "category": fields["category"], "description": fields.get("description"),
        "calendar": kind, "roles": used_roles, "tasks": converted,
        "project": {"task_statuses": project["task_statuses"], "status_mode": project["status_mode"],
                    "portal_visible": project["portal_visible"]},
    })


# ---------- completion counts (from work events) ----------


def count_task_completed(tenant_id: str, project_id: str, task_id: str, completed_at: str, late: bool) -> bool:
    """A template task completed: count its actual Day against its planned Day, once."""
    link = _link_or_none(tenant_id, project_id)
    entry = next((e for e in link.planned.values() if e["task_id"] == task_id), None) if link else None
    if link is None or entry is None:
        return False
    key = next(k for k, e in link.planned.items() if e["task_id"] == task_id)
    actual = day_of_date(date.fromisoformat(link.anchor_date), date.fromisoformat(completed_at[:10]),
                         calendar_for(tenant_id, link.calendar))
    return service.count_task_completion(tenant_id, link.template_id, project_id, key, entry["day"], actual, late)


def count_project_completed(tenant_id: str, project_id: str, completed_on: date) -> bool:
    link = _link_or_none(tenant_id, project_id)
    if link is None:
        return False
    due = max((entry["due_date"] for entry in link.planned.values()), default=link.anchor_date)
    days = (completed_on - date.fromisoformat(link.anchor_date)).days
    return service.count_project_completion(tenant_id, link.template_id, project_id, days,
                                            completed_on.isoformat() > due)


def _link_or_none(tenant_id: str, project_id: str) -> ProjectLink | None:
    try:
        return load_link(tenant_id, project_id)
    except Conflict:
        return None

