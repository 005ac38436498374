"""The BlueHill API: registers blueprints, jobs and middleware — nothing else."""

import chalicelib.wiring  # noqa: F401 (process-wide setup)
from chalice import Chalice
from chalicelib.audit.routes import bp as audit_routes
from chalicelib.billing.routes import bp as billing_routes
from chalicelib.canned.routes import bp as canned_routes
from chalicelib.core.http import auth_bp, problem_details_middleware
from chalicelib.customers.routes import bp as customer_routes
from chalicelib.event_functions import bp as event_functions
from chalicelib.files.jobs import bp as file_jobs
from chalicelib.files.routes import bp as file_routes
from chalicelib.followups.jobs import bp as follow_up_jobs
from chalicelib.followups.routes import bp as follow_up_routes
from chalicelib.forms.routes import bp as form_routes
from chalicelib.jobs.routes import bp as job_routes
from chalicelib.jobs.runner import bp as job_runner
from chalicelib.mail.jobs import bp as mail_jobs
from chalicelib.mail.routes import bp as mail_routes
from chalicelib.portal.routes import bp as portal_routes
from chalicelib.queues.routes import bp as queue_routes
from chalicelib.sla.jobs import bp as sla_jobs
from chalicelib.sla.routes import bp as sla_routes
from chalicelib.system.routes import bp as system_routes
from chalicelib.team.routes import bp as team_routes
from chalicelib.templates.routes import bp as template_routes
from chalicelib.tickets.routes import bp as ticket_routes
from chalicelib.timekeeping.routes import bp as time_routes
from chalicelib.timeline.routes import bp as timeline_routes
from chalicelib.views.routes import bp as view_routes
from chalicelib.work.jobs import bp as work_jobs
from chalicelib.work.routes import bp as work_routes

# Powertools owns the "bluehill" logger; Chalice adding its own handler would print every line twice.
app = Chalice(app_name="bluehill", configure_logs=False)
app.register_middleware(problem_details_middleware, "http")

app.register_blueprint(auth_bp)
for blueprint in (system_routes, team_routes, customer_routes, audit_routes, template_routes, event_functions,
                  ticket_routes, queue_routes, canned_routes, sla_routes, sla_jobs, work_routes, work_jobs,
                  view_routes, job_routes, job_runner, form_routes, time_routes, billing_routes, timeline_routes,
                  follow_up_routes, follow_up_jobs, mail_routes, mail_jobs, file_routes, file_jobs,
                  portal_routes):
    app.register_blueprint(blueprint)
