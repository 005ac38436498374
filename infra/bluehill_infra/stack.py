"""The BlueHill stack: data, storage, events, identity and the API, wired together."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from .api import Api, ApiSettings
from .data import Data
from .events import DEFAULT_BUS_NAME, Events
from .identity import Identity
from .portal_site import PortalSite
from .storage import RAW_MAIL_PREFIX, Storage


class BlueHillStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_dir: Path,
        layer_dir: Path,
        api_settings: ApiSettings | None = None,
        bus_name: str = DEFAULT_BUS_NAME,
        mail_recipients: Sequence[str] = (),
        upload_origins: Sequence[str] = ("*",),
        portal_domain: str | None = None,
        portal_certificate_arn: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]

        self.data = Data(self, "Data")
        self.storage = Storage(self, "Storage", mail_recipients=mail_recipients, upload_origins=upload_origins)
        self.events = Events(self, "Events", bus_name=bus_name)
        self.identity = Identity(self, "Identity")
        self.api = Api(
            self,
            "Api",
            source_dir=source_dir,
            layer_dir=layer_dir,
            data=self.data,
            storage=self.storage,
            events=self.events,
            identity=self.identity,
            settings=api_settings,
        )

        from chalicelib.files.jobs import UPLOADED_FUNCTION

        self.storage.notify_uploads(self.api.function(UPLOADED_FUNCTION), self.api.role_of(UPLOADED_FUNCTION),
                                    lambda queue: self.api.configure_consumer(UPLOADED_FUNCTION, queue))

        if self.api.rest_api is not None:
            self.portal_site = PortalSite(
                self,
                "PortalSite",
                rest_api_id=self.api.rest_api.ref,
                access_logs=self.storage.access_logs_bucket,
                portal_domain=portal_domain,
                portal_certificate_arn=portal_certificate_arn,
            )

        # One rule, retry policy and dead-letter queue per registered consumer (the registry).
        import chalicelib.wiring  # noqa: F401 (registers every room's consumers)
        from chalicelib.core.consumers import CONSUMERS

        self.events.add_consumers(CONSUMERS.values(), self.api.function, self.api.role_of, self.api.configure_consumer)

        # SES writes each inbound message under raw/; its creation runs the mail room's handler:
        # S3 → EventBridge (the default bus) → a rule → mail_inbound. A direct S3 notification
        # would need CDK's notification custom resource (the bucket and the function name each other).
        from aws_cdk import aws_events as events
        from aws_cdk import aws_events_targets as targets

        mail_bucket = self.storage.mail_bucket.node.default_child
        mail_bucket.add_property_override(  # type: ignore[union-attr]
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        events.Rule(
            self, "InboundMailCreated",
            description="A raw message SES wrote to the inbound bucket → the mail_inbound handler",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"],
                detail={"bucket": {"name": [self.storage.mail_bucket.bucket_name]},
                        "object": {"key": [{"prefix": RAW_MAIL_PREFIX}]}}),
            targets=[targets.LambdaFunction(self.api.function("mail_inbound"), retry_attempts=8,
                                            max_event_age=cdk.Duration.hours(6))],
        )
        outputs = {
            "TableName": self.data.table.table_name,
            "IdempotencyTableName": self.data.idempotency_table.table_name,
            "EventBusName": self.events.bus.event_bus_name,
            "FilesBucketName": self.storage.files_bucket.bucket_name,
            "InboundMailBucketName": self.storage.mail_bucket.bucket_name,
            "InboundMailRuleSetName": self.storage.receipt_rule_set.receipt_rule_set_name,
            "MailDomain": self.storage.mail_domain,
            "UserPoolId": self.identity.user_pool.user_pool_id,
            "UserPoolClientId": self.identity.client.user_pool_client_id,
            "JwksUrl": self.identity.jwks_url,
            "JwtIssuer": self.identity.issuer,
            "JwtAudience": self.identity.audience,
        }
        if self.api.rest_api is not None:
            outputs["PortalUrl"] = f"https://{self.portal_site.distribution.distribution_domain_name}"
            outputs["PortalBucketName"] = self.portal_site.bucket.bucket_name
            outputs["PortalDistributionId"] = self.portal_site.distribution.distribution_id
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
