"""``small_flows``: one platform for the package's short flows, each on parties of its own.

Starting a platform (four service processes, their databases, topics and groups) costs more than either flow, so
they share one: the correlation test's H001, C001, M001 and D001 (tests/e2e/flow.py) and the simulator's ``SIM<seed>``
institutions, contracts and parties never meet, and each test reads only its own (its request id's log lines, its
institutions' records and alerts). The services log JSON, which the correlation test reads and the simulator ignores."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.system import System, start_system


@pytest.fixture(scope="package")
def system() -> Iterator[System]:
    started = start_system("small", env={"JICAI_LOG_FORMAT": "json"})
    try:
        yield started
    finally:
        started.stop_all()
