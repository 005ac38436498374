"""Process-wide setup every Lambda entry point shares: the API (`app.app`), the authorizer, each
job, each consumer and the relay. Chalice deploys a blueprint's function with its own module as
the handler, so a job's or a consumer's Lambda never imports `app.py`: each imports this instead.

- The tenant guard on every botocore client (boto3's, PynamoDB's).
- The authorizer's check that a token's user is still active with the token's role (asked of
  the team room, which `core` must not import).
- Every room's declared event types and consumers, registered with core's registries (the
  catalog, the relay's and the tests' delivery, the deployed rules)."""

from __future__ import annotations

# Each room's events.py declares the types it publishes, its consumers.py what it does on others'.
from chalicelib.billing import credits as _billing_credits  # noqa: F401
from chalicelib.billing import events as _billing_events  # noqa: F401
from chalicelib.billing import rollups as _billing_rollups  # noqa: F401
from chalicelib.canned import events as _canned_events  # noqa: F401
from chalicelib.core import auth
from chalicelib.core.tenant_guard import install_tenant_guard
from chalicelib.customers import consumers as _customer_consumers  # noqa: F401
from chalicelib.customers import events as _customer_events  # noqa: F401
from chalicelib.files import consumers as _file_consumers  # noqa: F401
from chalicelib.files import events as _file_events  # noqa: F401
from chalicelib.followups import consumers as _follow_up_consumers  # noqa: F401
from chalicelib.followups import events as _follow_up_events  # noqa: F401
from chalicelib.forms import consumers as _form_consumers  # noqa: F401
from chalicelib.forms import events as _form_events  # noqa: F401
from chalicelib.mail import consumers as _mail_consumers  # noqa: F401
from chalicelib.mail import events as _mail_events  # noqa: F401
from chalicelib.portal import events as _portal_events  # noqa: F401
from chalicelib.queues import consumers as _queue_consumers  # noqa: F401
from chalicelib.queues import events as _queue_events  # noqa: F401
from chalicelib.sla import events as _sla_events  # noqa: F401
from chalicelib.team import events as _team_events  # noqa: F401
from chalicelib.team import service as team
from chalicelib.templates import consumers as _template_consumers  # noqa: F401
from chalicelib.templates import events as _template_events  # noqa: F401
from chalicelib.tickets import consumers as _ticket_consumers  # noqa: F401
from chalicelib.tickets import events as _ticket_events  # noqa: F401
from chalicelib.timekeeping import consumers as _time_consumers  # noqa: F401
from chalicelib.timekeeping import events as _time_events  # noqa: F401
from chalicelib.timeline import consumers as _timeline_consumers  # noqa: F401
from chalicelib.timeline import events as _timeline_events  # noqa: F401
from chalicelib.views import events as _view_events  # noqa: F401
from chalicelib.work import consumers as _work_consumers  # noqa: F401
from chalicelib.work import events as _work_events  # noqa: F401

install_tenant_guard()
auth.set_user_check(team.user_is_current)
