"""Customer and contact rules: who may see and change which customer, uniqueness of domains
and contact emails, archiving, and the derived index items — each change one transaction
with its audit entry, then its domain event."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, FieldError, NotFound, ValidationFailed, validation_error
from chalicelib.core.events import Event, new_event
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, PageReader, read_page
from chalicelib.core.permissions import Reach, require, sees_financials
from chalicelib.core.reads import ReadPlan
from chalicelib.core.table import (
    MAX_TRANSACTION_ITEMS,
    Transaction,
    now_iso,
    query_reader,
    read_items,
    require_version,
    sync_derived,
)
from chalicelib.team import service as team

from . import events as _declared_events  # noqa: F401 (declares the types new_event names)
from .models import (
    ACTIVE,
    ARCHIVED,
    Contact,
    Customer,
    CustomerIndexEntry,
    UniqueClaim,
    customers_pk,
)

CUSTOMER_FIELDS = (
    "name", "domains", "tier", "segment", "tags", "lifecycle_stage", "owner_id", "team_ids",
    "contract_start", "renewal_date", "signup_date", "mrr", "custom_fields",
    "portal_ticket_sharing", "portal_self_invite",
)
FINANCIAL_FIELDS = frozenset({"mrr", "arr"})
PORTAL_FIELDS = frozenset({"id", "name", "owner_id", "contract_start", "lifecycle_stage"})
CONTACT_FIELDS = ("name", "email", "phone", "title", "exec_sponsor", "champion", "billing")

Filters = dict[str, Any]
# A domain claim carries its customer (one read for GET /customers?domain=) unless the customer
# is this large, as DynamoDB stores it; then the claim is followed to the customer (two reads).
CLAIM_SNAPSHOT_LIMIT = 100_000


# ---------- reach ----------


def _reaches(principal: Principal, reach: Reach, customer: Customer) -> bool:
    if reach is Reach.ALL:
        return True
    if reach is Reach.OWN_COMPANY:
        return principal.customer_id == customer.id
    return principal.user_id == customer.owner_id or principal.user_id in (customer.team_ids or [])


def _load(principal: Principal, customer_id: str, action: str) -> Customer:
    reach = require(principal, action)
    try:
        customer = Customer.get(Customer.pk(principal.tenant_id, customer_id), Customer.SORT)
    except Customer.DoesNotExist as missing:
        raise NotFound(f"customer {customer_id} not found") from missing
    return _reachable(principal, reach, customer)


def _reachable(principal: Principal, reach: Reach, customer: Customer) -> Customer:
    if not _reaches(principal, reach, customer):
        raise NotFound(f"customer {customer.id} not found")
    return customer


def customer_for(plan: ReadPlan, principal: Principal, customer_id: str) -> Callable[[], Customer]:
    """For other rooms: `get_customer`, read as part of the caller's batch (core.reads)."""
    reach = require(principal, "customers:read")
    key = plan.want(Customer, Customer.pk(principal.tenant_id, customer_id), Customer.SORT)

    def answer() -> Customer:
        customer = plan.item(key)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        return _reachable(principal, reach, customer)

    return answer


# ---------- representation ----------


def customer_fields(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in CUSTOMER_FIELDS}


def customer_view(principal: Principal, customer: Customer) -> dict[str, Any]:
    view = {
        "id": customer.id,
        **customer_fields(customer),
        "archived": customer.archived,
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }
    if principal.role == "portal":
        return {k: v for k, v in view.items() if k in PORTAL_FIELDS}
    if not sees_financials(principal):
        view = {k: v for k, v in view.items() if k not in FINANCIAL_FIELDS}
        view["custom_fields"] = {key: field for key, field in (view["custom_fields"] or {}).items()
                                 if not is_financial_custom_field(key, field)}
    return view


def is_financial_custom_field(key: str, field: dict[str, Any]) -> bool:
    """Money kept in a custom field is money: typed `money`, flagged `financial`, or named like
    the financial fields themselves (`arr`)."""
    return field.get("type") == "money" or bool(field.get("financial")) or key in FINANCIAL_FIELDS


def _contact_fields(contact: Contact) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in CONTACT_FIELDS}


def contact_view(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "customer_id": contact.customer_id,
        **_contact_fields(contact),
        "email_status": contact.email_status,
        "version": contact.version,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


# ---------- derived items ----------


def _index_entries(customer: Customer) -> dict[str, CustomerIndexEntry]:
    facets = [("TAG", tag) for tag in customer.tags or []]
    people = {customer.owner_id, *(customer.team_ids or [])} - {None}
    facets += [("ACCESS", user) for user in sorted(people)]  # type: ignore[type-var]
    entries = {}
    for facet, value in facets:
        sort = CustomerIndexEntry.sort(facet, value)
        entries[sort] = CustomerIndexEntry(
            customer.PK,
            sort,
            type="CustomerIndexEntry",
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            GSI1PK=customers_pk(customer.tenant_id, customer.state(), facet, value),
            GSI1SK=customer.GSI1SK,
        )
    return entries


def _sync_index_entries(tx: Transaction, before: Customer | None, after: Customer) -> None:
    sync_derived(tx, _index_entries(before) if before else {}, _index_entries(after))


def _domain_taken(domain: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"domain {domain} already belongs to another customer", [])


def _claim(tx: Transaction, pk: str, owner_id: str, tenant_id: str, on_taken: Callable[[], Conflict]) -> None:
    tx.create(UniqueClaim(pk, UniqueClaim.SORT, type="UniqueClaim", tenant_id=tenant_id, owner_id=owner_id), on_taken)


def _sync_domains(tx: Transaction, before: list[str], after: Customer) -> None:
    """Claim the new domains, release the dropped ones, and rewrite every kept claim with the
    customer as it now is (the claim carries it: the customer of a domain is one GetItem)."""
    tenant, snapshot = after.tenant_id, after.serialize()
    if len(json.dumps(snapshot)) > CLAIM_SNAPSHOT_LIMIT:
        snapshot = None  # a claim stays well under DynamoDB's 400 KB item: found in two reads
    for domain in sorted(after.domains):
        claim = UniqueClaim(UniqueClaim.domain_pk(tenant, domain), UniqueClaim.SORT, type="UniqueClaim",
                            tenant_id=tenant, owner_id=after.id, customer=snapshot)
        if domain in before:
            tx.put(claim, UniqueClaim.owner_id == after.id, _domain_taken(domain))
        else:
            tx.create(claim, _domain_taken(domain))
    for domain in sorted(set(before) - set(after.domains)):
        tx.delete(UniqueClaim(UniqueClaim.domain_pk(tenant, domain), UniqueClaim.SORT))


def _stale(kind: str, item_id: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"{kind} {item_id} was changed by someone else; reload and retry")


def _require_people(tx: Transaction, principal: Principal, fields: dict[str, Any]) -> None:
    if fields.get("owner_id"):
        team.require_active_users(tx, principal.tenant_id, [fields["owner_id"]], "owner_id")
    if fields.get("team_ids"):
        team.require_active_users(tx, principal.tenant_id, fields["team_ids"], "team_ids")


# The list fields whose every element is an item of its own in the change's transaction
# (a domain claim, a tag or access index entry, an active-user check).
_FANNED_OUT_FIELDS = ("domains", "tags", "owner_id", "team_ids")


def _within_one_transaction(tx: Transaction, changes: dict[str, Any]) -> None:
    """A change is one transaction or nothing: one that would write more items than DynamoDB
    takes at once is refused, naming the fields to change in separate requests."""
    if len(tx) <= MAX_TRANSACTION_ITEMS:
        return
    fields = [name for name in _FANNED_OUT_FIELDS if name in changes]
    message = (f"this change writes {len(tx)} items and one change may write at most {MAX_TRANSACTION_ITEMS}; "
               f"change {', '.join(fields)} in separate requests")
    raise ValidationFailed(message, [FieldError(name, message) for name in fields])


def _event(principal: Principal, detail_type: str, detail: dict[str, Any]) -> Event:
    return new_event(principal.tenant_id, detail_type, detail)


# ---------- customers ----------


def create_customer(principal: Principal, fields: dict[str, Any]) -> Customer:
    reach = require(principal, "customers:write")
    fields = dict(fields)
    if reach is Reach.OWNED and principal.user_id not in {fields.get("owner_id"), *fields.get("team_ids", [])}:
        fields["owner_id"] = fields.get("owner_id") or principal.user_id
        if fields["owner_id"] != principal.user_id:
            fields["team_ids"] = [*fields.get("team_ids", []), principal.user_id]
    now = now_iso()
    customer_id = new_id()
    customer = Customer(
        Customer.pk(principal.tenant_id, customer_id),
        Customer.SORT,
        type="Customer",
        tenant_id=principal.tenant_id,
        id=customer_id,
        version=1,
        created_at=now,
        updated_at=now,
        archived=False,
        **{k: v for k, v in fields.items() if v is not None},
    )
    customer.index_keys()
    tx = Transaction()
    tx.create(customer, lambda: Conflict("customer already exists"))
    _sync_domains(tx, [], customer)
    _sync_index_entries(tx, None, customer)
    _require_people(tx, principal, fields)
    audit.record(tx, principal, "create", "customer", customer_id, audit.diff({}, customer_fields(customer)))
    tx.publish(_event(principal, "Customer.Created", {"customer_id": customer_id, "fields": customer_fields(customer)}))
    tx.commit()
    return customer


def get_customer(principal: Principal, customer_id: str) -> Customer:
    return _load(principal, customer_id, "customers:read")


def update_customer(
    principal: Principal, customer_id: str, changes: dict[str, Any], expected_version: int
) -> Customer:
    current = _load(principal, customer_id, "customers:write")
    require_version(current, expected_version, "customer")
    if current.archived:
        raise Conflict("archived customers cannot be edited")
    before = customer_fields(current)
    after = {**before, **changes}
    if "custom_fields" in changes:
        merged = {**(before["custom_fields"] or {}), **(changes["custom_fields"] or {})}
        after["custom_fields"] = {k: v for k, v in merged.items() if v is not None}
    changed = audit.diff(before, after)
    if not changed:
        return current
    updated = Customer(current.PK, current.SORT, **{**current.attribute_values, **after})
    updated.version = current.version + 1
    updated.updated_at = now_iso()
    updated.index_keys()
    tx = Transaction()
    tx.put(updated, Customer.version == current.version, _stale("customer", customer_id))
    _sync_domains(tx, before["domains"], updated)
    _sync_index_entries(tx, current, updated)
    _require_people(tx, principal, {k: changes.get(k) for k in ("owner_id", "team_ids")})
    audit.record(tx, principal, "update", "customer", customer_id, changed)
    tx.publish(_event(principal, "Customer.Updated",
                      {"customer_id": customer_id, "version": updated.version, "changes": changed}))
    _within_one_transaction(tx, changes)
    tx.commit()
    return updated


def archive_customer(principal: Principal, customer_id: str) -> Customer:
    current = _load(principal, customer_id, "customers:write")
    if current.archived:
        return current
    archived = Customer(current.PK, current.SORT, **current.attribute_values)
    archived.archived = True
    archived.version = current.version + 1
    archived.updated_at = now_iso()
    archived.index_keys()
    tx = Transaction()
    tx.put(archived, Customer.version == current.version, _stale("customer", customer_id))
    _sync_domains(tx, current.domains, archived)
    _sync_index_entries(tx, current, archived)
    audit.record(tx, principal, "archive", "customer", customer_id, audit.diff({"archived": False}, {"archived": True}))
    tx.publish(_event(principal, "Customer.Archived", {"customer_id": customer_id, "version": archived.version}))
    tx.commit()
    return archived


def customer_by_domain(principal: Principal, domain: str) -> Customer | None:
    """One GetItem: the domain's claim carries its customer (a claim written before it did is
    followed to the customer: a second read)."""
    reach = require(principal, "customers:read")
    try:
        claim = UniqueClaim.get(UniqueClaim.domain_pk(principal.tenant_id, domain), UniqueClaim.SORT)
    except UniqueClaim.DoesNotExist:
        return None
    if claim.customer is None:
        try:
            return _load(principal, claim.owner_id, "customers:read")
        except NotFound:
            return None
    customer = Customer.from_raw_data(claim.customer)
    return customer if _reaches(principal, reach, customer) else None


def _matches(customer: Customer, filters: Filters) -> bool:
    checks = {
        "owner_id": lambda v: customer.owner_id == v,
        "tier": lambda v: customer.tier == v,
        "lifecycle_stage": lambda v: customer.lifecycle_stage == v,
        "tag": lambda v: v in (customer.tags or []),
        "q": lambda v: customer.name.casefold().startswith(v.casefold()),
    }
    return all(checks[name](value) for name, value in filters.items() if value is not None and name in checks)


def _customers_of(entries: list[CustomerIndexEntry]) -> list[Customer | None]:
    """The customers index entries point at (one BatchGet), aligned with the entries."""
    keys = [(entry.PK, Customer.SORT) for entry in entries]
    by_pk = {c.PK: c for c in read_items(keys, [Customer])} if keys else {}
    return [by_pk.get(entry.PK) for entry in entries]


def _via_index_entries(
    principal: Principal, facet: str, value: str, state: str, filters: Filters
) -> PageReader[Customer]:
    """Query the index entries of one facet, then BatchGet the customers they point at."""
    prefix = filters.get("q")
    condition = CustomerIndexEntry.GSI1SK.startswith(prefix.casefold()) if prefix else None
    # Only filters other than the partition's own (and `q`, its key condition) drop customers.
    others = {k: v for k, v in filters.items() if v is not None and k not in ("q", "domain")
              and not (facet == "TAG" and k == "tag")}
    return query_reader(CustomerIndexEntry.by_facet, customers_pk(principal.tenant_id, state, facet, value),
                        condition, resolve=_customers_of,
                        keep=(lambda customer: _matches(customer, others)) if others else None)


# The filters a list may read by, most selective first: (filters, index, facet of the partition).
_FACET_INDEXES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("owner_id",), "by_owner", "OWNER"),
    (("tier", "lifecycle_stage"), "by_tier_stage", "TIERSTAGE"),
    (("tier",), "by_tier", "TIER"),
    (("lifecycle_stage",), "by_stage", "STAGE"),
)


def _source(principal: Principal, reach: Reach, state: str, filters: Filters) -> PageReader[Customer]:
    tenant = principal.tenant_id
    if reach in (Reach.OWNED, Reach.ASSIGNED):
        return _via_index_entries(principal, "ACCESS", principal.user_id, state, filters)
    if filters.get("tag"):
        return _via_index_entries(principal, "TAG", filters["tag"], state, filters)
    prefix = filters.get("q")
    for fields, index_name, facet in _FACET_INDEXES:
        if all(filters.get(field) for field in fields):
            index = getattr(Customer, index_name)
            # the model's attribute, not the index instance's: PynamoDB resolves those per item
            sort_attribute = getattr(Customer, f"{index.Meta.index_name}SK")
            rest = {k: v for k, v in filters.items() if k not in (*fields, "q")}
            return query_reader(
                index,
                customers_pk(tenant, state, facet, "#".join(filters[field] for field in fields)),
                sort_attribute.startswith(prefix.casefold()) if prefix else None,
                _filter_condition(rest),
            )
    condition = Customer.GSI1SK.startswith(prefix.casefold()) if prefix else None
    return query_reader(Customer.by_name, customers_pk(tenant, state), condition)


def _filter_condition(filters: Filters) -> Condition | None:
    condition: Condition | None = None
    for name in ("owner_id", "tier", "lifecycle_stage"):
        if filters.get(name):
            term = getattr(Customer, name) == filters[name]
            condition = term if condition is None else condition & term
    return condition


def list_customers(
    principal: Principal, filters: Filters, include_archived: bool, limit: int, cursor: str | None
) -> Page[Customer]:
    reach = require(principal, "customers:read")
    if filters.get("domain"):
        found = customer_by_domain(principal, filters["domain"])
        rest = {k: v for k, v in filters.items() if k != "domain"}
        visible = found is not None and (include_archived or not found.archived) and _matches(found, rest)
        return Page([found] if visible and found else [], None)
    if reach is Reach.OWN_COMPANY:
        assert principal.customer_id
        own = get_customer(principal, principal.customer_id)
        return Page([own] if _matches(own, filters) and not own.archived else [], None)
    states = [ACTIVE, ARCHIVED] if include_archived else [ACTIVE]
    sources = [_source(principal, reach, state, filters) for state in states]
    return read_page(sources, limit, cursor)


# ---------- contacts ----------


def _email_taken(email: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"a contact with email {email} already exists", [])


def _load_contact(principal: Principal, contact_id: str, action: str) -> Contact:
    try:
        contact = Contact.get(Contact.pk(principal.tenant_id, contact_id), Contact.SORT)
    except Contact.DoesNotExist as missing:
        raise NotFound(f"contact {contact_id} not found") from missing
    return _reachable_contact(principal, contact, action)


def _reachable_contact(principal: Principal, contact: Contact, action: str) -> Contact:
    """A contact is visible where its customer is; a role that reaches every customer needs no read."""
    if require(principal, action) is Reach.ALL:
        return contact
    try:
        _load(principal, contact.customer_id, action)
    except NotFound as hidden:
        raise NotFound(f"contact {contact.id} not found") from hidden
    return contact


def create_contact(principal: Principal, customer_id: str, fields: dict[str, Any]) -> Contact:
    customer = _load(principal, customer_id, "contacts:write")
    if customer.archived:
        raise Conflict("archived customers cannot take new contacts")
    now, contact_id, tenant = now_iso(), new_id(), principal.tenant_id
    contact = Contact(
        Contact.pk(tenant, contact_id),
        Contact.SORT,
        type="Contact",
        tenant_id=tenant,
        id=contact_id,
        customer_id=customer_id,
        version=1,
        created_at=now,
        updated_at=now,
        **{k: v for k, v in fields.items() if v is not None},
    )
    contact.index_keys()
    tx = Transaction()
    tx.create(contact, lambda: Conflict("contact already exists"))
    _claim(tx, UniqueClaim.email_pk(tenant, contact.email), contact_id, tenant, _email_taken(contact.email))
    still_active = Customer.archived == False  # noqa: E712 (a PynamoDB condition, not a comparison)
    tx.check(Customer, customer.PK, Customer.SORT, still_active, lambda: Conflict("customer was archived"))
    audit.record(tx, principal, "create", "contact", contact_id, audit.diff({}, _contact_fields(contact)))
    tx.publish(_event(principal, "Contact.Created", {"contact_id": contact_id, "customer_id": customer_id}))
    tx.commit()
    return contact


def list_contacts(principal: Principal, customer_id: str, limit: int, cursor: str | None) -> Page[Contact]:
    _load(principal, customer_id, "contacts:read")
    source = query_reader(Contact.by_customer, Contact.customer_contacts_pk(principal.tenant_id, customer_id))
    return read_page([source], limit, cursor)


def contact_by_email(principal: Principal, email: str) -> Contact | None:
    require(principal, "contacts:read")
    found = list(Contact.by_email.query(Contact.email_pk(principal.tenant_id, email), limit=1))
    if not found:
        return None
    try:
        return _reachable_contact(principal, found[0], "contacts:read")
    except NotFound:
        return None


def update_contact(
    principal: Principal, contact_id: str, changes: dict[str, Any], expected_version: int
) -> Contact:
    current = _load_contact(principal, contact_id, "contacts:write")
    require_version(current, expected_version, "contact")
    before = _contact_fields(current)
    changed = audit.diff(before, {**before, **changes})
    if not changed:
        return current
    updated = Contact(current.PK, current.SORT, **{**current.attribute_values, **changes})
    updated.version, updated.updated_at = current.version + 1, now_iso()
    updated.index_keys()
    tenant = principal.tenant_id
    tx = Transaction()
    tx.put(updated, Contact.version == current.version, _stale("contact", contact_id))
    if updated.email != current.email:
        _claim(tx, UniqueClaim.email_pk(tenant, updated.email), contact_id, tenant, _email_taken(updated.email))
        tx.delete(UniqueClaim(UniqueClaim.email_pk(tenant, current.email), UniqueClaim.SORT))
    audit.record(tx, principal, "update", "contact", contact_id, changed)
    tx.publish(_event(principal, "Contact.Updated", {"contact_id": contact_id, "changes": changed}))
    tx.commit()
    return updated


def delete_contact(principal: Principal, contact_id: str) -> None:
    current = _load_contact(principal, contact_id, "contacts:write")
    tenant = principal.tenant_id
    tx = Transaction()
    tx.delete(current, Contact.version == current.version, _stale("contact", contact_id))
    tx.delete(UniqueClaim(UniqueClaim.email_pk(tenant, current.email), UniqueClaim.SORT))
    audit.record(tx, principal, "delete", "contact", contact_id, audit.diff(_contact_fields(current), {}))
    tx.publish(_event(principal, "Contact.Deleted", {"contact_id": contact_id, "customer_id": current.customer_id}))
    tx.commit()


def validate_reference(principal: Principal, customer_id: str, field: str) -> None:
    """For other rooms: a 422 naming `field` unless the customer exists and the caller reaches it."""
    try:
        _load(principal, customer_id, "customers:read")
    except NotFound as missing:
        raise validation_error(field, f"customer {customer_id} does not exist") from missing


def reaches_customer(principal: Principal, customer_id: str) -> bool:
    """For other rooms: whether the caller may read the customer (an unknown one: no)."""
    try:
        _load(principal, customer_id, "customers:read")
    except NotFound:
        return False
    return True


def reachable_customer_ids(principal: Principal) -> list[str]:
    """For other rooms' lists: the ids of every customer the caller may read (a member's: those
    they own or are on the team of), all pages."""
    ids: list[str] = []
    cursor = None
    while True:
        page = list_customers(principal, {}, False, 200, cursor)
        ids += [customer.id for customer in page.items]
        cursor = page.next_cursor
        if not cursor:
            return ids


def contact_record_for(plan: ReadPlan, tenant_id: str, contact_id: str) -> Callable[[], Contact | None]:
    """For other rooms, read as part of their batch (core.reads): the contact as stored, or None,
    WITHOUT a reach check — for a caller that only accepts a contact of a customer it has
    already shown the caller reaches (else it must ask `get_contact`)."""
    key = plan.want(Contact, Contact.pk(tenant_id, contact_id), Contact.SORT)
    return lambda: plan.item(key)


def get_contact(principal: Principal, contact_id: str) -> Contact:
    """For other rooms: a contact the caller may read (404 otherwise)."""
    return _load_contact(principal, contact_id, "contacts:read")


def display_names(tenant_id: str, customer_id: str, contact_id: str | None) -> tuple[str | None, str | None]:
    """For other rooms that already authorized access to a record referencing them (a ticket
    reply's placeholders): the customer's and the contact's names, without a reach check."""
    try:
        customer: str | None = Customer.get(Customer.pk(tenant_id, customer_id), Customer.SORT).name
    except Customer.DoesNotExist:
        customer = None
    if not contact_id:
        return customer, None
    try:
        return customer, Contact.get(Contact.pk(tenant_id, contact_id), Contact.SORT).name
    except Contact.DoesNotExist:
        return customer, None


# Customer fields a form may fill from an answer (forms room, on Form.Submitted): the kind of
# value each takes and, for a choice, its allowed values. `custom_fields.<key>` takes text,
# number, date or bool.
FORM_MAPPABLE_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tier": ("choice", ("enterprise", "mid_market", "smb")),
    "segment": ("text", ()),
    "lifecycle_stage": ("choice", ("onboarding", "active", "at_risk", "renewal", "churned")),
    "contract_start": ("date", ()),
    "renewal_date": ("date", ()),
    "signup_date": ("date", ()),
}


def apply_form_answers(automation: Principal, customer_id: str, changes: dict[str, Any]) -> Customer | None:
    """Set customer fields from a form submission's mapped answers (already typed by the forms
    room against FORM_MAPPABLE_FIELDS): on the customer's current version, retried when a
    concurrent edit moved it; None when the customer is gone or archived. Setting the same
    values again changes nothing, so a replay is harmless."""
    for _ in range(3):
        try:
            current = _load(automation, customer_id, "customers:write")
        except NotFound:
            return None
        if current.archived:
            return None
        try:
            return update_customer(automation, customer_id, changes, current.version)
        except Conflict:
            continue
    raise Conflict(f"customer {customer_id} kept changing; the form's answers will be retried")


def mark_email_bouncing(tenant_id: str, email: str, status: str | None) -> Contact | None:
    """For the mail room's Mail.Bounced (customers/consumers.py): the contact with this email is
    `bouncing` — one conditional update with its Contact.Updated event; None when no contact
    has the address or it was bouncing already."""
    found = list(Contact.by_email.query(Contact.email_pk(tenant_id, email), limit=1))
    if not found or found[0].email_status == "bouncing":
        return None
    current = found[0]
    tx = Transaction()
    now = now_iso()
    tx.update(current, [Contact.email_status.set("bouncing"), Contact.version.add(1), Contact.updated_at.set(now)],
              Contact.version == current.version, _stale("contact", current.id))
    tx.publish(new_event(tenant_id, "Contact.Updated", {
        "contact_id": current.id,
        "changes": {"email_status": {"before": current.email_status, "after": "bouncing"}}}))
    tx.commit()
    return current
