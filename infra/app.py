#!/usr/bin/env python
"""CDK app entry point (cdk.json: ``.venv/bin/python infra/app.py``).

Synthesizes offline into ``$CDK_OUTDIR`` (default ``cdk.out``). Build the layer first:
``python layers/build_layer.py``. ``BLUEHILL_FUNCTIONS_DIR`` overrides the Chalice project
directory (for experiments only; the stack ships ``functions/``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# functions/ for chalicelib.core.schema (the table's single source of truth); infra/ for the package.
sys.path[:0] = [str(REPO_ROOT / "functions"), str(REPO_ROOT / "infra")]
# The machine's node (20) still runs jsii fine; don't print a banner on every synth.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from bluehill_infra.application import FUNCTIONS_DIR, build_app  # noqa: E402


def main() -> int:
    source_dir = Path(os.environ.get("BLUEHILL_FUNCTIONS_DIR") or FUNCTIONS_DIR)
    app, _ = build_app(source_dir=source_dir)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
