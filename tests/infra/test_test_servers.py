"""The suite's own PostgreSQL keeps its data between runs (the migrated templates), so a run starts by dropping what
earlier runs left on it; it must never take a template with it."""
from __future__ import annotations

from tests.support import infra


def test_a_run_starts_by_listing_what_earlier_runs_left_but_no_template(pg_base_url: str) -> None:
    leftover = infra.create_database(pg_base_url, "e2e_leftover")
    template = infra.migrated_template(pg_base_url, "orders")
    try:
        listed = infra.databases_of_earlier_runs(pg_base_url)
        assert leftover.rsplit("/", 1)[1] in listed
        assert template not in listed
        assert not [name for name in listed if name.startswith(infra.TEMPLATE_PREFIX) or name == "postgres"]
    finally:
        infra.drop_database(leftover)
