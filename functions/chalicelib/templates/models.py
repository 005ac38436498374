"""Templates, their versions, and the counters their analytics read.

| access pattern | index | key condition |
|---|---|---|
| template by id (+ latest definition: apply reads one item) | table | PK = T#t#TEMPLATE#<id>, SK = TEMPLATE |
| versions of a template, oldest first | table | PK = T#t#TEMPLATE#<id>, SK begins_with VERSION# |
| one version | table | PK = T#t#TEMPLATE#<id>, SK = VERSION#<000001> |
| templates, by name | GSI1 | GSI1PK = T#t#TEMPLATES#<state>, GSI1SK = <name>#<id> |
| templates in a category, by name | GSI2 | GSI2PK = T#t#TEMPLATES#<state>#CATEGORY#<category> |
| a template's analytics (counters and completion buckets) | table | PK = T#t#TEMPLATE#<id>#STATS |
| created or completion counted? (replay guard) | table | PK = T#t#TEMPLATE#<id>#COUNTED, SK = <project>#<task key> |
| a project's template link (version, anchor, planned Days) | table | PK = T#t#TEMPLATEPROJECT#<project>, SK = LINK |
| projects following a customer's contract_start | GSI1 (sparse) | GSI1PK = T#t#ANCHORFOLLOWERS#<customer> |
| the project an apply request began | table | PK = T#t#APPLY#<sha256 of user:template:Idempotency-Key>, SK = CLAIM |

`<state>` is `active` or `archived`. Analytics read one partition whose size depends on the
template (its tasks by distinct completion Days), never on how many projects used it.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, TableItem, VersionedItem, tenant_key

ACTIVE, ARCHIVED = "active", "archived"


def templates_pk(tenant_id: str, state: str, *facet: str) -> str:
    return tenant_key(tenant_id, "TEMPLATES", state, *facet)


class Template(VersionedItem):
    """`version` guards concurrent edits of this item; `template_version` numbers the task
    definitions that projects are made from."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()
    category = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    library_key = UnicodeAttribute(null=True)
    calendar = UnicodeAttribute()
    project = JSONAttribute()
    roles = ListAttribute(default=list)
    tasks = JSONAttribute()
    template_version = NumberAttribute()
    archived = BooleanAttribute(default=False)
    by_name = GSI1()
    by_category = GSI2()

    SORT = "TEMPLATE"

    @staticmethod
    def pk(tenant_id: str, template_id: str) -> str:
        return tenant_key(tenant_id, "TEMPLATE", template_id)

    def state(self) -> str:
        return ARCHIVED if self.archived else ACTIVE

    def index_keys(self) -> None:
        sort = f"{self.name.casefold()}#{self.id}"
        self.GSI1PK, self.GSI1SK = templates_pk(self.tenant_id, self.state()), sort
        self.GSI2PK, self.GSI2SK = templates_pk(self.tenant_id, self.state(), "CATEGORY", self.category), sort


class TemplateVersion(TableItem):
    """What a version defines, frozen: the schedule-shaping fields apply reads."""

    template_id = UnicodeAttribute()
    number = NumberAttribute()
    calendar = UnicodeAttribute()
    project = JSONAttribute()
    roles = ListAttribute(default=list)
    tasks = JSONAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()

    PREFIX = "VERSION#"

    @staticmethod
    def sort(number: int) -> str:
        return f"{TemplateVersion.PREFIX}{number:06d}"


class TemplateStat(TableItem):
    """A counter: projects created per version, projects completed per completion Day, task
    completions per (planned Day, actual Day). Moved with ADD, so concurrent writers never
    lose a count."""

    count = NumberAttribute(default=0)
    late = NumberAttribute(default=0)
    template_version = NumberAttribute(null=True)
    task_key = UnicodeAttribute(null=True)
    planned_day = NumberAttribute(null=True)
    actual_day = NumberAttribute(null=True)

    CREATED, PROJECT_DONE, TASK_DONE = "CREATED#", "PROJECT#", "TASK#"

    @staticmethod
    def pk(tenant_id: str, template_id: str) -> str:
        return tenant_key(tenant_id, "TEMPLATE", template_id, "STATS")

    @staticmethod
    def created_sort(template_version: int) -> str:
        return f"{TemplateStat.CREATED}{template_version:06d}"

    @staticmethod
    def project_done_sort(actual_day: int) -> str:
        return f"{TemplateStat.PROJECT_DONE}{actual_day:+06d}"

    @staticmethod
    def task_done_sort(task_key: str, planned_day: int, actual_day: int) -> str:
        return f"{TemplateStat.TASK_DONE}{task_key}#{planned_day:+06d}#{actual_day:+06d}"


class CountedCompletion(TableItem):
    """Created in the same transaction as the counters it moves: a replayed event finds it and
    counts nothing twice."""

    SORT_PROJECT = "PROJECT"
    SORT_CREATED = "CREATED"

    @staticmethod
    def pk(tenant_id: str, template_id: str) -> str:
        return tenant_key(tenant_id, "TEMPLATE", template_id, "COUNTED")

    @staticmethod
    def sort(project_id: str, task_key: str) -> str:
        return f"{project_id}#{task_key}"


class ProjectLink(VersionedItem):
    """What a project made from a template remembers: the template and version, the anchor
    (source and date), the Day each template task was planned on, and the last customer
    version whose contract_start it followed (so a replayed Customer.Updated moves nothing)."""

    project_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    template_version = NumberAttribute()
    calendar = UnicodeAttribute()
    anchor_source = UnicodeAttribute()  # contract_start | date
    anchor_date = UnicodeAttribute()
    follow_anchor = BooleanAttribute(default=False)
    customer_version = NumberAttribute(default=0)
    planned = JSONAttribute()  # template key -> {"day": int, "duration_days": int}
    followers = GSI1()

    SORT = "LINK"

    @staticmethod
    def pk(tenant_id: str, project_id: str) -> str:
        return tenant_key(tenant_id, "TEMPLATEPROJECT", project_id)

    @staticmethod
    def followers_pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "ANCHORFOLLOWERS", customer_id)

    def index_keys(self) -> None:
        following = self.follow_anchor and self.anchor_source == "contract_start"
        self.GSI1PK = ProjectLink.followers_pk(self.tenant_id, self.customer_id) if following else None
        self.GSI1SK = self.project_id if following else None


class ApplyClaim(TableItem):
    """The project an apply request began, written with the project's first write: a retry
    of the request (same Idempotency-Key) finishes that project instead of starting another,
    from the same inputs (template version, anchor, people)."""

    project_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()  # the request body's: the same key with another body is refused
    template_version = NumberAttribute()
    anchor_source = UnicodeAttribute()
    anchor_date = UnicodeAttribute()
    people = JSONAttribute()  # template role -> user id (or None)
    expires_at = NumberAttribute()

    SORT = "CLAIM"

    @staticmethod
    def pk(tenant_id: str, user_id: str, template_id: str, request_key: str) -> str:
        scoped = f"{user_id}:{template_id}:{request_key}"
        return tenant_key(tenant_id, "APPLY", hashlib.sha256(scoped.encode()).hexdigest())
