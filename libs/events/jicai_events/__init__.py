"""Jicai integration events: the contract between the four services.

Only integration events live here; each service keeps its internal domain
events to itself and translates at its edge (``adapters/outgoing.py``).
"""
from jicai_events.base import IntegrationEvent, event_registry, integration_event
from jicai_events.envelope import Envelope

__all__ = ["Envelope", "IntegrationEvent", "event_registry", "integration_event"]
