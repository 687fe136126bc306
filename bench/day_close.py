"""Benchmark: a business-day close in alerts, N invoices falling overdue together among M open ones; before and after.

The database is seeded with COPY (the rows alerts writes for each ``InvoiceReceived``:
its ``PaymentDeadlineSet`` in the event store, the invoice row, the decision row),
so a province's size is reached in seconds: N invoices whose warning falls on the
same day (Guiyang, deadline 2026-10-08) among M open invoices due months later.
Then one alerts process (``bench/day_close_worker.py``, the real consumer path)
closes three days: the day before (quiet: nothing due among N + M open), the
deadline (N warnings), the day after (quiet again).

"Before" is the same on the code of an older revision (``--before``, default the
commit before the chunked close: ``git archive`` of it first on ``PYTHONPATH``),
at ``--before-invoices`` overdue (the old close decides ~100 invoices/s: 100,000
would take a quarter of an hour), on a clone of the seeded database, in the same run.

With ``--instances 1,2`` (the default) the same close is measured again on a
clone of the seed with a second process, another instance of the consumer group,
taking its share (``jicai_alerts.application.day_close.share``).

    .venv/bin/python -m bench.day_close [--invoices 10000] [--open 100000] [--before-invoices 2000] [--runs 1] [--profile DIR] [--instances 1,2]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from bench.common import Row, postgres_base_url, repeat, run_and_print
from tests.support import infra

DEADLINE = date(2026, 10, 8)
"""Accepted 09-01, received 09-05 in Guiyang: due 10-08, warned 10-09 (decided at the close of 10-08)."""
OPEN_RECEIVED = date(2026, 12, 1)
"""The open invoices' receipt: due in January, nothing decided in October."""
WORKER = Path(__file__).with_name("day_close_worker.py")


@cache
def _templates() -> dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """For an overdue and an open invoice: the encoded ``PaymentDeadlineSet``, the invoice row and the decision row the
    consumer writes, decided by the domain itself (``INV-X`` stands for the invoice id)."""
    from jicai_alerts.adapters.policy import policy_book
    from jicai_alerts.adapters.projections import decision_row, invoice_values
    from jicai_alerts.domain import invoice_decisions, invoice_obligation
    from jicai_alerts.domain.events import PaymentDeadlineSet, codec

    book = policy_book()
    out = {}
    for kind, received in (("overdue", date(2026, 9, 5)), ("open", OPEN_RECEIVED)):
        accepted = received - timedelta(days=4)
        tracked = invoice_obligation.TrackInvoice(
            invoice_id="INV-X", invoice_number="X", institution_id="H000", pooling_region_code="520100", distributor_id="D001",
            amount=Decimal("198.00"), issued_on=accepted, received_on=received, latest_acceptance_on=accepted, event_id="EVT-X",
        )
        [deadline] = invoice_decisions.decide_on_invoice_received(None, tracked, book.profile_for("520100", on=received), book.calendar)
        assert isinstance(deadline, PaymentDeadlineSet), deadline
        state = invoice_obligation.fold([(deadline, "STORED-X")])
        assert isinstance(state, invoice_obligation.InvoiceObligation)
        out[kind] = (codec.encode(deadline)[1], {"invoice_id": "INV-X", **invoice_values(state)}, decision_row(deadline, deadline.deadline))
    assert out["overdue"][1]["next_decision_on"] == DEADLINE, out["overdue"][1]
    return out


def _name(text: str, n: int) -> str:
    return text.replace("INV-X", f"INV-{n:07d}").replace("EVT-X", f"EVT-{n}").replace("H000", f"H{n % 300:03d}")


def _rows(template: dict[str, Any], first: int, count: int) -> Iterator[list[Any]]:
    """The template's row for each invoice: JSON values as text, ``INV-X`` and the like renamed."""
    encoded = {k: json.dumps(v, default=str) if isinstance(v, dict | list) else v for k, v in template.items()}
    named = [k for k, v in encoded.items() if isinstance(v, str) and any(x in v for x in ("INV-X", "EVT-X", "H000"))]
    for n in range(first, first + count):
        row = dict(encoded)
        for k in named:
            row[k] = _name(row[k], n)
        yield list(row.values())


def seed(url: str, kind: str, first: int, count: int) -> float:
    """COPY ``count`` invoices of ``kind`` (ids from ``first``); seconds taken."""
    data, invoice, decision = _templates()[kind]
    event = {"stream_id": "invoice-INV-X", "stream_type": "invoice", "version": 1, "event_id": "", "event_type": "PaymentDeadlineSet",
             "data": data, "metadata": {}}
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        for table, template in (("event_store", event), ("invoices", invoice), ("decisions", decision)):
            with cur.copy(f"COPY {table} ({', '.join(template)}) FROM STDIN") as copy:
                for row in _rows(template, first, count):
                    if table == "event_store":
                        row[3] = str(uuid.uuid4())
                    copy.write_row(row)
        cur.execute(
            "INSERT INTO clock (clock_id, last_closed_on, day_closed_event_id) VALUES ('business', %s, 'seeded') ON CONFLICT DO NOTHING",
            (DEADLINE - timedelta(days=2),),
        )
        cur.execute("ANALYZE event_store, invoices, decisions")
    return time.perf_counter() - started


def _before_tree(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision, "libs", "services"], cwd=infra.REPO, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def default_before() -> str:
    """The commit before the chunked close was added."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "services/alerts/jicai_alerts/application/day_close.py"],
        cwd=infra.REPO, check=True, capture_output=True, text=True,
    ).stdout.split()
    return f"{added[-1]}^" if added else "HEAD"


def close_days(url: str, tree: Path | None, profile: Path | None = None, instances: int = 1) -> tuple[list[float], list[float], float]:
    """The three closes in their own alerts process (``tree``: an older revision's libraries first): the seconds each
    took, and the process's CPU seconds in each; with ``instances`` 2, a second process (another instance of the group,
    assigned the odd orders partitions, the first the even ones) takes its share of each close: the invoices it decided."""
    env = dict(os.environ)
    if tree is not None:
        paths = [tree / "libs" / lib for lib in ("events", "kit", "policy")] + [tree / "services" / "alerts"]
        env["PYTHONPATH"] = os.pathsep.join(map(str, paths))
    days = [DEADLINE - timedelta(days=2), DEADLINE - timedelta(days=1), DEADLINE, DEADLINE + timedelta(days=1)]
    argv = [sys.executable, str(WORKER), url, *(d.isoformat() for d in days)]
    helper = None
    if instances == 2:
        argv += ["--partitions", "0,2,4"]
        helper = subprocess.Popen(  # noqa: S603 - our own worker
            [sys.executable, str(WORKER), url, "--share", "1,3,5", "--until", days[-1].isoformat()],
            env=env, cwd=infra.REPO, stdout=subprocess.PIPE, text=True,
        )
    elif instances != 1:
        raise ValueError(f"{instances} instances: the bench runs 1 or 2")
    if profile is not None:
        spy = Path(sys.executable).with_name("py-spy")
        argv = [str(spy), "record", "-r", "50", "-f", "raw", "-o", str(profile), "--", *argv]
    done = subprocess.run(argv, env=env, cwd=infra.REPO, check=True, capture_output=True, text=True)
    line = [out for out in done.stdout.splitlines() if out.startswith("{")][-1]
    result = json.loads(line)
    shared = {"cpu_seconds": 0.0, "decided": 0.0}
    if helper is not None:
        out, _ = helper.communicate(timeout=120)
        assert helper.returncode == 0, helper.returncode
        shared = json.loads([o for o in out.splitlines() if o.startswith("{")][-1])
    # The first: a day closed already (the seed's clock), to warm the process up.
    cpu = result.get("cpu_seconds", [0.0] * len(days))[1:]
    cpu[1] += shared["cpu_seconds"]  # the warning close's: the helper is idle on the quiet ones
    return result["seconds"][1:], cpu, shared["decided"]


def _renamed(profile: Path | None, prefix: str) -> Path | None:
    return profile.with_name(f"{prefix}-{profile.name}") if profile else None


def _warnings(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute("SELECT count(*) FROM decisions WHERE kind = 'overdue_warning'").fetchone()
    return int(row[0]) if row else 0


def once(
    invoices: int, open_invoices: int, before_invoices: int, before: str | None, profile: Path | None, instances: tuple[int, ...] = (1, 2),
) -> dict[str, float]:
    base = postgres_base_url()
    url = infra.migrated_database(base, "alerts")
    before_url = split_url = None
    figures: dict[str, float] = {}
    try:
        seeded = seed(url, "open", 10_000_000, open_invoices)
        if before:
            seeded += seed(url, "overdue", 0, before_invoices)
            name = url.rsplit("/", 1)[1]
            before_url = infra.create_database(base, "bench_before", template=name)
            with tempfile.TemporaryDirectory() as tmp:
                (quiet, warning, after), (_, warning_cpu, _), _ = close_days(
                    before_url, _before_tree(before, Path(tmp)), _renamed(profile, "before")
                )
            assert _warnings(before_url) == before_invoices, _warnings(before_url)
            figures |= {
                "before_decisions": before_invoices / warning, "before_cpu_ms": warning_cpu * 1000 / before_invoices,
                "before_quiet_ms": quiet * 1000, "before_after_ms": after * 1000,
            }
            seeded += seed(url, "overdue", before_invoices, invoices - before_invoices)
        else:
            seeded += seed(url, "overdue", 0, invoices)
        split_url = infra.create_database(base, "bench_split", template=url.rsplit("/", 1)[1]) if 2 in instances else None
        if 1 in instances:
            (quiet, warning, after), (_, warning_cpu, _), _ = close_days(url, None, profile)
            assert _warnings(url) == invoices, _warnings(url)
            figures |= {
                "decisions": invoices / warning, "cpu_ms": warning_cpu * 1000 / invoices, "warning_s": warning, "quiet_ms": quiet * 1000,
                "after_ms": after * 1000,
            }
        if split_url is not None:
            (quiet, warning, after), (_, warning_cpu, _), shared = close_days(split_url, None, None, instances=2)
            assert _warnings(split_url) == invoices, _warnings(split_url)
            figures |= {
                "decisions_2": invoices / warning, "cpu_ms_2": warning_cpu * 1000 / invoices, "warning_s_2": warning,
                "quiet_ms_2": quiet * 1000, "after_ms_2": after * 1000, "shared_2": shared / invoices,
            }
        figures["seed_rows_per_s"] = (invoices + open_invoices) / seeded
    finally:
        for made in (url, before_url, split_url):
            if made:
                infra.drop_database(made)
    return figures


def measure(
    runs: int = 3, invoices: int = 100_000, open_invoices: int = 1_000_000, before_invoices: int = 10_000, before: str | None = "default",
    profile: Path | None = None, instances: tuple[int, ...] = (1, 2),
) -> Row:
    revision = default_before() if before == "default" else before
    units = {
        "decisions": f"warnings decided/s, chunked close ({invoices:,} overdue)",
        "cpu_ms": "CPU ms of the alerts process per warning decided, chunked close",
        "warning_s": f"s, the close warning {invoices:,} invoices (goal ≤ 30 s at 100,000)",
        "quiet_ms": f"ms, quiet close among {invoices + open_invoices:,} open invoices (goal ≤ 100 ms at 1M)",
        "after_ms": "ms, the next quiet close",
        "seed_rows_per_s": "invoices seeded/s (COPY of their store, invoice and decision rows: the raw baseline)",
    }
    if 2 in instances:
        units |= {
            "decisions_2": f"warnings decided/s, the close split across 2 instances ({invoices:,} overdue)",
            "cpu_ms_2": "CPU ms of both alerts processes per warning decided, 2 instances",
            "warning_s_2": f"s, the close warning {invoices:,} invoices on 2 instances (goal ≤ 30 s at 100,000)",
            "quiet_ms_2": "ms, the quiet close on 2 instances",
            "after_ms_2": "ms, the next quiet close on 2 instances",
            "shared_2": "share of the invoices the second instance decided",
        }
    if revision:
        units |= {
            "before_decisions": f"warnings decided/s, the close before chunks ({before_invoices:,} overdue, {revision[:12]})",
            "before_cpu_ms": "CPU ms of the alerts process per warning decided, the older code",
            "before_quiet_ms": f"ms, quiet close before chunks among {before_invoices + open_invoices:,} open",
            "before_after_ms": "ms, the next quiet close before chunks",
        }
    figures = repeat(runs, lambda i: once(
        invoices, open_invoices, min(before_invoices, invoices), revision, profile if i == 0 else None, instances,
    ))
    return Row(
        key="day_close", title="Day close in alerts, invoices falling overdue the same day", size=f"{invoices} invoices",
        figures=figures, units=units,
        note=(
            f"seeded with COPY among {open_invoices:,} open invoices; each close through the real consumer path in its own "
            "alerts process, real PostgreSQL, no Kafka; 2 instances: a second process assigned half the orders partitions "
            "takes its share of each close (as its consumer would, every quarter second), on a clone of the same seed; "
            "before: the older revision's code on a clone of the same seed."
        ),
    )


def size_of(row: Row) -> int:
    return int(row.size.split()[0])


def main(
    invoices: Annotated[int, typer.Option()] = 10_000, open_invoices: Annotated[int, typer.Option("--open")] = 100_000,
    before_invoices: Annotated[int, typer.Option()] = 2_000, before: Annotated[str, typer.Option(help="revision; '' for none")] = "default",
    runs: Annotated[int, typer.Option()] = 1,
    profile: Annotated[Path | None, typer.Option(help="py-spy raw profiles of the first run (before-NAME: the older code)")] = None,
    instances: Annotated[str, typer.Option(help="1, 2 or 1,2: alerts instances sharing each close")] = "1,2",
) -> None:
    counts = tuple(int(n) for n in instances.split(","))
    run_and_print(lambda: measure(runs, invoices, open_invoices, before_invoices, before or None, profile, counts))


if __name__ == "__main__":
    typer.run(main)
