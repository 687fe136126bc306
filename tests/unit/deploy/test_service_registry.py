"""Services are found by their entry points (group ``jicai.services``): the kit and the dev stack name none of them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from jicai_devstack import services as procs
from jicai_kit.services import ENTRY_POINT_GROUP, registered

REPO = Path(__file__).resolve().parents[3]
# A service nobody in this repository wrote: a package and its installed distribution's metadata, nothing else.
FOREIGN = {
    "jicai_billing/__init__.py": "",
    "jicai_billing/registration.py": 'from jicai_kit.services import Service\nSERVICE = Service(name="billing", package="jicai_billing", local_port=8009)\n',
    "jicai_billing-0.1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: jicai-billing\nVersion: 0.1.0\n",
    "jicai_billing-0.1.0.dist-info/entry_points.txt": f"[{ENTRY_POINT_GROUP}]\nbilling = jicai_billing.registration:SERVICE\n",
}
PROBE = """
import json
from jicai_devstack.services import DEFAULT_PORTS, SERVICES
from jicai_kit.serve import installed
print(json.dumps({"services": list(SERVICES), "ports": DEFAULT_PORTS, "package": installed("billing").package}))
"""


def test_every_service_of_the_workspace_is_registered_and_the_dev_stack_runs_exactly_those() -> None:
    declared: dict[str, str] = {}
    for pyproject in REPO.glob("services/*/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        declared |= project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    assert set(declared) == set(registered()) and len(declared) >= 4
    assert tuple(registered()) == procs.SERVICES
    assert len(set(procs.DEFAULT_PORTS.values())) == len(procs.SERVICES), "each service has its own local port"


def test_a_service_installed_later_is_served_and_started_by_the_dev_stack_without_naming_it(tmp_path: Path) -> None:
    for relative, text in FOREIGN.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    assert seen["services"] == [*registered(), "billing"]  # in the order of their local ports
    assert seen["ports"]["billing"] == 8009
    assert seen["package"] == "jicai_billing"
