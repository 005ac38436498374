"""Build the runtime-dependency Lambda layer into ``layers/build/python/``.

The layer holds every runtime dependency of ``functions/`` (``functions/requirements.txt``
stays empty, so ``chalice package`` never downloads anything). Wheels are fetched for the
Lambda target — Python 3.11 on arm64 (manylinux2014_aarch64) — whatever machine runs this.

The build is skipped when ``layers/build/.requirements.sha256`` holds the hash of
``requirements.txt`` together with the target, so a repeated run is instant.

Usage: ``python layers/build_layer.py [--force]``
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
REQUIREMENTS = LAYERS_DIR / "requirements.txt"
BUILD_DIR = LAYERS_DIR / "build"
SITE_PACKAGES = BUILD_DIR / "python"
STAMP = BUILD_DIR / ".requirements.sha256"

PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.11"
IMPLEMENTATION = "cp"


def pip_arguments(target: Path = SITE_PACKAGES, requirements: Path = REQUIREMENTS) -> list[str]:
    """The pip command line that installs the layer for the Lambda target."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--platform",
        PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        IMPLEMENTATION,
        "-t",
        str(target),
        "-r",
        str(requirements),
    ]


def requirements_hash(requirements: Path = REQUIREMENTS) -> str:
    """Hash of the requirements and the target: a change to either forces a rebuild."""
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    digest.update(f"{PLATFORM}|{PYTHON_VERSION}|{IMPLEMENTATION}".encode())
    return digest.hexdigest()


def is_up_to_date() -> bool:
    return SITE_PACKAGES.is_dir() and STAMP.is_file() and STAMP.read_text().strip() == requirements_hash()


def build(force: bool = False) -> bool:
    """Build the layer unless it is current. Returns True when it was (re)built."""
    if not force and is_up_to_date():
        return False
    if BUILD_DIR.exists():
        shutil.rmtree(BUILD_DIR)
    SITE_PACKAGES.mkdir(parents=True)
    subprocess.run(pip_arguments(), check=True)
    # Bytecode compiled for this machine's interpreter is useless on Lambda; drop it.
    for cache in SITE_PACKAGES.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    STAMP.write_text(requirements_hash() + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    args = parser.parse_args(argv)
    built = build(force=args.force)
    relative = SITE_PACKAGES.relative_to(LAYERS_DIR.parent)
    print(f"layer {'built' if built else 'up to date'}: {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
