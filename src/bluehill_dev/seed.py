"""Demo data for the local stack: tenants `demo` and `globex`, built through the services (the
same rules, audit entries and events as the API), so isolation between them can be seen.

Seeding is idempotent per tenant: a tenant that already exists is left exactly as it is.
The settings environment must be in place before this module's functions run (the services
read the table endpoint when their models are first imported)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEMO_PASSWORD = "Bluehill-Demo-2026"
DEMO_TENANT = "demo"
OTHER_TENANT = "globex"
EMAIL_DOMAIN = "bluehill.dev"


def email_for(tenant_id: str, role: str) -> str:
    """The seeded login of `role` in `tenant_id` (only roles the tenant was seeded with exist)."""
    return f"{role}@{tenant_id}.{EMAIL_DOMAIN}"


def _usd(dollars: int) -> dict[str, Any]:
    return {"amount": dollars * 100, "currency": "USD"}


@dataclass(frozen=True)
class CustomerSeed:
    fields: dict[str, Any]
    contacts: tuple[dict[str, Any], ...] = ()
    owner_role: str | None = None
    team_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class TenantSeed:
    tenant_id: str
    name: str
    people: dict[str, str]  # role -> display name; the owner is created with the tenant
    customers: tuple[CustomerSeed, ...]
    portal_customer: str | None = None  # the customer name the portal user belongs to


def _contact(name: str, email: str, title: str, **flags: bool) -> dict[str, Any]:
    return {"name": name, "email": email, "title": title, **flags}


DEMO = TenantSeed(
    tenant_id=DEMO_TENANT,
    name="Demo Corp",
    people={
        "owner": "Olivia Owner",
        "admin": "Adam Admin",
        "member": "Mia Member",
        "contractor": "Carlos Contractor",
        "readonly": "Rita Readonly",
        "portal": "Peter Portal",
    },
    portal_customer="Initech",
    customers=(
        CustomerSeed(
            {"name": "Initech", "tier": "enterprise", "lifecycle_stage": "active", "segment": "software",
             "tags": ["priority", "emea"], "domains": ["initech.example", "initech-mail.example"],
             "contract_start": "2026-01-15", "renewal_date": "2027-01-15", "signup_date": "2025-12-01",
             "mrr": _usd(12_500)},
            contacts=(
                _contact("Bill Lumbergh", "bill@initech.example", "VP Operations", exec_sponsor=True),
                _contact("Peter Gibbons", "peter@initech.example", "Engineer", champion=True),
                _contact("Nina Accounts", "billing@initech.example", "Accounts Payable", billing=True),
            ),
            owner_role="member",
        ),
        CustomerSeed(
            {"name": "Hooli", "tier": "enterprise", "lifecycle_stage": "onboarding", "segment": "software",
             "tags": ["priority"], "domains": ["hooli.example"], "contract_start": "2026-11-02",
             "renewal_date": "2027-11-02", "signup_date": "2026-10-20", "mrr": _usd(18_000)},
            contacts=(
                _contact("Gavin Belson", "gavin@hooli.example", "CEO", exec_sponsor=True),
                _contact("Denpok", "denpok@hooli.example", "Advisor", champion=True),
            ),
            owner_role="admin",
            team_roles=("contractor",),
        ),
        CustomerSeed(
            {"name": "Umbrella Health", "tier": "enterprise", "lifecycle_stage": "renewal", "segment": "healthcare",
             "tags": ["regulated"], "domains": ["umbrella.example"], "contract_start": "2024-03-01",
             "renewal_date": "2026-12-31", "mrr": _usd(22_000)},
            contacts=(_contact("Alice Abernathy", "alice@umbrella.example", "CIO", exec_sponsor=True),),
            owner_role="admin",
        ),
        CustomerSeed(
            {"name": "Vandelay Imports", "tier": "mid_market", "lifecycle_stage": "at_risk", "segment": "logistics",
             "tags": ["emea", "churn-watch"], "domains": ["vandelay.example"], "contract_start": "2025-06-01",
             "renewal_date": "2026-06-01", "mrr": _usd(4_200)},
            contacts=(_contact("Art Vandelay", "art@vandelay.example", "Owner", exec_sponsor=True, billing=True),),
            owner_role="member",
        ),
        CustomerSeed(
            {"name": "Stark Logistics", "tier": "mid_market", "lifecycle_stage": "active", "segment": "logistics",
             "tags": ["expansion"], "contract_start": "2025-09-10", "renewal_date": "2026-09-10",
             "mrr": _usd(5_600)},
            contacts=(_contact("Pepper Potts", "pepper@stark.example", "COO", champion=True),),
            owner_role="admin",
        ),
        CustomerSeed(
            {"name": "Wayne Foods", "tier": "mid_market", "lifecycle_stage": "onboarding", "segment": "retail",
             "contract_start": "2026-11-16", "signup_date": "2026-11-01", "mrr": _usd(3_900)},
            contacts=(_contact("Lucius Fox", "lucius@waynefoods.example", "CTO", champion=True),),
        ),
        CustomerSeed(
            {"name": "Soylent Labs", "tier": "smb", "lifecycle_stage": "active", "segment": "food",
             "tags": ["pilot"], "domains": ["soylent.example"], "mrr": _usd(900)},
            contacts=(_contact("Sol Green", "sol@soylent.example", "Founder", exec_sponsor=True),),
            owner_role="member",
        ),
        CustomerSeed(
            {"name": "Pied Piper", "tier": "smb", "lifecycle_stage": "churned", "segment": "software",
             "tags": ["pilot"], "contract_start": "2025-02-01", "mrr": _usd(0)},
        ),
    ),
)

GLOBEX = TenantSeed(
    tenant_id=OTHER_TENANT,
    name="Globex Corporation",
    people={"owner": "Hank Scorpio"},
    customers=(
        CustomerSeed(
            {"name": "Initrode", "tier": "enterprise", "lifecycle_stage": "active", "domains": ["initrode.example"],
             "mrr": _usd(9_000)},
            contacts=(_contact("Dom Portwood", "dom@initrode.example", "Director", exec_sponsor=True),),
        ),
        CustomerSeed({"name": "Cyberdyne", "tier": "smb", "lifecycle_stage": "onboarding", "mrr": _usd(700)}),
    ),
)

TENANTS = (DEMO, GLOBEX)


class _Seeder:
    """Builds one tenant through the services, acting as its owner."""

    def __init__(self, spec: TenantSeed) -> None:
        self.spec = spec
        self.user_ids: dict[str, str] = {}
        self.customer_ids: dict[str, str] = {}

    def principal(self, role: str) -> Any:
        from chalicelib.core.auth import Principal

        return Principal(
            tenant_id=self.spec.tenant_id, user_id=self.user_ids[role], role=role,
            email=email_for(self.spec.tenant_id, role),
        )

    def run(self) -> None:
        from chalicelib.team import service as team

        spec = self.spec
        owner = team.create_tenant(spec.tenant_id, spec.name, email_for(spec.tenant_id, "owner"),
                                   spec.people["owner"], DEMO_PASSWORD)
        self.user_ids["owner"] = owner.id
        for role in spec.people:
            if role not in ("owner", "portal"):
                self.invite(role)
        for customer in spec.customers:
            self.add_customer(customer)
        if spec.portal_customer:
            self.invite("portal", self.customer_ids[spec.portal_customer])
            self.portal_demo(self.customer_ids[spec.portal_customer])

    def invite(self, role: str, customer_id: str | None = None) -> None:
        from chalicelib.team import service as team

        user = team.invite_user(
            self.principal("owner"),
            {"email": email_for(self.spec.tenant_id, role), "name": self.spec.people[role], "role": role,
             "customer_id": customer_id},
            password=DEMO_PASSWORD,
        )
        self.user_ids[role] = user.id

    def add_customer(self, seed: CustomerSeed) -> None:
        # Validated by the API's own request models, so the demo data is data the API would accept.
        from chalicelib.customers import service as customers
        from chalicelib.customers.routes import CreateContact, CreateCustomer

        people: dict[str, Any] = {}
        if seed.owner_role:
            people["owner_id"] = self.user_ids[seed.owner_role]
        if seed.team_roles:
            people["team_ids"] = [self.user_ids[role] for role in seed.team_roles]
        body = CreateCustomer.model_validate({**seed.fields, **people})
        owner = self.principal("owner")
        customer = customers.create_customer(owner, {"name": body.name, **body.changes()})
        self.customer_ids[body.name] = customer.id
        for contact in seed.contacts:
            fields = CreateContact.model_validate(contact).model_dump(mode="json", exclude_unset=True)
            customers.create_contact(owner, customer.id, fields)


    def portal_demo(self, customer_id: str) -> None:
        """What the demo portal user acts on: the tenant's portal at `<tenant>.portal.localhost`,
        a shared project with a task waiting on the customer and a milestone to approve, and a
        ticket waiting on them (their company's tickets shared with all its people)."""
        from chalicelib.customers import service as customers
        from chalicelib.portal import signin
        from chalicelib.tickets import service as tickets
        from chalicelib.work import service as work

        owner = self.principal("owner")
        signin.set_branding(owner, {"portal_name": f"{self.spec.name} Portal", "primary_color": "#0a7cff",
                                    "portal_subdomain": self.spec.tenant_id, "logo_file_id": None,
                                    "support_email": f"support@{self.spec.tenant_id}.{EMAIL_DOMAIN}"}, None)
        customer = customers.get_customer(owner, customer_id)
        customers.update_customer(owner, customer_id, {"portal_ticket_sharing": "company"}, customer.version)
        work.create_project_with_tasks(owner, customer_id, {"name": "Initech onboarding", "portal_visible": True}, [
            {"key": "kickoff", "title": "Kickoff call", "status": "complete", "portal_visible": True},
            {"key": "logo", "title": "Send us your logo and brand colours", "status": "waiting_on_customer",
             "portal_visible": True, "portal_blocker": "We need your logo as SVG"},
            {"key": "vendor", "title": "Data import", "status": "blocked", "portal_status": "in_progress",
             "portal_visible": True, "description": "Internal: waiting on the vendor's API key"},
            {"key": "signoff", "title": "Design sign-off", "is_milestone": True, "needs_approval": True,
             "portal_visible": True},
            {"key": "internal", "title": "Internal capacity review"},
        ])
        ticket = tickets.create_ticket(owner, {"subject": "Which SSO provider do you use?",
                                               "description": "We need it to set up single sign-on.",
                                               "customer_id": customer_id})
        for change in ({"status": "open", "assignee_id": self.user_ids["member"]}, {"status": "waiting_on_customer"}):
            ticket = tickets.update_ticket(owner, ticket.id, change, ticket.version)


def _exists(tenant_id: str) -> bool:
    from chalicelib.core.errors import NotFound
    from chalicelib.team import service as team

    try:
        team.tenant_settings(tenant_id)
    except NotFound:
        return False
    return True


def seed() -> list[str]:
    """Create each demo tenant that does not exist yet; returns the ids of those created."""
    from chalicelib.core.scope import tenant_scope

    created = []
    for spec in TENANTS:
        with tenant_scope(spec.tenant_id):
            if _exists(spec.tenant_id):
                continue
            _Seeder(spec).run()
        created.append(spec.tenant_id)
    return created


def portal_page_url(site_url: str) -> str:
    """Where the demo tenant's portal page answers on the local stack: its host (the tenant's
    portal subdomain) named in `?host=`, since the local page is not served at that host."""
    return f"{site_url}/?host={DEMO_TENANT}.portal.localhost"


def logins() -> dict[str, str]:
    """Role -> email of every seeded `demo` login (all share DEMO_PASSWORD)."""
    return {role: email_for(DEMO_TENANT, role) for role in DEMO.people}
