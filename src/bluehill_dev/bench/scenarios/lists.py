"""The worst case of every list route: a filter that matches nothing.

A filter the key condition cannot express is a FilterExpression (or a check in code) over what
the Query read; when nothing matches, a list that fills its page before answering would read
the whole partition, one Query after another. A page makes at most `MAX_QUERIES_PER_PAGE`
Query calls and reads a bounded number of items, then answers what it has with a cursor.

Each scenario asks for `limit=2` (the smallest pages make the most Queries) with a filter that
matches nothing, over a partition that holds many items: 121 tasks in one project, 40 projects
of one customer, 60 customers in one tier, 40 tickets of one customer, an audit trail of 60
entries of one customer; and a member's tasks and projects over the 8 customers they own (one
partition each). The lists whose filters are all key conditions (views, templates,
queues, canned responses, users, contacts, ticket messages) read nothing that does not match,
and are measured for completeness. `Q/req` and `read/req` are the figures to watch."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.scope import tenant_scope
from chalicelib.customers import service as customers
from chalicelib.tickets import service as tickets
from chalicelib.work import service as work

from bluehill_dev.bench.harness import Bench, Call, Steps, Target, scenario

TASKS, PROJECTS, CUSTOMERS, TICKETS, MEMBER_CUSTOMERS = 121, 40, 60, 40, 8
NOMATCH = "nomatch"
# Queries per request (the page's own), and every read the request makes (its parent's GetItem,
# the reach lookup, the BatchGets that resolve index entries).
BOUNDED = Target("≤3 Q/req, ≤7 reads", 7, 3, max_transactions=0, max_reads=7)


@dataclass(frozen=True)
class Seed:
    customer_id: str
    project_id: str
    ticket_id: str
    owner_id: str


def _seed(bench: Bench) -> Seed:
    owner = bench.principal("owner")
    with tenant_scope(bench.tenant_id):
        holder = customers.create_customer(owner, {"name": "Lists holder", "tier": "enterprise"})
        for n in range(CUSTOMERS):
            customers.create_customer(owner, {"name": f"Listed {n:03d}", "tier": "enterprise",
                                              "lifecycle_stage": "active", "owner_id": owner.user_id})
        project, _ = work.create_project_with_tasks(owner, holder.id, {"name": "Many tasks"},
                                                    [{"key": f"t{n}", "title": f"Task {n}"} for n in range(TASKS)])
        for n in range(PROJECTS):
            work.create_project_with_tasks(owner, holder.id, {"name": f"Project {n}"}, [])
        ticket_ids = [tickets.create_ticket(owner, {"subject": f"Ticket {n}", "description": "d",
                                                    "customer_id": holder.id}).id for n in range(TICKETS)]
        for n in range(20):
            customers.update_customer(owner, holder.id, {"segment": f"s{n}"}, n + 1)
        member = bench.world.users["member"]
        for n in range(MEMBER_CUSTOMERS):
            theirs = customers.create_customer(owner, {"name": f"Member's {n}", "owner_id": member})
            work.create_project_with_tasks(owner, theirs.id, {"name": f"Member board {n}"},
                                           [{"key": f"m{k}", "title": f"Task {k}"} for k in range(5)])
    return Seed(holder.id, project.id, ticket_ids[0], owner.user_id)


def seed(bench: Bench) -> Seed:
    return bench.prepared(_seed)


_ROUTES = (
    ("GET /tasks?tag=", lambda s: f"/tasks?tag={NOMATCH}"),
    ("GET /tasks?project_id=&tag=", lambda s: f"/tasks?project_id={s.project_id}&tag={NOMATCH}"),
    ("GET /tasks?project_id=&sort=priority&tag=", lambda s: f"/tasks?project_id={s.project_id}&sort=priority"
                                                            f"&tag={NOMATCH}"),
    ("GET /projects?customer_id=&template_id=", lambda s: f"/projects?customer_id={s.customer_id}"
                                                          f"&template_id={NOMATCH}"),
    ("GET /customers/{id}/projects?owner_id=", lambda s: f"/customers/{s.customer_id}/projects?owner_id={NOMATCH}"),
    ("GET /customers?owner_id=&tier=", lambda s: f"/customers?owner_id={s.owner_id}&tier=smb"),
    ("GET /customers?tier=&lifecycle_stage=", lambda s: "/customers?tier=enterprise&lifecycle_stage=churned"),
    ("GET /customers?q=", lambda s: f"/customers?q={NOMATCH}"),
    ("GET /tickets?customer_id=&priority=", lambda s: f"/tickets?customer_id={s.customer_id}&priority=urgent"),
    ("GET /tickets?customer_id=&status=&sort=updated", lambda s: f"/tickets?customer_id={s.customer_id}"
                                                                 "&status=closed&sort=updated"),
    ("GET /customers/{id}/tickets", lambda s: f"/customers/{s.customer_id}/tickets"),
    ("GET /tickets/{id}/messages", lambda s: f"/tickets/{s.ticket_id}/messages"),
    ("GET /audit?entity_id=&actor_id=", lambda s: f"/audit?entity_id={s.customer_id}&actor_id={NOMATCH}"),
    ("GET /customers/{id}/contacts", lambda s: f"/customers/{s.customer_id}/contacts"),
    ("GET /views?kind=", lambda s: "/views?kind=gantt"),
    ("GET /templates?category=", lambda s: f"/templates?category={NOMATCH}"),
    ("GET /queues", lambda s: "/queues"),
    ("GET /canned-responses?q=", lambda s: f"/canned-responses?q={NOMATCH}"),
    ("GET /users", lambda s: "/users"),
)


def _nomatch(path: object, role: str = "owner") -> object:
    def steps(bench: Bench) -> Steps:
        url = path(seed(bench))  # type: ignore[operator]
        separator = "&" if "?" in url else "?"
        for _ in range(bench.repeats):
            yield Call("GET", f"{url}{separator}limit=2", role=role)

    return steps


for _name, _path in _ROUTES:
    scenario(f"{_name} [nothing matches, limit=2]", group="lists", target=BOUNDED)(_nomatch(_path))  # type: ignore[arg-type]

# A member's lists read one partition per customer they reach (8 here, two key ranges each).
scenario(f"GET /tasks?tag= (member: {MEMBER_CUSTOMERS} customers) [nothing matches, limit=2]", group="lists",
         target=BOUNDED)(_nomatch(lambda s: f"/tasks?tag={NOMATCH}", "member"))  # type: ignore[arg-type]
scenario(f"GET /projects?template_id= (member: {MEMBER_CUSTOMERS} customers) [nothing matches, limit=2]",
         group="lists", target=BOUNDED)(_nomatch(lambda s: f"/projects?template_id={NOMATCH}", "member"))  # type: ignore[arg-type]
