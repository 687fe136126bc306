"""The built wheels, installed like any other package, run every service (what the Docker image does).

``deploy/build-wheels.sh`` builds the wheels and the hashed requirements from
uv.lock (again whenever a file the build reads changed: the last build is kept in .cache/test-wheels);
they go into a plain new virtual environment (uv, as in the image; no ``-e``, from a
directory outside the repository, nothing of the checkout on ``sys.path``),
and each service starts from it with ``jicai-serve`` against the suite's real
PostgreSQL and Kafka: its migrations come out of the installed package.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from jicai_devstack._proc import free_port, spawn_detached, tail, terminate
from jicai_kit.migrations import alembic_config
from tests.support import infra
from tests.support.tokens import PUBLIC_KEYS

REPO = Path(__file__).resolve().parents[2]
READY_WITHIN_SECONDS = 180


@dataclass(frozen=True)
class Installed:
    root: Path
    python: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command of the environment, from outside the repository and with none of this process's Python settings."""
        return subprocess.run([*args], cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=600)

    def env(self, **extra: str) -> dict[str, str]:
        """The plain environment, its bytecode written to and read from BYTECODE_CACHE."""
        return _plain_env(PYTHONPYCACHEPREFIX=str(BYTECODE_CACHE), **extra)

    def bin(self, name: str) -> str:
        return str(self.python.with_name(name))


def _plain_env(**extra: str) -> dict[str, str]:
    # The machine's TLS trust (SSL_CERT_*) as well: uv reads it to reach PyPI; none of it is a Python setting.
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR") if k in os.environ}
    return {**keep, **extra}


def _workspace_services() -> dict[str, str]:
    """The services this checkout defines, by their entry points: name → package (what the wheels must register)."""
    found: dict[str, str] = {}
    for pyproject in REPO.glob("services/*/pyproject.toml"):
        points = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("entry-points", {}).get("jicai.services", {})
        found |= {name: value.split(".")[0] for name, value in points.items()}
    return found


WHEEL_INPUTS = ("deploy/build-wheels.sh", "uv.lock", "pyproject.toml", ".python-version")
"""Besides every file of libs/*/ and services/*/: what else decides the wheels and requirements build-wheels.sh writes."""
NOT_INPUTS = {"build", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
"""What a build or a tool leaves in a package's folder (``*.egg-info`` too): never read into a wheel."""
WHEELS_CACHE = REPO / ".cache" / "test-wheels"
BYTECODE_CACHE = REPO / ".cache" / "test-wheels-bytecode"
"""The bytecode of what the installed environment imports (compiling it took ~5 CPU-s of each run; compiling all 2,000
modules at install, as the image does, ~9), kept from run to run: the environment is new each time but at the same
path, and uv links the same unpacked files from its cache, so Python finds that bytecode current (it compares the
source's mtime and size) and compiles a changed file again."""


def _wheel_inputs_key(uv: str) -> str:
    """A hash of everything build-wheels.sh reads: the packages' files, the lock, the build constraints, uv and Python."""
    digest = hashlib.sha256()
    digest.update(subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout.encode())
    digest.update(sys.version.encode())
    files = [REPO / name for name in WHEEL_INPUTS]
    for folder in sorted([*REPO.glob("libs/*/"), *REPO.glob("services/*/")]):
        for directory, subdirectories, names in os.walk(folder):
            subdirectories[:] = sorted(d for d in subdirectories if d not in NOT_INPUTS and not d.endswith(".egg-info"))
            files += [Path(directory, name) for name in sorted(names)]
    for file in files:
        digest.update(str(file.relative_to(REPO)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _built_wheels(uv: str) -> Path:
    """The wheels and requirements.txt of deploy/build-wheels.sh for the checkout as it is.

    Built once for each state of the files the build reads (``_wheel_inputs_key``; the last build is kept in
    .cache/test-wheels): a build of the same files gives the same wheels. Building them takes under a second of CPU
    since the packages build with uv_build (setuptools took ~15 CPU-s); a change to any package, the lock or the
    script builds them again.
    """
    key = _wheel_inputs_key(uv)
    done = WHEELS_CACHE / key
    if (done / "requirements.txt").is_file():
        return done
    WHEELS_CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=WHEELS_CACHE))
    build = subprocess.run([str(REPO / "deploy/build-wheels.sh"), str(building)], capture_output=True, text=True, timeout=900,
                           env={**os.environ, "UV": uv, "PYTHON": sys.executable})
    assert build.returncode == 0, build.stderr[-3000:]
    for stale in WHEELS_CACHE.iterdir():  # earlier states of the checkout (and builds interrupted midway)
        if stale != building:
            shutil.rmtree(stale, ignore_errors=True)
    building.rename(done)
    return done


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    # A new environment on every run, always at the same place outside the repository (one per checkout), so that the
    # bytecode its first start compiles (BYTECODE_CACHE) serves the next run's installs of the same files.
    root = Path(tempfile.gettempdir()) / f"jicai-wheels-{hashlib.sha256(str(REPO).encode()).hexdigest()[:12]}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o700)
    try:
        uv = str(Path(sys.executable).with_name("uv"))
        wheels = _built_wheels(uv)
        base_python = getattr(sys, "_base_executable", sys.executable)  # the interpreter itself, not this venv's
        venv = root / "venv"
        subprocess.run([base_python, "-m", "venv", "--without-pip", str(venv)], check=True, cwd=root, env=_plain_env())
        env = Installed(root, venv / "bin" / "python")
        # As in the image: the third-party requirements (hashed, from uv.lock), then our wheels, then a check of the
        # whole environment, all with uv and its cache (pip took ~7 CPU-s more for the wheels and the check, and
        # re-downloaded every requirement from PyPI on each run).
        for step in (["install", "--quiet", "--require-hashes", "--no-deps", "-r", str(wheels / "requirements.txt")],
                     ["install", "--quiet", "--no-deps", *map(str, sorted(wheels.glob("*.whl")))],
                     ["check"]):
            result = env.run(uv, "pip", *step, "--python", str(env.python))
            assert result.returncode == 0, f"{step}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
        yield env
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_environment_holds_installed_packages_only_and_registers_every_service(installed: Installed) -> None:
    probe = ("import json, jicai_kit, jicai_events; from jicai_kit.services import registered; "
             "print(json.dumps({'registered': {n: s.package for n, s in registered().items()}, "
             "'files': [jicai_kit.__file__, jicai_events.__file__]}))")
    result = installed.run(str(installed.python), "-c", probe)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["registered"] == _workspace_services()
    for file in seen["files"]:
        assert str(installed.root / "venv") in file and "site-packages" in file, f"{file} is not an installed copy"
    editable = list((installed.root / "venv").glob("lib/python*/site-packages/__editable__*"))
    assert editable == [], f"editable installs: {editable}"


def test_jicai_serve_refuses_a_service_nobody_installed_naming_those_installed(installed: Installed) -> None:
    result = installed.run(installed.bin("jicai-serve"), "billing")
    assert result.returncode != 0
    assert "unknown service 'billing'" in result.stderr
    for name in _workspace_services():
        assert name in result.stderr


def test_every_service_migrates_from_its_package_and_answers_from_the_installed_environment(installed: Installed, pg_base_url: str,
                                                                                           kafka_bootstrap: str) -> None:
    namespace = f"wheels-{uuid.uuid4().hex[:6]}."
    run_dir = installed.root / "run"
    run_dir.mkdir()
    started: dict[str, tuple[int, int, str]] = {}

    def start(name: str) -> None:
        url = infra.create_database(pg_base_url, f"test_wheel_{name}")
        port = free_port()
        env = installed.env(**{f"JICAI_{name.upper()}_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                            "JICAI_KAFKA_NAMESPACE": namespace, "JICAI_AUTH_PUBLIC_KEYS": str(PUBLIC_KEYS)})
        pid = spawn_detached([installed.bin("jicai-serve"), name, "--port", str(port)], installed.root, run_dir / f"{name}.log", env)
        started[name] = (pid, port, url)

    def ready(name: str) -> None:
        _, port, url = started[name]
        _wait_ready(client, f"http://127.0.0.1:{port}", run_dir / f"{name}.log")
        assert client.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert infra.alembic_revision(url) == _head(name), f"{name}: not migrated to its head"

    first, *others = _workspace_services()
    try:
        # One client for every request: each new one builds a TLS context (~40 ms of CPU).
        with httpx.Client(timeout=5) as client:
            # The first alone: where BYTECODE_CACHE lacks what it imports (the first run, or after a change), it
            # compiles and writes that once for the others to load (started together, each compiled the same modules
            # again: ~3 CPU-s each).
            start(first)
            ready(first)
            for name in others:
                start(name)
            for name in others:
                ready(name)
    finally:
        for pid, _, url in started.values():
            terminate(pid, 20.0)
            infra.drop_database(url)


def _wait_ready(client: httpx.Client, base: str, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    last = ""
    while time.monotonic() < deadline:
        try:
            response = client.get(f"{base}/readyz")
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.5)
    pytest.fail(f"{base} not ready after {READY_WITHIN_SECONDS}s ({last}):\n{tail(log)}")


def _head(service: str) -> str:
    """The head of the checkout's history for ``service``: the installed copy must have applied all of it."""
    head = ScriptDirectory.from_config(alembic_config(_workspace_services()[service], "postgresql://unused")).get_current_head()
    assert head is not None
    return head
