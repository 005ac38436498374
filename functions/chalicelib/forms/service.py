"""Forms: the draft and its published versions, sharing (portal assignments, signed links), and
the reads other rooms call (`forms_waiting` for the portal). Submissions are in submit.py,
analytics in stats.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.canned import render
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, FieldError, NotFound, ValidationFailed, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version
from chalicelib.customers import service as customers

from . import fields as field_rules
from . import links
from .events import FormAssigned, FormPublished
from .models import ACTIVE, ARCHIVED, Form, FormAssignment, FormLink, FormVersion, FormWaiting, form_pk, version_sort

FORM_FIELDS = ("name", "description", "fields", "actions")
MAX_FIELDS = 60
PLACEHOLDER_ROOT = "answers."
DEFAULT_LINK_DAYS = 30
MAX_LINK_DAYS = 365


# ---------- views ----------

def form_view(form: Form) -> dict[str, Any]:
    return {"id": form.id, "name": form.name, "description": form.description, "fields": form.fields,
            "actions": form.actions, "published_version": form.published_version or None,
            "status": ARCHIVED if form.archived else ACTIVE, "version": form.version,
            "created_at": form.created_at, "updated_at": form.updated_at}


def version_view(version: FormVersion) -> dict[str, Any]:
    return {"form_id": version.form_id, "version": int(version.number), "name": version.name,
            "description": version.description, "fields": version.fields, "actions": version.actions,
            "published_at": version.published_at, "published_by": version.published_by}


def public_version_view(version: FormVersion) -> dict[str, Any]:
    """What someone filling the form sees: no actions (they name boards and people)."""
    return {key: value for key, value in version_view(version).items() if key not in ("actions", "published_by")}


# ---------- checks at save time ----------

def _problems_of_actions(principal: Principal, actions: list[dict[str, Any]], form_fields: list[dict[str, Any]],
                         ) -> list[FieldError]:
    by_key = {field["key"]: field for field in form_fields}
    problems: list[FieldError] = []
    for index, action in enumerate(actions):
        where = f"actions[{index}]"
        for name in ("title", "description", "message"):
            text = action.get(name)
            for placeholder in render.placeholders_in(text or ""):
                key = placeholder.removeprefix(PLACEHOLDER_ROOT)
                if not placeholder.startswith(PLACEHOLDER_ROOT) or key not in by_key:
                    problems.append(FieldError(f"{where}.{name}", f"unknown placeholder {{{{{placeholder}}}}}; "
                                                                  "use {{answers.<field key>}}"))
        kind = action["type"]
        if kind == "create_task":
            problems += _missing(principal, "projects", action["project_id"], f"{where}.project_id")
        elif kind == "apply_template":
            problems += _missing(principal, "templates", action["template_id"], f"{where}.template_id")
            if by_key.get(action["anchor_field"], {}).get("type") != "date":
                problems.append(FieldError(f"{where}.anchor_field", "must name a date field of this form"))
        elif kind == "update_customer":
            for number, mapping in enumerate(action["mappings"]):
                problem = mapping_problem(by_key.get(mapping["field"]), mapping["target"])
                if problem:
                    problems.append(FieldError(f"{where}.mappings[{number}]", problem))
    return problems


def _missing(principal: Principal, kind: str, record_id: str, where: str) -> list[FieldError]:
    from chalicelib.templates import service as templates  # reads through the owning rooms' services
    from chalicelib.work import service as work

    try:
        if kind == "projects":
            work.get_project(principal, record_id)
        else:
            templates.load_template(principal, record_id)
    except NotFound:
        return [FieldError(where, f"{kind[:-1]} {record_id} does not exist")]
    return []


CUSTOM_KINDS = {"number": "number", "currency": None, "date": "date", "yes_no": "bool", "consent": "bool"}
TEXTUAL = (*field_rules.TEXT_TYPES, *field_rules.CHOICE_TYPES)


def mapping_problem(field: dict[str, Any] | None, target: str) -> str | None:
    """Why an answer of `field` cannot fill customer field `target` (None when it can)."""
    if field is None:
        return "field must name a field of this form"
    kind = field["type"]
    if target.startswith("custom_fields."):
        ok = kind in TEXTUAL or CUSTOM_KINDS.get(kind) is not None
        return None if ok else f"a {kind} answer cannot fill a custom field"
    if target not in customers.FORM_MAPPABLE_FIELDS:
        return f"target must be one of {', '.join(customers.FORM_MAPPABLE_FIELDS)} or custom_fields.<key>"
    wanted = customers.FORM_MAPPABLE_FIELDS[target][0]
    fits = {"date": kind == "date", "text": kind in TEXTUAL, "choice": kind in TEXTUAL}[wanted]
    return None if fits else f"a {kind} answer cannot fill {target} (a {wanted})"


def _check_definition(principal: Principal, fields: dict[str, Any]) -> None:
    form_fields = fields.get("fields") or []
    if len(form_fields) > MAX_FIELDS:
        raise validation_error("fields", f"a form has at most {MAX_FIELDS} fields")
    problems = [FieldError(path, message) for path, message in
                field_rules.check_form_fields([field_rules.FieldDef.model_validate(f) for f in form_fields])]
    problems += _problems_of_actions(principal, fields.get("actions") or [], form_fields)
    if problems:
        raise ValidationFailed(f"{problems[0].field}: {problems[0].message}", problems)


# ---------- the draft ----------

def load_form(tenant_id: str, form_id: str) -> Form:
    try:
        return Form.get(Form.pk(tenant_id, form_id), Form.SORT)
    except Form.DoesNotExist as missing:
        raise NotFound(f"form {form_id} not found") from missing


def new_form(tenant_id: str, form_id: str, fields: dict[str, Any], library_key: str | None = None) -> Form:
    now = now_iso()
    form = Form(Form.pk(tenant_id, form_id), Form.SORT, type="Form", tenant_id=tenant_id, id=form_id, version=1,
                created_at=now, updated_at=now, published_version=0, archived=False, library_key=library_key,
                **{k: v for k, v in fields.items() if v is not None})
    form.index_keys()
    return form


def create_form(principal: Principal, fields: dict[str, Any]) -> Form:
    require(principal, "forms:write")
    _check_definition(principal, fields)
    form = new_form(principal.tenant_id, new_id(), fields)
    tx = Transaction()
    tx.create(form, lambda: Conflict("form already exists"))
    audit.record(tx, principal, "create", "form", form.id, audit.diff({}, fields))
    tx.commit()
    return form


def get_form(principal: Principal, form_id: str) -> Form:
    require(principal, "forms:read")
    return load_form(principal.tenant_id, form_id)


def update_form(principal: Principal, form_id: str, changes: dict[str, Any], expected_version: int) -> Form:
    require(principal, "forms:write")
    current = load_form(principal.tenant_id, form_id)
    require_version(current, expected_version, "form")
    if current.archived:
        raise Conflict("an archived form cannot be edited")
    before = {name: getattr(current, name) for name in FORM_FIELDS}
    after = {**before, **changes}
    _check_definition(principal, after)
    changed = audit.diff(before, after)
    if not changed:
        return current
    updated = Form(current.PK, current.SK, **{**current.attribute_values, **after})
    updated.version, updated.updated_at = current.version + 1, now_iso()
    updated.index_keys()
    tx = Transaction()
    tx.put(updated, Form.version == current.version, lambda: Conflict("the form changed meanwhile; reload it"))
    audit.record(tx, principal, "update", "form", form_id, changed)
    tx.commit()
    return updated


def publish_form(principal: Principal, form_id: str) -> FormVersion:
    """The draft, frozen as version N+1 (immutable); submissions take it from now on."""
    require(principal, "forms:write")
    form = load_form(principal.tenant_id, form_id)
    if form.archived:
        raise Conflict("an archived form cannot be published")
    if not any(field["type"] != "section" for field in form.fields):
        raise validation_error("fields", "a form needs at least one question before it is published")
    _check_definition(principal, {name: getattr(form, name) for name in FORM_FIELDS})
    tx = Transaction()
    published = add_version(tx, form, principal.user_id)
    tx.update(form, [Form.published_version.set(published.number), Form.version.add(1),
                     Form.updated_at.set(published.published_at)],
              Form.version == form.version, lambda: Conflict("the form changed meanwhile; publish again"))
    audit.record(tx, principal, "publish", "form", form_id, {"published_version": {
        "before": form.published_version or None, "after": published.number}})
    tx.commit()
    return published


def add_version(tx: Transaction, form: Form, by: str) -> FormVersion:
    number = int(form.published_version or 0) + 1
    version = FormVersion(form.PK, version_sort(number), type="FormVersion", tenant_id=form.tenant_id,
                          form_id=form.id, number=number, name=form.name, description=form.description,
                          fields=form.fields, actions=form.actions, published_at=now_iso(), published_by=by)
    tx.create(version, lambda: Conflict(f"version {number} was published meanwhile"))
    tx.publish(FormPublished(form_id=form.id, form_version=number).event(form.tenant_id))
    return version


def load_version(tenant_id: str, form_id: str, number: int) -> FormVersion:
    try:
        return FormVersion.get(form_pk(tenant_id, form_id), version_sort(number))
    except FormVersion.DoesNotExist as missing:
        raise NotFound(f"form {form_id} has no version {number}") from missing


def get_version(principal: Principal, form_id: str, number: int) -> FormVersion:
    require(principal, "forms:read")
    if principal.role == "portal":
        assigned_form(principal, form_id)
    return load_version(principal.tenant_id, form_id, number)


def archive_form(principal: Principal, form_id: str) -> Form:
    require(principal, "forms:write")
    form = load_form(principal.tenant_id, form_id)
    if form.archived:
        return form
    archived = Form(form.PK, form.SK, **{**form.attribute_values, "archived": True})
    archived.version, archived.updated_at = form.version + 1, now_iso()
    archived.index_keys()
    tx = Transaction()
    tx.put(archived, Form.version == form.version, lambda: Conflict("the form changed meanwhile; retry"))
    audit.record(tx, principal, "archive", "form", form_id, {"status": {"before": ACTIVE, "after": ARCHIVED}})
    tx.commit()
    return archived


def list_forms(principal: Principal, state: str, limit: int, cursor: str | None) -> Page[Form]:
    require(principal, "forms:read")
    if principal.role == "portal":
        raise NotFound("portal users see the forms assigned to them on the portal")
    return read_page([query_reader(Form.by_name, Form.list_pk(principal.tenant_id, state))], limit, cursor)


def live_version(form: Form) -> FormVersion:
    if form.archived or not form.published_version:
        raise Conflict("this form is not taking answers (not published, or archived)")
    return load_version(form.tenant_id, form.id, int(form.published_version))


# ---------- the portal ----------

def _assignment(tenant_id: str, form_id: str, customer_id: str) -> FormAssignment | None:
    try:
        return FormAssignment.get(form_pk(tenant_id, form_id), FormAssignment.sort(customer_id))
    except FormAssignment.DoesNotExist:
        return None


def assigned_form(principal: Principal, form_id: str) -> tuple[Form, FormAssignment]:
    """A portal user's form: assigned to their company (404 otherwise, as if absent)."""
    if not principal.customer_id:
        raise NotFound(f"form {form_id} not found")
    assignment = _assignment(principal.tenant_id, form_id, principal.customer_id)
    if assignment is None:
        raise NotFound(f"form {form_id} not found")
    return load_form(principal.tenant_id, form_id), assignment


def assign_form(principal: Principal, form_id: str, customer_id: str, due_date: str | None) -> FormAssignment:
    require(principal, "forms:share")
    form = load_form(principal.tenant_id, form_id)
    live_version(form)
    customers.validate_reference(principal, customer_id, "customer_id")
    before = _assignment(principal.tenant_id, form_id, customer_id)
    assignment = FormAssignment(form.PK, FormAssignment.sort(customer_id), type="FormAssignment",
                                tenant_id=principal.tenant_id, form_id=form_id, form_name=form.name,
                                customer_id=customer_id, due_date=due_date, assigned_at=now_iso(),
                                assigned_by=principal.user_id)
    tx = Transaction()
    tx.put(assignment)
    if before is not None and not before.submitted_at and before.waiting_entry().SK != assignment.waiting_entry().SK:
        tx.delete(before.waiting_entry())
    tx.put(assignment.waiting_entry())
    tx.publish(FormAssigned(form_id=form_id, customer_id=customer_id, due_date=due_date).event(principal.tenant_id))
    audit.record(tx, principal, "assign", "form", form_id, {"customer_id": {"before": None, "after": customer_id}})
    tx.commit()
    return assignment


def assignment_view(assignment: FormAssignment) -> dict[str, Any]:
    return {"form_id": assignment.form_id, "form_name": assignment.form_name, "customer_id": assignment.customer_id,
            "due_date": assignment.due_date, "assigned_at": assignment.assigned_at,
            "submitted_at": assignment.submitted_at, "submission_id": assignment.submission_id}


def forms_waiting(tenant_id: str, customer_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """For the portal: the forms assigned to this customer and not yet submitted, due first (those
    without a due date last) — one Query of the customer's waiting partition."""
    page = read_page([query_reader(FormWaiting, FormWaiting.pk(tenant_id, customer_id))], limit, None)
    return [{"form_id": w.form_id, "form_name": w.form_name, "customer_id": w.customer_id, "due_date": w.due_date,
             "assigned_at": w.assigned_at} for w in page.items]


# ---------- signed links ----------

def create_link(principal: Principal, form_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    require(principal, "forms:share")
    form = load_form(principal.tenant_id, form_id)
    version = live_version(form)
    customer_id, contact_id = fields.get("customer_id"), fields.get("contact_id")
    if contact_id:
        try:
            contact = customers.get_contact(principal, contact_id)
        except NotFound as missing:
            raise validation_error("contact_id", f"contact {contact_id} does not exist") from missing
        if customer_id and contact.customer_id != customer_id:
            raise validation_error("contact_id", "the contact is not at that customer")
        customer_id = contact.customer_id
    if customer_id:
        customers.validate_reference(principal, customer_id, "customer_id")
    hidden = {field["key"] for field in version.fields if field["type"] == "hidden"}
    prefill = fields.get("prefill") or {}
    unknown = sorted(set(prefill) - hidden)
    if unknown:
        raise validation_error("prefill", f"{unknown[0]} is not a hidden field of the published form")
    now = datetime.now(UTC)
    expires = fields.get("expires_at") or now + timedelta(days=DEFAULT_LINK_DAYS)
    if expires <= now or expires > now + timedelta(days=MAX_LINK_DAYS):
        raise validation_error("expires_at", f"must be in the future, at most {MAX_LINK_DAYS} days ahead")
    link = FormLink(form.PK, FormLink.sort(link_id := new_id()), type="FormLink", tenant_id=principal.tenant_id,
                    id=link_id, form_id=form_id, customer_id=customer_id, contact_id=contact_id,
                    single_use=bool(fields.get("single_use")), expires_at_iso=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    prefill=prefill, uses=0, created_at=now_iso(), created_by=principal.user_id)
    tx = Transaction()
    tx.create(link, lambda: Conflict("link already exists"))
    audit.record(tx, principal, "share", "form", form_id, {"link_id": {"before": None, "after": link_id}})
    tx.commit()
    token = links.sign(links.LinkToken(principal.tenant_id, form_id, link_id, int(expires.timestamp())))
    return {"id": link_id, "form_id": form_id, "token": token, "path": f"/public/forms/{token}",
            "customer_id": customer_id, "contact_id": contact_id, "single_use": link.single_use,
            "expires_at": link.expires_at_iso, "prefill": prefill}
