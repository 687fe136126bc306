"""Parties: institutions (医疗机构), manufacturers (中选生产企业), distributors (配送企业).

Registering the same party twice with the same content is a harmless retry
and records nothing; with different content it is refused.
"""
from __future__ import annotations

from collections.abc import Sequence

from jicai_contracts.domain.errors import AlreadyExists
from jicai_contracts.domain.events import ContractsEvent


def register(history: Sequence[ContractsEvent], registration: ContractsEvent) -> list[ContractsEvent]:
    """Decide: the events recording ``registration`` given the party's stream so far."""
    if not history:
        return [registration]
    if history[0] == registration:
        return []
    raise AlreadyExists("registered already with different details")
