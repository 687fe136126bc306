"""Domain refusals: the shared pair, so every service reports them alike."""
from jicai_events.rules import Conflict as AlreadyExists
from jicai_events.rules import RuleViolated as DomainRuleViolated

__all__ = ["AlreadyExists", "DomainRuleViolated"]
