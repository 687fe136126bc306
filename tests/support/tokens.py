"""The test run's token keys: a development key pair made once per process, its public half
named by ``JICAI_AUTH_PUBLIC_KEYS`` so every service the tests build or start trusts it."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from jicai_kit.auth import LONGEST_SHORT_LIFETIME, PERSON_LIFETIME, Role, issue_token
from jicai_kit.keys import development_key_pair

SERVICES = ("contracts", "orders", "settlement", "alerts")
"""A test party's token is accepted by every service (each test checks roles and parties, not audiences)."""

KEY_DIR = Path(os.environ.get("JICAI_TEST_KEY_DIR") or tempfile.mkdtemp(prefix="jicai-test-keys-"))
SIGNING_KEY, PUBLIC_KEYS = development_key_pair(KEY_DIR)
SIGNING_KEY_FILE = KEY_DIR / "signing-key.json"
os.environ["JICAI_AUTH_PUBLIC_KEYS"] = str(PUBLIC_KEYS)
os.environ["JICAI_TEST_KEY_DIR"] = str(KEY_DIR)  # the services and tools a test starts sign and verify alike


_minted: dict[tuple[str, Role], tuple[str, float]] = {}
"""Each party's and role's token and when it is handed out no more (epoch seconds)."""


def bearer(party_id: str, role: Role) -> str:
    """A token for the party and role, valid for at least ``PERSON_LIFETIME`` from now (what a newly minted one gives).

    One token a party and role, minted for ``LONGEST_SHORT_LIFETIME`` and handed out until ``PERSON_LIFETIME`` of it
    is left, as a HIS or a console keeps theirs: a new token each request cost a signature, and a service a
    signature check (its verified tokens are kept by the token, jicai_kit.auth.TokenVerifier), per request."""
    now = time.time()
    kept = _minted.get((party_id, role))
    if kept is not None and now < kept[1]:
        return kept[0]
    token = issue_token(SIGNING_KEY, party_id, role, SERVICES, LONGEST_SHORT_LIFETIME)
    _minted[(party_id, role)] = token, now + (LONGEST_SHORT_LIFETIME - PERSON_LIFETIME).total_seconds()
    return token


def auth_header(party_id: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer(party_id, role)}"}
