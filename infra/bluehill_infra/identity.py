"""The Cognito user pool and the app client the API's tokens are issued to."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from chalicelib.core import schema
from constructs import Construct

from .nag import acknowledge


class Identity(Construct):
    """``user_pool`` and ``client``; ``jwks_url``, ``issuer`` and ``audience`` for the API.

    ``tenant_id``, ``role`` and ``customer_id`` are custom attributes (``custom:<name>`` in
    the ID token). They are mutable, but only through the admin API: the app client may not
    write them, so a user cannot change their own tenant or role.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # users are invited by a tenant's owner/admin
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            custom_attributes={
                name: cognito.StringAttribute(mutable=True, min_len=1, max_len=256)
                for name in schema.USER_POOL_CUSTOM_ATTRIBUTES
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP) rather than required: portal users are customers' staff, and "
            "requiring MFA for them is a per-tenant product decision, not a pool-wide one.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "Threat protection (advanced security) needs the Plus feature plan, billed per monthly "
            "active user; the pool uses Essentials until that cost is approved. Strong passwords "
            "and optional TOTP MFA apply meanwhile.",
        )

        writable = cognito.ClientAttributes().with_standard_attributes(
            fullname=True, given_name=True, family_name=True, locale=True, timezone=True
        )
        self.client = self.user_pool.add_client(
            "ApiClient",
            generate_secret=False,
            disable_o_auth=True,  # no hosted UI / OAuth flows: tokens come from InitiateAuth only
            auth_flows=cognito.AuthFlow(admin_user_password=True, user_password=True),
            prevent_user_existence_errors=True,
            write_attributes=writable,
            access_token_validity=cdk.Duration.hours(1),
            id_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
            enable_token_revocation=True,
        )

        region = cdk.Stack.of(self).region
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool.user_pool_id}"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"
        self.audience = self.client.user_pool_client_id
