"""Procurement batches (采购批次) and their cycles (采购周期), under the profile's cycle rules.

- Hubei 003 §二(三): at most 2 winning companies → 1 year, 3 → 2 years; the
  cycle may be extended by one year (``by_winner_count``, ``extendable_years``).
- Guizhou 000 §四(三): 1–3 years (``min_years``..``max_years``), the batch says how long.
- A profile without a ``cycle`` section (the notice is silent): the batch states
  the years and the platform takes them as given.

A cycle of N years from ``cycle_start`` ends the day before the N-th
anniversary (2026-01-01 + 1 year → 2026-12-31). A line names a generic
group or a product; a product's own line wins over its group's line.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import BatchCycleExtended, BatchLine, BatchPublished, ContractsEvent
from jicai_policy.profiles import PolicyProfile
from jicai_policy.sections.procurement import CycleRules


def anniversary(day: date, years: int) -> date:
    """``day`` moved ``years`` years on; 29 February becomes 1 March in a common year, so a year from it ends on 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def years_end(start: date, years: int) -> date:
    """The last day of ``years`` years from ``start``."""
    return anniversary(start, years) - timedelta(days=1)


def cycle_years(rules: CycleRules | None, winner_count: int, stated: int | None, field: str) -> int:
    """The cycle length of a line with ``winner_count`` winning companies; ``stated`` is what the batch says, if anything."""
    if rules is None:
        if stated is None:
            raise DomainRuleViolated(field, "the region's notice sets no cycle rule: the batch must state cycle_years")
        return stated
    if rules.by_winner_count:
        matching = [rule.years for rule in rules.by_winner_count if winner_count <= rule.max_winners]
        if not matching:
            most = rules.by_winner_count[-1].max_winners
            raise DomainRuleViolated(field, f"{winner_count} winning companies: the cycle rules ({rules.source}) go up to {most}")
        if stated is not None and stated != matching[0]:
            raise DomainRuleViolated(field, f"{winner_count} winning companies give a {matching[0]}-year cycle ({rules.source})")
        return matching[0]
    if stated is None:
        raise DomainRuleViolated(field, f"state cycle_years: {rules.min_years} to {rules.max_years} years ({rules.source})")
    if not rules.min_years <= stated <= rules.max_years:
        raise DomainRuleViolated(field, f"must be {rules.min_years} to {rules.max_years} years ({rules.source})")
    return stated


@dataclass(frozen=True)
class LineIn:
    generic_group_id: str | None
    product_id: str | None
    winner_count: int
    cycle_years: int | None = None


@dataclass(frozen=True)
class PublishBatch:
    batch_id: str
    title: str
    pooling_region_code: str
    cycle_start: date
    lines: tuple[LineIn, ...]


def publish(history: Sequence[ContractsEvent], cmd: PublishBatch, profile: PolicyProfile) -> list[ContractsEvent]:
    """Decide: publish a batch, each line's cycle from the profile's cycle rules; the same batch again records nothing."""
    keys = [(line.generic_group_id, line.product_id) for line in cmd.lines]
    if len(set(keys)) != len(keys):
        raise DomainRuleViolated("lines", "a generic group or product appears more than once")
    lines = []
    for i, line in enumerate(cmd.lines):
        if (line.generic_group_id is None) == (line.product_id is None):
            raise DomainRuleViolated(f"lines[{i}]", "name either a generic_group_id or a product_id")
        years = cycle_years(profile.cycle, line.winner_count, line.cycle_years, f"lines[{i}].cycle_years")
        lines.append(BatchLine(generic_group_id=line.generic_group_id, product_id=line.product_id, winner_count=line.winner_count,
                               cycle_years=years, cycle_end=years_end(cmd.cycle_start, years)))
    event = BatchPublished(batch_id=cmd.batch_id, title=cmd.title, pooling_region_code=cmd.pooling_region_code, profile_id=profile.profile_id,
                           profile_version=profile.version, cycle_start=cmd.cycle_start, lines=tuple(lines))
    if history:
        if history[0] == event:
            return []
        raise AlreadyExists(f"batch {cmd.batch_id} is published already with different terms")
    return [event]


def current_lines(history: Sequence[ContractsEvent]) -> tuple[BatchLine, ...]:
    """The batch's lines with their cycle ends as extended so far."""
    lines = {(line.generic_group_id, line.product_id): line for e in history if isinstance(e, BatchPublished) for line in e.lines}
    for e in history:
        if isinstance(e, BatchCycleExtended):
            lines.update({(line.generic_group_id, line.product_id): line for line in e.lines})
    return tuple(lines.values())


def line_for(lines: Sequence[BatchLine], product_id: str, generic_group_id: str | None) -> BatchLine | None:
    """The line a product follows: its own, else its generic group's."""
    own = [line for line in lines if line.product_id == product_id]
    group = [line for line in lines if generic_group_id is not None and line.generic_group_id == generic_group_id]
    return next(iter(own or group), None)


def check_contract_cycle(batch_id: str, cycle_start: date, line: BatchLine | None, start: date, end: date) -> None:
    """A contract's cycle must be its batch line's cycle: the batch's start, the line's (possibly extended) end."""
    if line is None:
        raise DomainRuleViolated("product_id", f"batch {batch_id} states no cycle for this product or its generic group")
    if start != cycle_start:
        raise DomainRuleViolated("cycle_start", f"must be {cycle_start}, the start of batch {batch_id}'s cycle")
    if end != line.cycle_end:
        raise DomainRuleViolated("cycle_end", f"must be {line.cycle_end}: a {line.cycle_years}-year cycle of batch {batch_id} "
                                              f"({line.winner_count} winning companies)")


@dataclass(frozen=True)
class ExtendCycle:
    batch_id: str
    extension_id: str
    years: int
    extended_on: date
    reason: str
    generic_group_id: str | None = None
    product_id: str | None = None
    """Extend one line (a generic group or a product); neither: every line of the batch."""


def extend(history: Sequence[ContractsEvent], cmd: ExtendCycle, rules: CycleRules | None) -> list[ContractsEvent]:
    """Decide: extend lines of a batch by ``years``, their extensions together within the profile's ``extendable_years``."""
    published = [e for e in history if isinstance(e, BatchPublished)]
    if not published:
        raise DomainRuleViolated("batch_id", f"batch {cmd.batch_id} is not published")
    done = [e for e in history if isinstance(e, BatchCycleExtended) and e.extension_id == cmd.extension_id]
    if done:
        return _retry(done[0], cmd)
    original = {(line.generic_group_id, line.product_id): line for line in published[0].lines}
    whole_batch = cmd.generic_group_id is None and cmd.product_id is None
    chosen = [line for line in current_lines(history)
              if whole_batch or (line.generic_group_id, line.product_id) == (cmd.generic_group_id, cmd.product_id)]
    if not chosen:
        raise DomainRuleViolated("product_id" if cmd.product_id else "generic_group_id", f"batch {cmd.batch_id} has no such line")
    allowed = rules.extendable_years if rules else 0
    lines = []
    for line in chosen:
        first = original[(line.generic_group_id, line.product_id)]
        extended_by = line.cycle_years - first.cycle_years
        if extended_by + cmd.years > allowed:
            source = f" ({rules.source})" if rules else ""
            raise DomainRuleViolated("years", f"the cycle may be extended by {allowed} year(s) in all{source}; "
                                              f"already extended by {extended_by}")
        years = line.cycle_years + cmd.years
        lines.append(line.model_copy(update={"cycle_years": years, "cycle_end": years_end(published[0].cycle_start, years)}))
    return [BatchCycleExtended(batch_id=cmd.batch_id, extension_id=cmd.extension_id, generic_group_id=cmd.generic_group_id,
                               product_id=cmd.product_id, years=cmd.years, extended_on=cmd.extended_on, reason=cmd.reason,
                               lines=tuple(lines))]


def _retry(done: BatchCycleExtended, cmd: ExtendCycle) -> list[ContractsEvent]:
    asked = (cmd.generic_group_id, cmd.product_id, cmd.years, cmd.extended_on, cmd.reason)
    if (done.generic_group_id, done.product_id, done.years, done.extended_on, done.reason) == asked:
        return []
    raise AlreadyExists(f"extension {cmd.extension_id} was recorded with different terms")
