"""Template rules with storage: templates and their versions, the built-in library, and the
analytics counters. Applying, re-anchoring and upgrading projects live in `apply.py`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.counters import shard_sort_key
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.events import Event, new_event
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version

from . import events as _declared_events  # noqa: F401 (declares the types new_event names)
from . import rules
from .library import LIBRARY
from .models import ACTIVE, ARCHIVED, CountedCompletion, Template, TemplateStat, TemplateVersion, templates_pk
from .schedule import CALENDAR_DAYS, days_between

TEMPLATE_FIELDS = ("name", "category", "description", "calendar", "project", "roles", "tasks")
# Changing any of these changes what applying produces, so it makes a new version.
DEFINITION_FIELDS = ("calendar", "project", "roles", "tasks")
PROJECT_DEFAULTS = {"task_statuses": None, "status_mode": "auto", "portal_visible": False}


def template_fields(template: Template) -> dict[str, Any]:
    return {name: getattr(template, name) for name in TEMPLATE_FIELDS}


def template_view(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        **template_fields(template),
        "library_key": template.library_key,
        "template_version": template.template_version,
        "archived": template.archived,
        "version": template.version,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def version_view(version: TemplateVersion) -> dict[str, Any]:
    return {
        "template_id": version.template_id,
        "template_version": version.number,
        "calendar": version.calendar,
        "project": version.project,
        "roles": version.roles,
        "tasks": version.tasks,
        "created_at": version.created_at,
        "created_by": version.created_by,
    }


class AlreadyCounted(Conflict):
    """A completion event seen before (a replay): nothing more to count."""


def _stale(template_id: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"template {template_id} was changed by someone else; reload and retry")


def _event(tenant_id: str, detail_type: str, detail: dict[str, Any]) -> Event:
    return new_event(tenant_id, detail_type, detail)


# ---------- building items ----------


def _normalised(fields: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in, tasks completed and validated: what gets stored."""
    values = {"description": None, "calendar": CALENDAR_DAYS, "roles": [], **fields}
    values["project"] = {**PROJECT_DEFAULTS, **(values.get("project") or {})}
    values["tasks"] = [rules.complete_task(task) for task in values.get("tasks") or []]
    rules.validate_tasks(values["tasks"], values["roles"])
    return values


def _version_item(template: Template, actor_id: str) -> TemplateVersion:
    return TemplateVersion(
        template.PK, TemplateVersion.sort(template.template_version), type="TemplateVersion",
        tenant_id=template.tenant_id, template_id=template.id, number=template.template_version,
        calendar=template.calendar, project=template.project, roles=template.roles, tasks=template.tasks,
        created_at=template.updated_at, created_by=actor_id,
    )


def add_template(tx: Transaction, actor: Principal, fields: dict[str, Any], template_id: str | None = None) -> Template:
    """Add a new template (version 1) and its audit entry to `tx`."""
    values = _normalised(fields)
    now, template_id, tenant = now_iso(), template_id or new_id(), actor.tenant_id
    template = Template(
        Template.pk(tenant, template_id), Template.SORT, type="Template", tenant_id=tenant, id=template_id,
        template_version=1, archived=False, version=1, created_at=now, updated_at=now,
        **{name: values.get(name) for name in (*TEMPLATE_FIELDS, "library_key")},
    )
    template.index_keys()
    tx.create(template, lambda: Conflict("template already exists"))
    tx.create(_version_item(template, actor.user_id), lambda: Conflict("template version already exists"))
    audit.record(tx, actor, "create", "template", template_id, audit.diff({}, template_fields(template)))
    return template


def seed_library(founder: Principal, seed: str) -> bool:
    """For a new tenant (on Tenant.Created): the built-in templates, as the tenant's own editable
    copies, in one transaction. Their ids derive from `seed` (the event's id), so seeding the
    same tenant twice is refused by the first copy's conditions: False, nothing written."""
    tx = Transaction()
    for index, definition in enumerate(LIBRARY):
        template = add_template(tx, founder, definition, template_id=f"{seed[:-2]}{index:02d}")
        tx.publish(_event(founder.tenant_id, "Template.Created", {"template_id": template.id, "template_version": 1}))
    try:
        tx.commit()
    except Conflict:
        return False
    return True


# ---------- templates ----------


def load_template(principal: Principal, template_id: str, action: str = "templates:read") -> Template:
    require(principal, action)
    try:
        return Template.get(Template.pk(principal.tenant_id, template_id), Template.SORT)
    except Template.DoesNotExist as missing:
        raise NotFound(f"template {template_id} not found") from missing


def create_template(principal: Principal, fields: dict[str, Any]) -> Template:
    require(principal, "templates:write")
    tx = Transaction()
    template = add_template(tx, principal, {k: v for k, v in fields.items() if k != "library_key"})
    tx.publish(_event(principal.tenant_id, "Template.Created", {"template_id": template.id, "template_version": 1}))
    tx.commit()
    return template


def list_templates(
    principal: Principal, category: str | None, include_archived: bool, limit: int, cursor: str | None
) -> Page[Template]:
    require(principal, "templates:read")
    states = [ACTIVE, ARCHIVED] if include_archived else [ACTIVE]
    tenant = principal.tenant_id
    sources = [
        query_reader(Template.by_category, templates_pk(tenant, state, "CATEGORY", category)) if category
        else query_reader(Template.by_name, templates_pk(tenant, state))
        for state in states
    ]
    return read_page(sources, limit, cursor)


def update_template(
    principal: Principal, template_id: str, changes: dict[str, Any], expected_version: int
) -> Template:
    current = load_template(principal, template_id, "templates:write")
    require_version(current, expected_version, "template")
    if current.archived:
        raise Conflict("archived templates cannot be edited")
    before = template_fields(current)
    after = _normalised({**before, **changes})
    changed = audit.diff(before, {name: after[name] for name in TEMPLATE_FIELDS})
    if not changed:
        return current
    updated = Template(current.PK, current.SORT, **{**current.attribute_values,
                                                   **{name: after[name] for name in TEMPLATE_FIELDS}})
    updated.version, updated.updated_at = current.version + 1, now_iso()
    new_version = any(name in changed for name in DEFINITION_FIELDS)
    if new_version:
        updated.template_version = current.template_version + 1
    updated.index_keys()
    tx = Transaction()
    tx.put(updated, Template.version == current.version, _stale(template_id))
    if new_version:
        tx.create(_version_item(updated, principal.user_id), _stale(template_id))
    audit.record(tx, principal, "update", "template", template_id, changed)
    tx.publish(_event(principal.tenant_id, "Template.Updated", {
        "template_id": template_id, "template_version": updated.template_version, "changes": sorted(changed)}))
    tx.commit()
    return updated


def archive_template(principal: Principal, template_id: str) -> Template:
    current = load_template(principal, template_id, "templates:write")
    if current.archived:
        return current
    archived = Template(current.PK, current.SORT, **current.attribute_values)
    archived.archived, archived.version, archived.updated_at = True, current.version + 1, now_iso()
    archived.index_keys()
    tx = Transaction()
    tx.put(archived, Template.version == current.version, _stale(template_id))
    audit.record(tx, principal, "archive", "template", template_id, audit.diff({"archived": False}, {"archived": True}))
    tx.publish(_event(principal.tenant_id, "Template.Archived", {"template_id": template_id}))
    tx.commit()
    return archived


# ---------- versions ----------


def list_versions(principal: Principal, template_id: str, limit: int, cursor: str | None) -> Page[TemplateVersion]:
    template = load_template(principal, template_id)
    source = query_reader(TemplateVersion, template.PK, TemplateVersion.SK.startswith(TemplateVersion.PREFIX))
    return read_page([source], limit, cursor)


def template_version(tenant_id: str, template_id: str, number: int) -> TemplateVersion:
    try:
        return TemplateVersion.get(Template.pk(tenant_id, template_id), TemplateVersion.sort(number))
    except TemplateVersion.DoesNotExist as missing:
        raise NotFound(f"version {number} of template {template_id} not found") from missing


def diff_versions(principal: Principal, template_id: str, first: int | None, second: int | None) -> dict[str, Any]:
    template = load_template(principal, template_id)
    to_number = second or template.template_version
    from_number = first or max(to_number - 1, 1)
    for name, number in (("from", from_number), ("to", to_number)):
        if number > template.template_version:
            raise validation_error(name, f"template {template_id} has no version {number}")
    old = template_version(principal.tenant_id, template_id, from_number)
    new = template if to_number == template.template_version else \
        template_version(principal.tenant_id, template_id, to_number)
    return {"from_version": from_number, "to_version": to_number, **rules.diff_tasks(old.tasks, new.tasks)}


# ---------- analytics counters ----------


def count_project_created(tenant_id: str, template_id: str, project_id: str, number: int) -> bool:
    """Count a project made from version `number` once (False if it was counted before), on one
    shard (core.counters): the consumer's transactions for applies of one template at once
    would otherwise all meet on one item."""
    tx = Transaction()
    _count_once(tx, tenant_id, template_id, project_id, CountedCompletion.SORT_CREATED)
    stat = TemplateStat(TemplateStat.pk(tenant_id, template_id), shard_sort_key(TemplateStat.created_sort(number)))
    tx.update(stat, [TemplateStat.count.add(1), TemplateStat.type.set("TemplateStat"),
                     TemplateStat.tenant_id.set(tenant_id), TemplateStat.template_version.set(number)])
    return _commit_count(tx)


def _bucket(stat: TemplateStat, counts: dict[int, int], value: int) -> None:
    counts[value] = counts.get(value, 0) + stat.count


def analytics(principal: Principal, template_id: str) -> dict[str, Any]:
    """Projects made from the template (per version), completed, median days from anchor to
    completion, on-time rate; per task, planned Day vs the median actual Day and a suggestion.
    One Query over the template's counters: its size grows with tasks x distinct completion
    Days, not with the number of projects."""
    template = load_template(principal, template_id)
    created: dict[int, int] = {}
    completion_days: dict[int, int] = {}
    late_projects = 0
    actual_days: dict[str, dict[int, int]] = {}
    slips: dict[str, dict[int, int]] = {}
    late_tasks: dict[str, int] = {}
    for stat in TemplateStat.query(TemplateStat.pk(principal.tenant_id, template_id)):
        if stat.SK.startswith(TemplateStat.CREATED):
            version = int(stat.template_version)
            created[version] = created.get(version, 0) + int(stat.count)
        elif stat.SK.startswith(TemplateStat.PROJECT_DONE):
            _bucket(stat, completion_days, int(stat.actual_day))
            late_projects += int(stat.late)
        else:
            key, planned, actual = stat.task_key, int(stat.planned_day), int(stat.actual_day)
            _bucket(stat, actual_days.setdefault(key, {}), actual)
            _bucket(stat, slips.setdefault(key, {}), days_between(planned, actual))
            late_tasks[key] = late_tasks.get(key, 0) + int(stat.late)
    completed = sum(completion_days.values())
    tasks = []
    for task in template.tasks:
        key = task["key"]
        done = sum(actual_days.get(key, {}).values())
        median_actual = rules.weighted_median(actual_days.get(key, {}))
        median_slip = rules.weighted_median(slips.get(key, {}))
        tasks.append({
            "key": key, "title": task["title"], "planned_day": task["day"], "completed": done,
            "median_actual_day": median_actual, "median_slip_days": median_slip,
            "late_share": rules.rate(late_tasks.get(key, 0), done),
            "suggestion": rules.suggestion(task["title"], task["day"], done, median_slip, median_actual),
        })
    return {
        "template_id": template_id,
        "projects_created": sum(created.values()),
        "projects_by_version": [{"template_version": v, "count": created[v]} for v in sorted(created)],
        "projects_completed": completed,
        "median_days_to_completion": rules.weighted_median(completion_days),
        "on_time_rate": rules.rate(completed - late_projects, completed),
        "tasks": tasks,
    }


def _count_once(tx: Transaction, tenant_id: str, template_id: str, project_id: str, what: str) -> None:
    marker = CountedCompletion(CountedCompletion.pk(tenant_id, template_id), CountedCompletion.sort(project_id, what),
                               type="CountedCompletion", tenant_id=tenant_id)
    tx.create(marker, lambda: AlreadyCounted(f"{what} of project {project_id} was already counted"))


def _commit_count(tx: Transaction) -> bool:
    try:
        tx.commit()
    except AlreadyCounted:
        return False
    return True


def count_task_completion(tenant_id: str, template_id: str, project_id: str, task_key: str, planned_day: int,
                          actual_day: int, late: bool) -> bool:
    """Count one template task's first completion in one project (False if it was counted before)."""
    tx = Transaction()
    _count_once(tx, tenant_id, template_id, project_id, f"TASK#{task_key}")
    stat = TemplateStat(TemplateStat.pk(tenant_id, template_id),
                        TemplateStat.task_done_sort(task_key, planned_day, actual_day))
    tx.update(stat, [TemplateStat.count.add(1), TemplateStat.late.add(int(late)), TemplateStat.type.set("TemplateStat"),
                     TemplateStat.tenant_id.set(tenant_id), TemplateStat.task_key.set(task_key),
                     TemplateStat.planned_day.set(planned_day), TemplateStat.actual_day.set(actual_day)])
    return _commit_count(tx)


def count_project_completion(tenant_id: str, template_id: str, project_id: str, days_from_anchor: int,
                             late: bool) -> bool:
    """Count a project's first completion (False if it was counted before)."""
    tx = Transaction()
    _count_once(tx, tenant_id, template_id, project_id, CountedCompletion.SORT_PROJECT)
    stat = TemplateStat(TemplateStat.pk(tenant_id, template_id), TemplateStat.project_done_sort(days_from_anchor))
    tx.update(stat, [TemplateStat.count.add(1), TemplateStat.late.add(int(late)), TemplateStat.type.set("TemplateStat"),
                     TemplateStat.tenant_id.set(tenant_id), TemplateStat.actual_day.set(days_from_anchor)])
    return _commit_count(tx)
