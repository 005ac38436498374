"""The authorizer's Lambda entry point: Chalice deploys it as `chalicelib.authorizer.api_authorizer`
(core/http.py declares it on a blueprint named after this module). The Lambda never imports
app.py, so this module wires the process first — the tenant guard and the user check, which
asks the team room — and core stays free of any room import."""

from __future__ import annotations

import chalicelib.wiring  # noqa: F401  (process-wide setup, before the first token is checked)
from chalicelib.core.http import api_authorizer

__all__ = ["api_authorizer"]
