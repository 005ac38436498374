"""Build the CDK app: the BlueHill stack, cdk.json's context and the cdk-nag checks."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from .api import ApiSettings
from .stack import BlueHillStack

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAYER_DIR = REPO_ROOT / "layers" / "build"
CDK_JSON = REPO_ROOT / "cdk.json"
DEFAULT_OUTDIR = REPO_ROOT / "cdk.out"
STACK_NAME = "BlueHill"

# Chalice functions (Python names) that are system jobs and run under the system role.
SYSTEM_FUNCTIONS: tuple[str, ...] = ("sla_sweep", "board_status_refresh", "follow_up_sweep")


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, object]:
    """cdk.json's context (feature flags): the cdk CLI passes it, ``python infra/app.py`` does not."""
    context = json.loads(path.read_text()).get("context", {})
    return dict(context)


def build_app(
    *,
    outdir: str | os.PathLike[str] | None = None,
    source_dir: Path = FUNCTIONS_DIR,
    layer_dir: Path = LAYER_DIR,
    context: Mapping[str, object] | None = None,
) -> tuple[cdk.App, BlueHillStack]:
    """The app with its one stack, cdk-nag's AWS Solutions checks applied; not yet synthesized."""
    outdir = outdir or os.environ.get("CDK_OUTDIR") or DEFAULT_OUTDIR
    app = cdk.App(outdir=str(outdir), context={**cdk_json_context(), **(context or {})})
    shutil.rmtree(Path(app.outdir) / "chalice", ignore_errors=True)  # previous runs' packages

    recipients = app.node.try_get_context("bluehill:inboundMailRecipients") or []
    stack = BlueHillStack(
        app,
        STACK_NAME,
        source_dir=source_dir,
        layer_dir=layer_dir,
        api_settings=ApiSettings(system_functions=SYSTEM_FUNCTIONS),
        mail_recipients=list(recipients),
        upload_origins=list(app.node.try_get_context("bluehill:webOrigins") or ["*"]),
        description="BlueHill: customer operations platform (API, data, identity, mail)",
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stack
