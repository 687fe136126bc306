"""How ``make test`` shares the test files between pytest-xdist workers (``--dist loadfile``).

xdist's own ``loadfile`` hands out files largest-first by their number of tests, which says little about
their time: a one-test end-to-end module starts a whole system and runs for minutes, a file of two hundred
policy cases takes seconds. Two things matter on a run of a few workers:

- The modules that share a package-scoped system (``clean_run``, ``year_run``, ``small_flows``: tests/e2e/<package>/conftest.py) go
  to one worker as one unit: split across both, each worker would start the system and run its flow again.
- The longest units go first, so no worker is left with a long module while the other has nothing left to do.

The order is only a schedule: every test passes in any order and on any worker.
"""
from __future__ import annotations

from xdist.scheduler import LoadFileScheduling

E2E = "tests/e2e/"
SHARED_SYSTEMS = (f"{E2E}year_run/", f"{E2E}clean_run/", f"{E2E}small_flows/")
"""Packages whose modules share a package-scoped system (tests/e2e/*/conftest.py): one unit of work each."""
LONGEST_FIRST = (
    f"{E2E}year_run/",
    f"{E2E}test_console.py",
    f"{E2E}clean_run/",
    # outside e2e, each half a minute or more: their own brokers and clusters, an installed environment, long closes
    "tests/infra/test_wheels.py",
    "tests/infra/test_kafka_broker.py",
    "tests/service/alerts/test_day_close_chunks.py",
    f"{E2E}test_policy_topic.py",
    f"{E2E}small_flows/",
    "tests/infra/test_service_launcher.py",
    "tests/integration/test_dead_letters.py",
    "tests/infra/test_kafka_acls.py",
    f"{E2E}test_database_crash.py",
    f"{E2E}test_day_close_split.py",
    "tests/integration/test_web_concurrency.py",
    f"{E2E}test_day_close_crash.py",
    f"{E2E}test_day_close_waits_for_facts.py",
    f"{E2E}test_calendar_year_end.py",
    "tests/integration/test_day_close_watermarks.py",
    "tests/infra/test_postgres_roles.py",
    "tests/infra/test_postgres_crash_safety.py",
)
"""The units that take longest, longest first (measured with ``--durations``); every other file follows, its
tests' count deciding as in xdist's ``loadfile``."""


class SharedSystemsLongestFirst(LoadFileScheduling):  # type: ignore[misc]  # pytest-xdist has no type information (no py.typed)
    def _split_scope(self, nodeid: str) -> str:
        path: str = nodeid.split("::", 1)[0]
        return next((package for package in SHARED_SYSTEMS if path.startswith(package)), path)

    def _assign_work_unit(self, node: object) -> None:
        """Hand out the longest unit left (xdist takes the head of its queue)."""
        longest = min(self.workqueue, key=self._rank)
        self.workqueue.move_to_end(longest, last=False)
        super()._assign_work_unit(node)

    def _rank(self, unit: str) -> tuple[int, int]:
        listed = LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)
        return listed, -len(self.workqueue[unit])
