"""The local stack as a target: `bluehill dev` in its own process, on free ports, with its state
in a directory of its own (the demo seed runs as in `make dev`; tests provision their own
tenants next to it)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bluehill_dev import resources
from bluehill_dev.stack_process import StackProcess
from bluehill_dev.targets import Target, admin_module


class LocalTarget(Target):
    name = "local"
    local = True

    def __init__(self, local_dir: Path | None = None) -> None:
        super().__init__()
        self.stack = StackProcess(local_dir or Path(tempfile.mkdtemp(prefix="bluehill-e2e-")) / "local")

    @property
    def url(self) -> str:
        return self.stack.url

    @property
    def client_id(self) -> str:
        return str(self.stack.state()["client_id"])

    def start(self) -> None:
        self.stack.start()

    def stop(self) -> None:
        """Ctrl-C; the provisioned users go with the stack's state directory."""
        if self.stack.process is not None and self.stack.process.poll() is None:
            self.stack.stop()
        self.provisioned.clear()

    def admin_command(self) -> tuple[list[str], dict[str, str]]:
        return [*admin_module(), "local"], self.stack.env

    def cognito(self) -> Any:
        import boto3

        return boto3.client("cognito-idp", endpoint_url=self.stack.state()["endpoint"], region_name=resources.REGION,
                            aws_access_key_id="local", aws_secret_access_key="local")
