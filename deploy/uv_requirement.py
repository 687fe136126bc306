"""Prints uv's requirement line as uv.lock records it (``uv==X --hash=sha256:… …``), for pip to bootstrap uv.

uv is in the dev dependency group, so the lock holds its version and the hash
of every wheel: the installer of the locked packages is itself locked.
Standard library only: it runs on the bare interpreter before any install.
"""
import sys
import tomllib
from pathlib import Path

lock = tomllib.loads((Path(__file__).resolve().parents[1] / "uv.lock").read_text(encoding="utf-8"))
[uv] = [package for package in lock["package"] if package["name"] == "uv"]
files = [*uv.get("wheels", []), *([uv["sdist"]] if "sdist" in uv else [])]
sys.stdout.write(f"uv=={uv['version']} " + " ".join(f"--hash={f['hash']}" for f in files) + "\n")
