"""Synthesize the real stack (``functions/`` + the built layer) once per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Appended, not prepended: infra/app.py (the CDK entry point) must never shadow functions/app.py
# (the Chalice app, on the path through pyproject's pythonpath) for the other test rooms.
for path in (REPO_ROOT / "functions", REPO_ROOT / "infra"):
    if str(path) not in sys.path:
        sys.path.append(str(path))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Template  # noqa: E402
from bluehill_infra.application import build_app  # noqa: E402
from infra_synth import Synth  # noqa: E402


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    # Instant when layers/build is current (the Makefile builds it before the tests anyway).
    subprocess.run([sys.executable, str(REPO_ROOT / "layers" / "build_layer.py")], check=True)
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=outdir)
    assembly = app.synth()
    template_path = Path(assembly.directory) / stack.template_file
    template_json = json.loads(template_path.read_text())
    yield Synth(app, stack, outdir, template_path, template_json, Template.from_json(template_json))
