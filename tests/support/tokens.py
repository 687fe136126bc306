"""The test run's token keys: a development key pair made once per process, its public half
named by ``JICAI_AUTH_PUBLIC_KEYS`` so every service the tests build or start trusts it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from jicai_kit.auth import Role, issue_token
from jicai_kit.keys import development_key_pair

SERVICES = ("contracts", "orders", "settlement", "alerts")
"""A test party's token is accepted by every service (each test checks roles and parties, not audiences)."""

KEY_DIR = Path(os.environ.get("JICAI_TEST_KEY_DIR") or tempfile.mkdtemp(prefix="jicai-test-keys-"))
SIGNING_KEY, PUBLIC_KEYS = development_key_pair(KEY_DIR)
SIGNING_KEY_FILE = KEY_DIR / "signing-key.json"
os.environ["JICAI_AUTH_PUBLIC_KEYS"] = str(PUBLIC_KEYS)
os.environ["JICAI_TEST_KEY_DIR"] = str(KEY_DIR)  # the services and tools a test starts sign and verify alike


def bearer(party_id: str, role: Role) -> str:
    return issue_token(SIGNING_KEY, party_id, role, SERVICES)


def auth_header(party_id: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer(party_id, role)}"}
