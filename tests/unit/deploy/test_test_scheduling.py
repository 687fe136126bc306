"""The schedule ``make test`` gives its two workers (tests/support/scheduling.py): a unit named there that no longer
exists would silently fall back to xdist's order, and a long module left unnamed runs last, alone."""
from __future__ import annotations

from pathlib import Path

from tests.support.scheduling import LONGEST_FIRST, SHARED_SYSTEMS

ROOT = Path(__file__).parents[3]


def test_every_unit_named_in_the_schedule_exists() -> None:
    missing = [unit for unit in (*LONGEST_FIRST, *SHARED_SYSTEMS) if not (ROOT / unit).exists()]
    assert missing == []


def test_every_end_to_end_module_is_scheduled_longest_first() -> None:
    """Each e2e module starts a whole system and runs for minutes: one left to xdist's count-of-tests order goes last."""
    e2e = ROOT / "tests" / "e2e"
    modules = {f"tests/e2e/{p.relative_to(e2e)}" for p in e2e.glob("test_*.py")}
    assert sorted(modules - set(LONGEST_FIRST)) == []
    assert all((ROOT / package / "conftest.py").is_file() for package in SHARED_SYSTEMS)
