"""The synthesized stack as the infra tests see it (shared by tests/infra/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from bluehill_infra.stack import BlueHillStack


@dataclass(frozen=True)
class Synth:
    app: cdk.App
    stack: BlueHillStack
    outdir: Path
    template_path: Path
    template_json: dict[str, Any]
    template: Template

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)
