"""Bearer tokens: signed with a private Ed25519 key, verified with public keys per audience; rotation and revocation."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from jicai_kit.auth import ISSUER, Principal, Role, TokenVerifier, issue_token, parse_lifetime
from jicai_kit.keys import KeyFileError, SigningKey, add_key, load_public_keys, retire_key, write_public_keys
from jicai_kit.problems import Problem


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate("platform-2026-11")


@pytest.fixture
def public_keys(tmp_path: Path, key: SigningKey) -> Path:
    path = tmp_path / "public-keys.json"
    write_public_keys(path, [key])
    return path


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Problem) as refused:
        verifier.verify(token)
    assert refused.value.status == 401
    assert refused.value.detail is not None
    return refused.value.detail


def signed(key: SigningKey, **claims: object) -> str:
    """A token as some other minter (a skewed clock, a forger with our kid) would make it."""
    now = datetime.now(UTC)
    defaults: dict[str, object] = {"iss": ISSUER, "sub": "H001", "role": "institution", "aud": ["orders"],
                                   "iat": now, "nbf": now, "exp": now + timedelta(minutes=15)}
    return jwt.encode({**defaults, **claims}, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def test_a_token_names_its_audiences_and_every_other_service_refuses_it(key: SigningKey, public_keys: Path) -> None:
    token = issue_token(key, "H001", Role.INSTITUTION, ["orders", "settlement"])
    assert TokenVerifier("orders", public_keys).verify(token) == Principal("H001", Role.INSTITUTION)
    assert TokenVerifier("settlement", public_keys).verify(token) == Principal("H001", Role.INSTITUTION)
    assert refusal(TokenVerifier("alerts", public_keys), token) == "token is not for alerts"

    header, claims = jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "EdDSA", "kid": "platform-2026-11", "typ": "JWT"}
    assert claims["exp"] - claims["iat"] == 15 * 60, "people's tokens last 15 minutes unless asked otherwise"
    assert claims["nbf"] == claims["iat"] and len(claims["jti"]) == 32


def test_expired_and_not_yet_valid_tokens_are_refused_beyond_a_small_leeway(key: SigningKey, public_keys: Path) -> None:
    verifier = TokenVerifier("orders", public_keys, leeway=timedelta(seconds=30))
    now = datetime.now(UTC)
    assert verifier.verify(signed(key, exp=now - timedelta(seconds=10))).party_id == "H001", "within the leeway"
    assert refusal(verifier, signed(key, exp=now - timedelta(seconds=60))) == "token expired"
    assert verifier.verify(signed(key, nbf=now + timedelta(seconds=10), iat=now + timedelta(seconds=10))).party_id == "H001"
    assert refusal(verifier, signed(key, nbf=now + timedelta(minutes=5))) == "token not yet valid"
    assert refusal(verifier, signed(key, iss="someone-else")) == "token not issued by jicai"
    no_expiry = jwt.encode({"iss": ISSUER, "sub": "H001", "role": "institution", "aud": "orders", "iat": now, "nbf": now},
                           key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    assert refusal(verifier, no_expiry) == "token lacks the exp claim"


def test_a_token_verified_before_is_still_refused_once_it_expires(key: SigningKey, public_keys: Path) -> None:
    """A verified token is kept so its signature is checked once; its expiry still counts at every request."""
    verifier = TokenVerifier("orders", public_keys, leeway=timedelta(0))
    expires = datetime.now(UTC) + timedelta(seconds=3)  # ``exp`` is whole seconds: good for 2 s at least
    token = signed(key, exp=expires)
    assert verifier.verify(token).party_id == verifier.verify(token).party_id == "H001"
    time.sleep(max(0.0, int(expires.timestamp()) - time.time()) + 0.1)
    assert refusal(verifier, token) == "token expired"


def test_a_forged_signature_reads_as_any_invalid_token_and_unknown_key_ids_are_named(key: SigningKey, public_keys: Path) -> None:
    verifier = TokenVerifier("orders", public_keys)
    forger = SigningKey(key.kid, SigningKey.generate("x").private_key)  # our key id, another private key
    assert refusal(verifier, signed(forger)) == "invalid bearer token"
    genuine = signed(key)
    tampered = genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")
    assert refusal(verifier, tampered) == "invalid bearer token"
    assert refusal(verifier, "not-a-jwt") == "invalid bearer token"
    assert refusal(verifier, signed(SigningKey.generate("retired-2025"))) == "token signed with an unknown key id 'retired-2025'"
    hs256 = jwt.encode({"sub": "H001", "role": "operator"}, "x" * 32, algorithm="HS256", headers={"kid": key.kid})
    assert refusal(verifier, hs256) == "invalid bearer token", "only EdDSA: a public key is never an HMAC secret"


def test_rotation_two_keys_valid_then_the_retired_key_is_refused(tmp_path: Path) -> None:
    """The documented rotation (jicai-keys): publish the new key beside the old, sign with the new, retire the old."""
    keys, private = tmp_path / "public-keys.json", tmp_path / "signing"
    old = SigningKey.load(add_key("platform-2026-11", private, keys))
    verifier = TokenVerifier("orders", keys, reread_after=0)
    old_token = issue_token(old, "OPS", Role.OPERATOR, ["orders"])

    new = SigningKey.load(add_key("platform-2027-01", private, keys))
    new_token = issue_token(new, "OPS", Role.OPERATOR, ["orders"])
    assert verifier.verify(old_token).party_id == verifier.verify(new_token).party_id == "OPS", "both keys valid meanwhile"

    retire_key("platform-2026-11", keys)
    assert refusal(verifier, old_token) == "token signed with an unknown key id 'platform-2026-11'"
    assert verifier.verify(new_token).party_id == "OPS"
    with pytest.raises(KeyFileError, match="the last key"):
        retire_key("platform-2027-01", keys)
    with pytest.raises(KeyFileError, match="a key id is never reused"):
        add_key("platform-2026-11", private, keys)


def test_a_directory_of_public_keys_jwk_and_pem_serves_as_the_key_set(tmp_path: Path, key: SigningKey) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "a.json").write_text(json.dumps(key.public_jwk()))
    pem = SigningKey.generate("unused").private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "keys" / "platform-2027-01.pem").write_bytes(pem)
    assert sorted(load_public_keys(tmp_path / "keys")) == ["platform-2026-11", "platform-2027-01"]
    token = issue_token(key, "D001", Role.DISTRIBUTOR, ["settlement"])
    assert TokenVerifier("settlement", tmp_path / "keys").verify(token) == Principal("D001", Role.DISTRIBUTOR)


def test_a_key_set_holding_a_private_key_is_refused(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [key.private_jwk()]}))
    with pytest.raises(KeyFileError, match="holds a private key; services verify with public keys only"):
        load_public_keys(path)
    path.write_text(json.dumps({"keys": []}))
    with pytest.raises(KeyFileError, match="no key found"):
        load_public_keys(path)


def test_a_revoked_token_id_is_refused_as_soon_as_the_list_names_it(tmp_path: Path, key: SigningKey, public_keys: Path) -> None:
    revoked = tmp_path / "revoked"
    revoked.write_text("# leaked HIS tokens\n")
    verifier = TokenVerifier("orders", public_keys, revoked, reread_after=0)
    leaked, other = (issue_token(key, "H001", Role.INSTITUTION, ["orders"]) for _ in range(2))
    assert verifier.verify(leaked).party_id == "H001"
    jti = jwt.decode(leaked, options={"verify_signature": False})["jti"]
    revoked.write_text(f"# leaked HIS tokens\n{jti}  # H001, 2026-11-29\n")
    assert refusal(verifier, leaked) == "token revoked"
    assert verifier.verify(other).party_id == "H001"


def test_lifetimes_beyond_a_working_day_are_for_a_his_asked_for_explicitly(key: SigningKey, public_keys: Path) -> None:
    with pytest.raises(ValueError, match="for a hospital's HIS"):
        issue_token(key, "OPS", Role.OPERATOR, ["orders"], timedelta(days=30))
    with pytest.raises(ValueError, match="for a hospital's HIS"):
        issue_token(key, "OPS", Role.OPERATOR, ["orders"], timedelta(days=30), long_lived=True)
    with pytest.raises(ValueError, match="for a hospital's HIS"):
        issue_token(key, "H001", Role.INSTITUTION, ["orders"], timedelta(days=30))
    his = issue_token(key, "H001", Role.INSTITUTION, ["orders"], timedelta(days=365), long_lived=True)
    assert TokenVerifier("orders", public_keys).verify(his).party_id == "H001"
    with pytest.raises(ValueError, match="at least one audience"):
        issue_token(key, "OPS", Role.OPERATOR, [])
    assert parse_lifetime("15m") == timedelta(minutes=15) and parse_lifetime("365d") == timedelta(days=365)
    with pytest.raises(ValueError, match="followed by s, m, h or d"):
        parse_lifetime("15 minutes")


def test_jicai_token_mints_with_the_private_key_for_the_audiences_asked(tmp_path: Path, key: SigningKey, public_keys: Path) -> None:
    key.save(tmp_path / "signing-key.json")
    assert (tmp_path / "signing-key.json").stat().st_mode & 0o777 == 0o600
    cli = str(Path(sys.executable).with_name("jicai-token"))
    done = subprocess.run([cli, "OPS", "operator", "--audience", "orders,settlement", "--ttl", "10m",
                           "--key", str(tmp_path / "signing-key.json")], capture_output=True, text=True, check=True)
    token = done.stdout.strip()
    assert TokenVerifier("settlement", public_keys).verify(token) == Principal("OPS", Role.OPERATOR)
    assert refusal(TokenVerifier("alerts", public_keys), token) == "token is not for alerts"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 600
    refused = subprocess.run([cli, "OPS", "operator", "--audience", "orders", "--ttl", "30d",
                              "--key", str(tmp_path / "signing-key.json")], capture_output=True, text=True)
    assert refused.returncode != 0 and "HIS" in refused.stderr


def test_a_service_without_public_keys_refuses_every_token_saying_so(key: SigningKey) -> None:
    token = issue_token(key, "OPS", Role.OPERATOR, ["orders"])
    assert refusal(TokenVerifier("orders", None), token) == "this service has no public keys to verify tokens with (JICAI_AUTH_PUBLIC_KEYS)"
