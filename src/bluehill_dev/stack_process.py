"""`bluehill dev` in a process of its own, spoken to only over HTTP and through the `bluehill`
commands, as a developer would: what the e2e tests and the local-stack bench drive."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BLUEHILL = str(Path(sys.executable).with_name("bluehill"))
START_TIMEOUT_SECONDS = 120  # a guard against a hung start, not a speed claim (CI machines are shared)
STOP_TIMEOUT_SECONDS = 20


class StackFailed(Exception):
    """The stack did not start, or did not stop when asked; the message carries its output."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_request(method: str, url: str, headers: dict[str, str], data: bytes | None,
                 timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange: status, headers and raw body, error statuses included."""
    call = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class StackProcess:
    """One `bluehill dev` process with its own state directory and ports."""

    def __init__(self, local_dir: Path) -> None:
        self.local_dir = local_dir
        self.env = {**os.environ, "BLUEHILL_LOCAL_DIR": str(local_dir)}
        self.log = local_dir.parent / f"{local_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        # kept across restarts, as `make dev` does
        self.api_port, self.moto_port, self.dynamodb_port = free_port(), free_port(), free_port()
        self.portal_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self._tokens: dict[tuple[str, str], str] = {}

    def start(self, *options: str) -> None:
        """Start, and wait until /health answers."""
        command = [BLUEHILL, "dev", "--port", str(self.api_port), "--moto-port", str(self.moto_port),
                   "--dynamodb-port", str(self.dynamodb_port), "--portal-port", str(self.portal_port), *options]
        self._tokens.clear()
        began = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - began < START_TIMEOUT_SECONDS:
            if self.process.poll() is not None:
                raise StackFailed(f"bluehill dev exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/health").status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise StackFailed(f"the local stack did not answer /health within {START_TIMEOUT_SECONDS}s:\n{self.output()}")

    def stop(self) -> int:
        """Ctrl-C, as a developer would; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as ignored:
            self.process.kill()
            self.process.wait()
            raise StackFailed(f"the local stack ignored Ctrl-C:\n{self.output()}") from ignored

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def bluehill(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([BLUEHILL, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def token(self, tenant: str, role: str) -> str:
        """Logs in once per identity and start: after a restart, a fresh login must still match the
        replayed user records (the Cognito `sub` is the user id)."""
        if (tenant, role) not in self._tokens:
            done = self.bluehill("token", "--tenant", tenant, "--role", role)
            assert done.returncode == 0, done.stderr
            self._tokens[tenant, role] = done.stdout.strip()
        return self._tokens[tenant, role]

    def request(self, method: str, path: str, token: str | None = None, body: Any = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        status, reply_headers, raw = http_request(method, self.url + path, headers, data)
        return Reply(status, reply_headers, json.loads(raw) if raw else None)

    def state(self) -> dict[str, Any]:
        """What the running stack wrote for the other commands (endpoints, pool ids)."""
        return dict(json.loads((self.local_dir / "stack.json").read_text()))

    def memory(self) -> dict[str, int]:
        """Resident memory in bytes: the stack's Python process, its children (DynamoDB Local's
        JVM), and the total."""
        import psutil

        assert self.process is not None
        root = psutil.Process(self.process.pid)
        children = sum(child.memory_info().rss for child in root.children(recursive=True))
        own = root.memory_info().rss
        return {"python": own, "children": children, "total": own + children}
