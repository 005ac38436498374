"""cdk-nag (v3) acknowledgments: every suppression names its rule and gives a reason.

cdk-nag 3 is a CDK policy-validation plugin: any finding that is not acknowledged here
fails ``app.synth()`` and is written to ``policy-validation-report.json``.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge ``rule_id`` (e.g. ``AwsSolutions-S1`` or ``AwsSolutions-IAM5[Resource::...]``)
    on ``construct`` and everything under it."""
    if not reason.strip():
        raise ValueError(f"acknowledging {rule_id} needs a reason")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
