"""Use cases: each loads its streams, asks the domain to decide, records the events.

The caller (an entrypoint) owns the unit of work and so the commit.
"""
from __future__ import annotations

from collections.abc import Sequence

from jicai_events.unit_of_work import UnitOfWork
from jicai_orders.adapters import repository as repo
from jicai_orders.domain import acceptance, contract, invoice
from jicai_orders.domain.events import AcceptanceRecorded, ContractRecorded, InvoiceRecorded


def contract_stream(contract_id: str) -> str:
    return f"contract-{contract_id}"


def acceptance_stream(institution_id: str, external_id: str) -> str:
    return f"acceptance-{institution_id}-{external_id}"


def invoice_stream(invoice_id: str) -> str:
    return f"invoice-{invoice_id}"


async def record_contract(uow: UnitOfWork, told: ContractRecorded) -> bool:
    """Remember a signed contract's terms; False when they were known already."""
    stream_id = contract_stream(told.contract_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = contract.record([e for e in history if isinstance(e, ContractRecorded)], told)
    await repo.streams.append(uow, stream_id, "contract", version, new)
    return bool(new)


async def push_acceptances(
    uow: UnitOfWork, institution_id: str, lines: Sequence[acceptance.AcceptanceLine]
) -> list[acceptance.Decision]:
    """Decide every line of a HIS push and record the accepted ones, all in this unit of work.

    Returns one decision per line, in the order of ``lines``. Each accepted
    line starts its own stream at version 1; a concurrent push of the same
    line loses the (stream, version) race with ConcurrencyConflict, and its
    retry (``jicai_kit.commands.execute``) finds the line recorded.
    """
    stream_ids = [acceptance_stream(institution_id, line.external_id) for line in lines]
    histories = await repo.load_streams(uow, stream_ids)
    contracts = await repo.contract_views(uow, (line.contract_id for line in lines))
    decisions = [
        acceptance.accept(
            [e for e in histories.get(stream_id, []) if isinstance(e, AcceptanceRecorded)],
            institution_id,
            line,
            contracts.get(line.contract_id),
        )
        for stream_id, line in zip(stream_ids, lines, strict=True)
    ]
    # Append in stream order: two overlapping pushes then wait on each other instead of deadlocking.
    for i in sorted(range(len(lines)), key=stream_ids.__getitem__):
        decision = decisions[i]
        if isinstance(decision, acceptance.Accepted):
            await repo.streams.append(uow, stream_ids[i], "acceptance", 0, [decision.event])
    return decisions


async def receive_invoice(uow: UnitOfWork, cmd: invoice.ReceiveInvoice) -> bool:
    """Record a distributor's invoice; False when it repeated an identical earlier one."""
    # Lock the billed acceptances first, then read the invoice stream: a
    # request that waited here for an identical one sees it as recorded.
    acceptances = await repo.acceptance_views_for_update(uow, (line.acceptance_id for line in cmd.lines))
    stream_id = invoice_stream(cmd.invoice_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = invoice.receive([e for e in history if isinstance(e, InvoiceRecorded)], cmd, acceptances)
    await repo.streams.append(uow, stream_id, "invoice", version, new)
    return bool(new)
