"""The two ways any service's domain refuses a command (pure; no I/O).

Entrypoints map them to RFC 9457 problems: ``RuleViolated`` → 422 naming the
field, ``Conflict`` → 409.
"""
from __future__ import annotations


class RuleViolated(Exception):
    """A command breaks a business rule; ``field`` names the input at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Conflict(Exception):
    """The command contradicts what is recorded (same content would be a harmless retry)."""
