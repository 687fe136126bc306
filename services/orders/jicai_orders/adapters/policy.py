"""The policy book: packaged profiles (``JICAI_POLICY_DIR`` and ``JICAI_CALENDAR_DIR`` honoured; an invalid file stops
the service at start with the file, field and reason) with the policy topic's changes folded over them
(``jicai_kit.policy``: region assignments, rule go-lives, calendar years made on the running system)."""
from __future__ import annotations

from jicai_kit.policy import FoldedPolicy
from jicai_policy import PolicyBook, load_policy_book

FOLDED = FoldedPolicy(load_policy_book)


def policy_book() -> PolicyBook:
    """The book as last refreshed (every request and every handled event refreshes it first)."""
    return FOLDED.book()
