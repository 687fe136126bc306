"""HTTP API of the contracts service. Writes are for operators (the provincial platform)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Table

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters import tables as t
from jicai_contracts.adapters.policy import policy_book
from jicai_contracts.application import agreements, batches, reports, services
from jicai_contracts.domain import agreement as ag
from jicai_contracts.domain import events as e
from jicai_contracts.domain.allocation import AllocationMethod, Basis, DraftAllocation
from jicai_contracts.domain.batch import ExtendCycle, LineIn, PublishBatch
from jicai_contracts.domain.contract import SignContract
from jicai_contracts.domain.report import report_id
from jicai_contracts.entrypoints import schemas as s
from jicai_kit.auth import SEES_ALL, Caller, Principal, Role
from jicai_kit.commands import Recorded, execute, query, record
from jicai_kit.problems import not_found
from jicai_kit.validity import check_dates, first_of, today

router = APIRouter()


def _created(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


async def _decidable(
    request: Request, facts: dict[str, date | None], *, region: str | None = None, of: tuple[Table, str] | None = None,
    terms: dict[str, date | None] | None = None, region_field: str | None = None,
) -> None:
    """422 naming every business date no consumer could decide on; ``of``: the row (table, key) whose region it is;
    ``region_field``: the field naming the region (refused once if no profile covers it)."""
    if of is not None:
        row = await query(request.app.state.runtime, lambda uow: repo.find(uow, *of))
        region = row["pooling_region_code"] if row else None
    check_dates(request.app.state.settings, policy_book(), region, facts, terms, region_field=region_field)


@router.post("/institutions", tags=["parties"], status_code=201, response_model=Recorded)
async def register_institution(body: s.InstitutionIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Register a medical institution (医疗机构) in its pooling region (统筹区)."""
    caller.require(Role.OPERATOR)
    event = e.InstitutionRegistered(
        institution_id=body.institution_id, institution_name=body.name,
        pooling_region_code=body.pooling_region_code, county_code=body.county_code,
    )
    return await record(request.app.state.runtime, response, body.institution_id, lambda uow: services.register_institution(uow, event))


@router.post("/manufacturers", tags=["parties"], status_code=201, response_model=Recorded)
async def register_manufacturer(body: s.PartyIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Register a winning manufacturer (中选生产企业)."""
    caller.require(Role.OPERATOR)
    event = e.ManufacturerRegistered(manufacturer_id=body.party_id, manufacturer_name=body.name)
    return await record(request.app.state.runtime, response, body.party_id, lambda uow: services.register_manufacturer(uow, event))


@router.post("/distributors", tags=["parties"], status_code=201, response_model=Recorded)
async def register_distributor(body: s.PartyIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Register a distributor (配送企业)."""
    caller.require(Role.OPERATOR)
    event = e.DistributorRegistered(distributor_id=body.party_id, distributor_name=body.name)
    return await record(request.app.state.runtime, response, body.party_id, lambda uow: services.register_distributor(uow, event))


@router.post("/winning-products", tags=["products"], status_code=201, response_model=Recorded)
async def list_winning_product(body: s.WinningProductIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """List a winning product (中选药品) at its winning price (中选价格)."""
    caller.require(Role.OPERATOR)
    event = e.WinningProductListed(**body.model_dump())
    return await record(request.app.state.runtime, response, body.product_id, lambda uow: services.list_winning_product(uow, event, policy_book()))


@router.post("/generic-groups", tags=["products"], status_code=201, response_model=Recorded)
async def define_generic_group(body: s.GenericGroupIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Define a generic group (同通用名 / 评审组) of a batch and the base unit its quantities compare in."""
    caller.require(Role.OPERATOR)
    event = e.GenericGroupDefined(**body.model_dump())
    return await record(request.app.state.runtime, response, body.group_id, lambda uow: services.define_generic_group(uow, event))


@router.post("/non-winning-products", tags=["products"], status_code=201, response_model=Recorded)
async def list_non_winning_product(body: s.NonWinningProductIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """List a non-winning product (非中选药品) of a generic group, with its conversion to the group's base unit."""
    caller.require(Role.OPERATOR)
    event = e.NonWinningProductListed(**body.model_dump())
    return await record(request.app.state.runtime, response, body.product_id, lambda uow: services.list_non_winning_product(uow, event, policy_book()))


@router.post("/contracts", tags=["contracts"], status_code=201, response_model=Recorded)
async def sign_contract(body: s.ContractIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Sign a volume contract (带量购销合同) at the winning price with an agreed volume (约定采购量)."""
    caller.require(Role.OPERATOR)
    await _decidable(request, {"signed_on": body.signed_on}, of=(t.institutions, body.institution_id), region_field="institution_id",
                     terms={"cycle_start": body.cycle_start, "cycle_end": body.cycle_end})
    cmd = SignContract(**body.model_dump())
    return await record(request.app.state.runtime, response, body.contract_id, lambda uow: services.sign_contract(uow, cmd))


def _reader(table: Table, what: str) -> Callable[[str, Principal, Request], Awaitable[dict[str, Any]]]:
    """The GET endpoint of one row of ``table`` (404 naming ``what`` when there is none)."""

    async def get_one(key: str, caller: Caller, request: Request) -> dict[str, Any]:
        row = await query(request.app.state.runtime, lambda uow: repo.find(uow, table, key))
        if row is None:
            raise not_found(what, key)
        if table is t.contracts:  # parties and products are reference data; a contract is its parties' business
            caller.may_read(what=f"contract {key}", institution_id=row["institution_id"],
                            distributor_id=row["distributor_id"], manufacturer_id=row["manufacturer_id"])
        return _jsonable(row)

    return get_one


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


for path, table, what, tag in (
    ("/institutions/{key}", t.institutions, "institution", "parties"),
    ("/manufacturers/{key}", t.manufacturers, "manufacturer", "parties"),
    ("/distributors/{key}", t.distributors, "distributor", "parties"),
    ("/winning-products/{key}", t.products, "winning product", "products"),
    ("/generic-groups/{key}", t.generic_groups, "generic group", "products"),
    ("/non-winning-products/{key}", t.non_winning_products, "non-winning product", "products"),
    ("/contracts/{key}", t.contracts, "contract", "contracts"),
    ("/batches/{key}", t.batches, "batch", "batches"),
):
    router.add_api_route(path, _reader(table, what), methods=["GET"], tags=[tag], summary=f"One {what}")


def _own(caller: Caller, filters: dict[str, str]) -> dict[str, str] | None:
    """A listing's filters narrowed to the caller's own records; None when they ask for another party's (nothing to see)."""
    if caller.role in SEES_ALL:
        return filters
    owner = f"{caller.role.value}_id"
    if filters.get(owner, caller.party_id) != caller.party_id:
        return None
    return filters | {owner: caller.party_id}


@router.get("/institutions", tags=["parties"], summary="Every institution, optionally of one pooling region (operators and the fund)")
async def list_institutions(caller: Caller, request: Request, pooling_region_code: str | None = None) -> list[dict[str, Any]]:
    """The institutions registered, in id order: what a province-wide view (the operations console) iterates over."""
    caller.require(Role.OPERATOR, Role.FUND)
    filters = {"pooling_region_code": pooling_region_code} if pooling_region_code else {}
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.institutions, **filters))
    return [_jsonable(r) for r in rows]


@router.get("/contracts", tags=["contracts"], summary="Contracts, optionally of one institution; a party sees its own")
async def list_contracts(caller: Caller, request: Request, institution_id: str | None = None) -> list[dict[str, Any]]:
    filters = _own(caller, {"institution_id": institution_id} if institution_id else {})
    if filters is None:
        return []
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.contracts, **filters))
    return [_jsonable(r) for r in rows]


@router.get("/generic-groups", tags=["products"], summary="Generic groups, optionally of one batch")
async def list_generic_groups(caller: Caller, request: Request, batch_id: str | None = None) -> list[dict[str, Any]]:
    filters = {"batch_id": batch_id} if batch_id else {}
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.generic_groups, **filters))
    return [_jsonable(r) for r in rows]


@router.get("/non-winning-products", tags=["products"], summary="Non-winning products, optionally of one generic group")
async def list_non_winning_products(caller: Caller, request: Request, generic_group_id: str | None = None) -> list[dict[str, Any]]:
    filters = {"generic_group_id": generic_group_id} if generic_group_id else {}
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.non_winning_products, **filters))
    return [_jsonable(r) for r in rows]


@router.post("/volume-allocations", tags=["allocation"], status_code=201, response_model=Recorded)
async def draft_volume_allocation(body: s.AllocationIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Draft a decomposition (任务量分解) of a product's agreed volume to institutions, for review.

    The region's profile in force on 1 January of the agreement year decides the method and the county grouping;
    omitted, they are taken from it. Whole trading units; the parts add up exactly to the total (largest-remainder rounding).
    """
    caller.require(Role.OPERATOR)
    cmd = DraftAllocation(
        allocation_id=body.allocation_id, product_id=body.product_id, agreement_year=body.agreement_year,
        pooling_region_code=body.pooling_region_code, method=AllocationMethod(body.method) if body.method else None,
        total=body.total, ratio=body.ratio, group_by_county=body.group_by_county,
        bases=tuple(Basis(b.institution_id, "", b.quantity) for b in body.bases),
    )
    return await record(request.app.state.runtime, response, body.allocation_id, lambda uow: services.draft_allocation(uow, cmd, policy_book()))


@router.post("/volume-allocations/{allocation_id}/approval", tags=["allocation"], status_code=201, response_model=Recorded)
async def approve_volume_allocation(
    allocation_id: str, body: s.ApprovalIn, caller: Caller, request: Request, response: Response
) -> Recorded:
    """Approve a reviewed allocation: its volumes become the agreed volumes contracts are signed with."""
    caller.require(Role.OPERATOR)
    await _decidable(request, {"approved_on": body.approved_on}, of=(t.allocations, allocation_id))
    return await record(request.app.state.runtime, response, allocation_id, lambda uow: services.approve_allocation(uow, allocation_id, body.approved_on))


@router.get("/volume-allocations/{allocation_id}", tags=["allocation"], summary="An allocation with every institution's volume")
async def get_volume_allocation(allocation_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    row = await query(request.app.state.runtime, lambda uow: repo.find(uow, t.allocations, allocation_id))
    if row is None:
        raise not_found("volume allocation", allocation_id)
    if caller.role not in SEES_ALL:  # an institution sees its own line only
        row["lines"] = [line for line in row["lines"] if line["institution_id"] == caller.party_id]
    return _jsonable(row)


@router.post("/batches", tags=["batches"], status_code=201, response_model=Recorded)
async def publish_batch(body: s.BatchIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Publish a procurement batch (采购批次): each line's cycle (采购周期) from the region's profile and its winning companies."""
    caller.require(Role.OPERATOR)
    await _decidable(request, {}, region=body.pooling_region_code, terms={"cycle_start": body.cycle_start}, region_field="pooling_region_code")
    cmd = PublishBatch(body.batch_id, body.title, body.pooling_region_code, body.cycle_start,
                       tuple(LineIn(**line.model_dump()) for line in body.lines))
    return await record(request.app.state.runtime, response, body.batch_id, lambda uow: batches.publish_batch(uow, cmd, policy_book()))


@router.post("/batches/{batch_id}/cycle-extensions", tags=["batches"], status_code=201, response_model=Recorded)
async def extend_cycle(batch_id: str, body: s.CycleExtensionIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Extend the cycle (延长采购周期) of a line or the whole batch within the profile's extendable years;
    each contract on the old cycle end records ContractCycleExtended."""
    caller.require(Role.OPERATOR)
    await _decidable(request, {"extended_on": body.extended_on}, of=(t.batches, batch_id))
    cmd = ExtendCycle(batch_id=batch_id, **body.model_dump())
    return await record(request.app.state.runtime, response, body.extension_id, lambda uow: batches.extend_cycle(uow, cmd, policy_book()))


def _agreement_view(row: dict[str, Any]) -> dict[str, Any]:
    owed = ag.owed(row["agreed_quantity"], row["accepted_quantity"], row["returned_quantity"])
    return _jsonable(row) | {"owed_quantity": owed}


async def _agreement(request: Request, caller: Caller, agreement_id: str) -> dict[str, Any]:
    rows = await query(request.app.state.runtime, lambda uow: repo.agreements(uow, agreement_id=agreement_id))
    if not rows:
        raise not_found("yearly agreement", agreement_id)
    row = rows[0]
    caller.may_read(what=f"yearly agreement {agreement_id}", institution_id=row["institution_id"],
                    distributor_id=row["distributor_id"], manufacturer_id=row["manufacturer_id"])
    return row


@router.get("/yearly-agreements/{agreement_id}", tags=["yearly agreements"],
            summary="A yearly agreement (年度采购协议): agreed, accepted, returned and still owed quantity")
async def get_yearly_agreement(agreement_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    return _agreement_view(await _agreement(request, caller, agreement_id))


@router.get("/contracts/{contract_id}/yearly-agreements", tags=["yearly agreements"], summary="A contract's yearly agreements, year by year")
async def list_contract_agreements(contract_id: str, caller: Caller, request: Request) -> list[dict[str, Any]]:
    contract = await _reader(t.contracts, "contract")(contract_id, caller, request)  # 404 or 403 as for the contract itself
    rows = await query(request.app.state.runtime, lambda uow: repo.agreements(uow, contract_id=contract["contract_id"]))
    return [_agreement_view(r) for r in rows]


@router.get("/yearly-agreements", tags=["yearly agreements"], summary="Yearly agreements, optionally of one institution; a party sees its own")
async def list_yearly_agreements(caller: Caller, request: Request, institution_id: str | None = None) -> list[dict[str, Any]]:
    filters = _own(caller, {"institution_id": institution_id} if institution_id else {})
    if filters is None:
        return []
    rows = await query(request.app.state.runtime, lambda uow: repo.agreements(uow, **filters))
    return [_agreement_view(r) for r in rows]


@router.post("/yearly-agreements/{agreement_id}/amendments", tags=["yearly agreements"], status_code=201, response_model=Recorded)
async def amend_yearly_agreement(agreement_id: str, body: s.AmendmentIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Change an agreement's agreed volume (调整约定采购量), never below what is already accepted; repeating it is harmless."""
    caller.require(Role.OPERATOR)
    row = await _agreement(request, caller, agreement_id)
    await _decidable(request, {"amended_on": body.amended_on}, region=row["pooling_region_code"])
    created = await execute(request.app.state.runtime,
                            lambda uow: agreements.amend(uow, agreement_id, body.agreed_quantity, body.amended_on, body.reason))
    _created(response, created)
    return Recorded(id=agreement_id, created=created)


@router.post("/reallocations", tags=["yearly agreements"], status_code=201, response_model=Recorded)
async def reallocate_volume(body: s.ReallocationIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Move agreed volume between institutions' agreements of one product and year, all at once; the total stays the same."""
    caller.require(Role.OPERATOR)
    await _decidable(request, {"amended_on": body.amended_on}, of=(t.yearly_agreements, body.lines[0].agreement_id))
    cmd = ag.Reallocate(body.reallocation_id, body.amended_on, body.reason,
                        tuple(e.ReallocatedVolume(**line.model_dump()) for line in body.lines))
    return await record(request.app.state.runtime, response, body.reallocation_id, lambda uow: agreements.reallocate(uow, cmd))


@router.post("/yearly-agreements/{agreement_id}/rollover", tags=["yearly agreements"], status_code=201, response_model=Recorded)
async def roll_over_yearly_agreement(
    agreement_id: str, body: s.RollOverIn, caller: Caller, request: Request, response: Response
) -> Recorded:
    """Sign the next year's agreement (续签) within the contract's cycle; records what was still owed. Returns the new agreement's id."""
    caller.require(Role.OPERATOR)
    row = await _agreement(request, caller, agreement_id)
    await _decidable(request, {"rolled_over_on": body.rolled_over_on}, region=row["pooling_region_code"])
    cmd = ag.RollOver(agreement_id, body.rolled_over_on, body.agreed_quantity)
    next_id, created = await execute(request.app.state.runtime, lambda uow: agreements.roll_over(uow, cmd))
    _created(response, created)
    return Recorded(id=next_id, created=created)


@router.post("/manufacturer-reports", tags=["manufacturer reports"], status_code=201, response_model=Recorded)
async def submit_manufacturer_report(body: s.ManufacturerReportIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """A manufacturer reports last month's production, supply, stock and payments received (Hubei 003 §五(二)); once per month."""
    caller.require(Role.MANUFACTURER)
    event = e.ManufacturerReportSubmitted(report_id=report_id(caller.party_id, body.month), manufacturer_id=caller.party_id,
                                          **body.model_dump())
    await _decidable(request, {"submitted_on": body.submitted_on, "month": first_of(body.month)})
    now = today(request.app.state.settings)
    return await record(request.app.state.runtime, response, event.report_id, lambda uow: reports.submit(uow, event, now))


@router.get("/manufacturer-reports", tags=["manufacturer reports"], summary="Monthly reports, optionally of one manufacturer; a manufacturer sees its own")
async def list_manufacturer_reports(caller: Caller, request: Request, manufacturer_id: str | None = None) -> list[dict[str, Any]]:
    caller.require(*SEES_ALL, Role.MANUFACTURER)
    filters = _own(caller, {"manufacturer_id": manufacturer_id} if manufacturer_id else {})
    if filters is None:
        return []
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.manufacturer_reports, **filters))
    return [_jsonable(r) for r in rows]
