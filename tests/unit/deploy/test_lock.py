"""The lock is the one source of installed versions: generated from the pyprojects, never hand-edited, never stale."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
UV = Path(sys.executable).with_name("uv")  # the locked uv, from the dev dependency group


def test_the_lock_matches_every_pyproject_of_the_workspace() -> None:
    """Fails when a dependency was added, removed or changed in a pyproject without `uv lock` (run it and commit uv.lock)."""
    result = subprocess.run([str(UV), "lock", "--check"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"uv.lock is stale: run `.venv/bin/uv lock` and commit it\n{result.stderr[-3000:]}"


def test_every_locked_distribution_carries_its_hash() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    from_registry = [p for p in lock["package"] if "registry" in p["source"]]
    assert len(from_registry) > 50
    files = {p["name"]: [*p.get("wheels", []), *([p["sdist"]] if "sdist" in p else [])] for p in from_registry}
    unhashed = [name for name, found in files.items() if not found or not all(f.get("hash", "").startswith("sha256:") for f in found)]
    assert unhashed == []


def test_every_package_directory_is_a_member_of_the_locked_workspace() -> None:
    """A new service (services/<name>/pyproject.toml) is locked and installed without naming it anywhere."""
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    names = {tomllib.loads(p.read_text(encoding="utf-8"))["project"]["name"] for p in REPO.glob("*/*/pyproject.toml")}
    assert names <= set(lock["manifest"]["members"])


def test_the_tests_run_on_the_one_python_version_the_repository_names() -> None:
    named = (REPO / ".python-version").read_text().strip()
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == named
    dockerfile = (REPO / "deploy/docker/Dockerfile").read_text()
    assert f"ARG PYTHON_VERSION={named}\n" in dockerfile, "the image builds on the version .python-version names"
    install = (REPO / "deploy/install.sh").read_text()
    assert not re.search(r"python3\.\d", install), "install.sh reads the version from .python-version instead of naming one"
