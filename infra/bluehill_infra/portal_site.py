"""The customer portal page: `web/portal/` in a private bucket behind CloudFront, with the API on
the same origin under `/api/*` (API Gateway's stage is `api`, so CloudFront forwards the path as
it is) — the page needs no CORS and sends its bearer token only to its own origin.

Tenants reach their portal at their own subdomain: a deployer points a wildcard record
(`*.portal.example.com`) at the distribution and passes its domain and ACM certificate (us-east-1)
as `portal_domain` / `portal_certificate_arn`; until then the distribution answers on its
`*.cloudfront.net` name.

The page's files are put in the bucket by `bluehill portal publish --stack NAME` after a deploy
(with `config.json`, built from the stack's outputs, and a cache invalidation), not by CDK's
BucketDeployment: that construct deploys a Lambda of CDK's own (x86, no app layer, an AWS-managed
policy, a template cfn-lint flags) that every function in this stack would otherwise have to
make exceptions for.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .nag import acknowledge

API_PATH_PATTERN = "/api/*"


class PortalSite(Construct):
    """``bucket`` (the page), ``distribution`` (CloudFront: the page at /, the API at /api/*)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api_id: str,
        access_logs: s3.IBucket,
        portal_domain: str | None = None,
        portal_certificate_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.bucket = s3.Bucket(
            self,
            "PageBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="portal-page/",
            removal_policy=cdk.RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )
        # CloudFront's standard logs are written with ACLs, which the other buckets disable.
        self.log_bucket = s3.Bucket(
            self,
            "CdnLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="portal-cdn-logs/",
            lifecycle_rules=[s3.LifecycleRule(id="expire-cdn-logs", expiration=cdk.Duration.days(365))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        api_origin = origins.HttpOrigin(
            f"{rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        )
        certificate = (acm.Certificate.from_certificate_arn(self, "Certificate", portal_certificate_arn)
                       if portal_certificate_arn else None)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            additional_behaviors={
                API_PATH_PATTERN: cloudfront.BehaviorOptions(
                    origin=api_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                ),
            },
            domain_names=[f"*.{portal_domain}"] if portal_domain and certificate else None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="portal/",
        )
        self._acknowledge(certificate is not None)

    def _acknowledge(self, custom_certificate: bool) -> None:
        acknowledge(self.distribution, "AwsSolutions-CFR1",
                    "Customers sign in to their portal from wherever they are; no country is refused.")
        acknowledge(self.distribution, "AwsSolutions-CFR2",
                    "The API behind /api/* is throttled per method at API Gateway and every request is "
                    "authorized; a WAF web ACL is a per-deployment choice (cost), attachable to this distribution.")
        if not custom_certificate:
            acknowledge(self.distribution, "AwsSolutions-CFR4",
                        "Until a deployer passes portal_domain and its certificate, the distribution answers "
                        "on *.cloudfront.net, whose default certificate CloudFront does not let us pin to TLS 1.2.")
