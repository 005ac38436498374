"""S3 buckets (files, inbound mail, their access logs) and the SES inbound-mail rule set."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events_
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .events import TARGET_MAX_EVENT_AGE, TARGET_RETRY_ATTEMPTS, dead_letter_queue, depth_alarm

RAW_MAIL_PREFIX = "raw/"
RAW_MAIL_RETENTION = cdk.Duration.days(90)
NONCURRENT_VERSION_RETENTION = cdk.Duration.days(30)
ACCESS_LOG_RETENTION = cdk.Duration.days(365)
# Files: uploads land under tenants/<tenant>/ (core.tenant_credentials.TENANT_FILES_PREFIX); a
# deleted file's object is tagged (files/storage.DELETED_TAG) and expired by lifecycle.
TENANT_FILES_ROOT = "tenants/"
DELETED_FILE_TAG = {"bluehill-deleted": "true"}
DELETED_FILE_RETENTION = cdk.Duration.days(30)
UPLOAD_CORS_MAX_AGE_SECONDS = 3000


def _private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket | None,
    access_log_prefix: str | None = None,
    versioned: bool,
    lifecycle_rules: Sequence[s3.LifecycleRule],
) -> s3.Bucket:
    """Private, encrypted (SSE-S3), TLS-only, ACLs disabled, kept on stack deletion."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=versioned,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_log_prefix,
        lifecycle_rules=list(lifecycle_rules),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


class Storage(Construct):
    """``files_bucket`` (attachments, exports), ``mail_bucket`` (inbound mail under ``raw/``)
    and ``receipt_rule_set``, which SES uses to write inbound mail to ``mail_bucket``.

    SES allows one *active* receipt rule set per account and region, and CloudFormation cannot
    activate one: after the first deploy, run
    ``aws ses set-active-receipt-rule-set --rule-set-name <InboundMailRuleSetName output>``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        mail_recipients: Sequence[str] = (),
        upload_origins: Sequence[str] = ("*",),
    ) -> None:
        super().__init__(scope, construct_id)
        # The tenant-facing inbound domain: tenants' addresses are support@<tenant>.<domain> and
        # log@<tenant>.<domain> (README: "Inbound mail DNS" for its MX, SPF, DKIM and DMARC).
        self.mail_domain = cdk.CfnParameter(
            scope, "InboundMailDomain", type="String", default="mail.bluehill.example",
            description="Domain tenants' support and log addresses live under (support@<tenant>.<domain>)",
            allowed_pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
        ).value_as_string

        self.access_logs_bucket = _private_bucket(
            self,
            "AccessLogsBucket",
            access_logs=None,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=ACCESS_LOG_RETENTION)],
        )
        abort_uploads = s3.LifecycleRule(
            id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(7)
        )
        self.files_bucket = _private_bucket(
            self,
            "FilesBucket",
            access_logs=self.access_logs_bucket,
            access_log_prefix="files/",
            versioned=True,
            lifecycle_rules=[
                abort_uploads,
                s3.LifecycleRule(id="expire-old-versions", noncurrent_version_expiration=NONCURRENT_VERSION_RETENTION),
                s3.LifecycleRule(id="expire-deleted-files", tag_filters=DELETED_FILE_TAG,
                                 expiration=DELETED_FILE_RETENTION,
                                 noncurrent_version_expiration=cdk.Duration.days(1)),
            ],
        )
        # Browsers POST uploads straight to the bucket (a presigned POST whose policy fixes the key,
        # type and size) and may fetch downloads: the web app's origins (context
        # `bluehill:webOrigins`), only these methods.
        self.files_bucket.add_cors_rule(
            allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
            allowed_origins=list(upload_origins), allowed_headers=["*"], exposed_headers=["ETag"],
            max_age=UPLOAD_CORS_MAX_AGE_SECONDS,
        )
        self.mail_bucket = _private_bucket(
            self,
            "InboundMailBucket",
            access_logs=self.access_logs_bucket,
            access_log_prefix="inbound-mail/",
            versioned=True,
            lifecycle_rules=[
                abort_uploads,
                s3.LifecycleRule(
                    id="expire-raw-mail",
                    prefix=RAW_MAIL_PREFIX,
                    expiration=RAW_MAIL_RETENTION,
                    noncurrent_version_expiration=cdk.Duration.days(1),
                ),
            ],
        )

        # The identity replies are sent from (support@<tenant>.<domain>: SES lets a verified
        # domain send from its subdomains); Easy DKIM: its three CNAMEs are the identity's outputs.
        self.mail_identity = ses.EmailIdentity(self, "MailIdentity", identity=ses.Identity.domain(self.mail_domain))

        # The S3 action adds the bucket policy that lets SES (for this account only) write
        # under raw/, and orders the rule after that policy.
        self.receipt_rule_set = ses.ReceiptRuleSet(
            self,
            "InboundMail",
            rules=[
                ses.ReceiptRuleOptions(
                    # A leading dot matches every subdomain: each tenant's <tenant>.<domain>.
                    recipients=list(mail_recipients) or [f".{self.mail_domain}"],
                    scan_enabled=True,
                    actions=[ses_actions.S3(bucket=self.mail_bucket, object_key_prefix=RAW_MAIL_PREFIX)],
                )
            ],
        )

    def notify_uploads(self, function: lambda_.IFunction, role: iam.IRole,
                       configure: Callable[[sqs.Queue], None]) -> None:
        """Objects created under tenants/ in the files bucket invoke `function` (the files room's
        `files_uploaded`, which checks each upload), through EventBridge: the bucket sends its
        events to the account's default bus and a rule there targets the function, with retries
        and a dead-letter queue (the function's own async retries end there too). A direct S3 →
        Lambda notification would make a cycle (the function's environment names the bucket)
        and needs CDK's notification custom resource."""
        bucket = self.files_bucket.node.default_child
        bucket.add_property_override(  # type: ignore[union-attr]
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        queue = dead_letter_queue(self, "FilesUploadedDeadLetters")
        depth_alarm(self, "FilesUploadedDeadLettersAlarm", queue, "files_uploaded")
        self.uploads_rule = events_.Rule(
            self, "FilesUploadedRule", description="uploads to the files bucket → files_uploaded",
            event_pattern=events_.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"],
                detail={"bucket": {"name": [self.files_bucket.bucket_name]},
                        "object": {"key": [{"prefix": TENANT_FILES_ROOT}]}}),
            targets=[targets.LambdaFunction(function, retry_attempts=TARGET_RETRY_ATTEMPTS,
                                            max_event_age=TARGET_MAX_EVENT_AGE, dead_letter_queue=queue)],
        )
        queue.grant_send_messages(role)
        configure(queue)
