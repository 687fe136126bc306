"""Every alerts domain event is either published as its integration event or kept inside, never both, never neither."""
from __future__ import annotations

from jicai_alerts.adapters.outgoing import KEPT_INSIDE, PUBLISHED
from jicai_alerts.domain.events import codec


def test_every_recorded_event_kind_is_published_or_kept_inside_exactly_once() -> None:
    recorded = set(codec.models)
    published, kept = set(PUBLISHED), set(KEPT_INSIDE)
    assert published.isdisjoint(kept)
    assert recorded - published - kept == set(), "decide whether these are published or kept inside"
    assert (published | kept) - recorded == set(), "these are not recorded by the codec"


def test_published_decisions_carry_every_field_their_integration_event_requires() -> None:
    for domain, integration in PUBLISHED.items():
        required = {name for name, field in integration.model_fields.items() if field.is_required()}
        assert required <= set(domain.model_fields), f"{domain.__name__} lacks {required - set(domain.model_fields)} of {integration.__name__}"
