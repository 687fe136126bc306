"""Use cases: each loads a stream, asks the domain to decide, records the events.

The caller (an entrypoint) owns the unit of work and so the commit.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters.tables import batches, contracts, distributors, generic_groups, institutions, manufacturers, products
from jicai_contracts.application import payment_standards
from jicai_contracts.domain import agreement, allocation, batch, contract, generic_group, parties
from jicai_contracts.domain.errors import DomainRuleViolated
from jicai_contracts.domain.events import (
    BatchLine,
    ContractsEvent,
    ContractSigned,
    DistributorRegistered,
    GenericGroupDefined,
    InstitutionRegistered,
    ManufacturerRegistered,
    NonWinningProductListed,
    WinningProductListed,
)
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook
from jicai_policy.errors import NoProfileForRegion


async def register_party(uow: UnitOfWork, stream_id: str, stream_type: str, registration: ContractsEvent) -> bool:
    """Record a party registration; False when it was an identical retry."""
    history, version = await repo.streams.load(uow, stream_id)
    new = parties.register(history, registration)
    await repo.streams.append(uow, stream_id, stream_type, version, new)
    return bool(new)


async def register_institution(uow: UnitOfWork, event: InstitutionRegistered) -> bool:
    return await register_party(uow, f"institution-{event.institution_id}", "institution", event)


async def register_manufacturer(uow: UnitOfWork, event: ManufacturerRegistered) -> bool:
    return await register_party(uow, f"manufacturer-{event.manufacturer_id}", "manufacturer", event)


async def register_distributor(uow: UnitOfWork, event: DistributorRegistered) -> bool:
    return await register_party(uow, f"distributor-{event.distributor_id}", "distributor", event)


async def _group_terms(uow: UnitOfWork, group_id: str | None) -> generic_group.GroupTerms | None:
    row = await repo.find(uow, generic_groups, group_id) if group_id else None
    return None if row is None else generic_group.GroupTerms(row["group_id"], row["batch_id"], row["generic_name"], row["dosage_form"])


async def list_winning_product(uow: UnitOfWork, event: WinningProductListed, book: PolicyBook) -> bool:
    if await repo.find(uow, manufacturers, event.manufacturer_id) is None:
        raise DomainRuleViolated("manufacturer_id", f"manufacturer {event.manufacturer_id} is not registered")
    stream_id = generic_group.product_stream(event.product_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = generic_group.list_winning(history, event, await _group_terms(uow, event.generic_group_id))
    await repo.streams.append(uow, stream_id, "product", version, new)
    if new:  # a winning price sets its group's payment standard (R6)
        await payment_standards.decide_group(uow, event.generic_group_id, book)
    return bool(new)


async def define_generic_group(uow: UnitOfWork, event: GenericGroupDefined) -> bool:
    stream_id = f"generic-group-{event.group_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = generic_group.define(history, event)
    await repo.streams.append(uow, stream_id, "generic_group", version, new)
    return bool(new)


async def list_non_winning_product(uow: UnitOfWork, event: NonWinningProductListed, book: PolicyBook) -> bool:
    stream_id = generic_group.product_stream(event.product_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = generic_group.list_non_winning(history, event, await _group_terms(uow, event.generic_group_id))
    await repo.streams.append(uow, stream_id, "product", version, new)
    if new:  # its price against its group's payment standard (R6)
        await payment_standards.decide_group(uow, event.generic_group_id, book)
    return bool(new)


async def sign_contract(uow: UnitOfWork, cmd: contract.SignContract) -> bool:
    institution = await repo.find(uow, institutions, cmd.institution_id)
    if institution is None:
        raise DomainRuleViolated("institution_id", f"{cmd.institution_id} is not registered")
    for field, table, key in (
        ("manufacturer_id", manufacturers, cmd.manufacturer_id),
        ("distributor_id", distributors, cmd.distributor_id),
    ):
        if await repo.find(uow, table, key) is None:
            raise DomainRuleViolated(field, f"{key} is not registered")
    product = await repo.find(uow, products, cmd.product_id)
    if product is None:
        raise DomainRuleViolated("product_id", f"product {cmd.product_id} is not listed")
    terms = contract.ProductTerms(product["product_id"], product["manufacturer_id"], product["winning_unit_price"])
    stream_id = contract_stream(cmd.contract_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = contract.sign(history, cmd, terms, institution["pooling_region_code"])
    if new:
        await _check_batch_cycle(uow, product, cmd.cycle_start, cmd.cycle_end)
    await repo.streams.append(uow, stream_id, "contract", version, new)
    for signed in new:  # year 1 of the yearly agreements (采购协议每年一签) is signed with the contract
        if isinstance(signed, ContractSigned):
            first = agreement.first_year(signed)
            await repo.streams.append(uow, agreement_stream(first.agreement_id), "yearly_agreement", 0, [first])
    return bool(new)


def contract_stream(contract_id: str) -> str:
    return f"contract-{contract_id}"


def agreement_stream(agreement_id: str) -> str:
    return f"yearly-agreement-{agreement_id}"


async def _check_batch_cycle(uow: UnitOfWork, product: dict[str, Any], cycle_start: date, cycle_end: date) -> None:
    """A contract of a published batch's product follows the batch's cycle; products of batches not published here are not checked."""
    row = await repo.find(uow, batches, product["batch_id"])
    if row is not None:
        lines = [BatchLine.model_validate(line) for line in row["lines"]]
        line = batch.line_for(lines, product["product_id"], product["generic_group_id"])
        batch.check_contract_cycle(row["batch_id"], row["cycle_start"], line, cycle_start, cycle_end)


__all__ = ["contracts", "register_distributor", "register_institution", "register_manufacturer", "sign_contract"]


async def draft_allocation(uow: UnitOfWork, cmd: allocation.DraftAllocation, book: PolicyBook) -> bool:
    """Record a draft volume allocation by the region's profile on 1 January of the agreement year.

    Institutions must be registered (their county comes from the registry) in pooling regions that follow the same profile that day.
    """
    if await repo.find(uow, products, cmd.product_id) is None:
        raise DomainRuleViolated("product_id", f"product {cmd.product_id} is not listed")
    on = allocation.profile_day(cmd.agreement_year)
    try:
        profile = book.profile_for(cmd.pooling_region_code, on)
    except NoProfileForRegion as exc:
        raise DomainRuleViolated("pooling_region_code", str(exc)) from None
    bases = []
    for i, basis in enumerate(cmd.bases):
        field = f"bases[{i}].institution_id"
        institution = await repo.find(uow, institutions, basis.institution_id)
        if institution is None:
            raise DomainRuleViolated(field, f"{basis.institution_id} is not registered")
        try:
            own = book.entry_for(institution["pooling_region_code"], on)
        except NoProfileForRegion as exc:
            raise DomainRuleViolated(field, str(exc)) from None
        if (own.profile_id, own.version) != (profile.profile_id, profile.version):
            raise DomainRuleViolated(field, f"{basis.institution_id} is in pooling region {institution['pooling_region_code']}, which follows "
                                            f"{own.profile_id} v{own.version} on {on}, not {profile.profile_id} v{profile.version}")
        bases.append(allocation.Basis(basis.institution_id, institution["county_code"], basis.quantity))
    cmd = allocation.DraftAllocation(**{**cmd.__dict__, "bases": tuple(bases)})
    stream_id = f"allocation-{cmd.allocation_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = allocation.draft(history, cmd, profile)
    await repo.streams.append(uow, stream_id, "allocation", version, new)
    return bool(new)


async def approve_allocation(uow: UnitOfWork, allocation_id: str, approved_on: date) -> bool:
    stream_id = f"allocation-{allocation_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = allocation.approve(history, allocation_id, approved_on)
    await repo.streams.append(uow, stream_id, "allocation", version, new)
    return bool(new)
