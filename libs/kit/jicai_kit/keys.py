"""Token keys: the platform signs with a private Ed25519 key, services verify with public keys.

A signing key is a private JWK (JSON, ``kid`` inside) held only by whatever
mints tokens (``jicai-token``, the console). Services read a *public key set*:
a JWKS file (``{"keys": [...]}``), or a directory of public JWK/JWKS ``*.json``
files and ``*.pem`` public keys (a PEM's key id is its file name without
``.pem``). Several keys are valid at once, which is how keys rotate; a key set
holding a private key is refused, so a service never holds the signing key.

Key sets and the revocation list are re-read when their files change (checked
at most every few seconds), so rotation and revocation need no restart.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

T = TypeVar("T")

ALGORITHM = "EdDSA"
DEVELOPMENT_KID_PREFIX = "dev-"
"""Key ids of keys made by ``development_key_pair`` (``make up``, tests); production refuses them."""


class KeyFileError(ValueError):
    """A key file that cannot be used, with the reason."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        try:
            jwk = json.loads(path.read_text())
            key = jwt.PyJWK(jwk, algorithm=ALGORITHM)
        except (OSError, ValueError, jwt.PyJWKError) as exc:
            raise KeyFileError(f"signing key {path}: {exc}") from exc
        if not isinstance(key.key, Ed25519PrivateKey) or not key.key_id:
            raise KeyFileError(f"signing key {path}: needs a private Ed25519 JWK with a kid")
        return cls(key.key_id, key.key)

    def private_jwk(self) -> dict[str, Any]:
        return {**OKPAlgorithm.to_jwk(self.private_key, as_dict=True), "kid": self.kid, "alg": ALGORITHM}

    def public_jwk(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def save(self, path: Path) -> None:
        """Write the private JWK readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.private_jwk(), out)


def write_public_keys(path: Path, keys: list[SigningKey]) -> None:
    """A JWKS file of the public halves of ``keys``: what services are given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"keys": [k.public_jwk() for k in keys]}, indent=2) + "\n")


def development_key_pair(directory: Path) -> tuple[SigningKey, Path]:
    """The signing key of a development or test installation and its public key set, made once in ``directory``."""
    private, public = directory / "signing-key.json", directory / "public-keys.json"
    if not private.exists():
        key = SigningKey.generate(DEVELOPMENT_KID_PREFIX + secrets.token_hex(4))
        key.save(private)
        write_public_keys(public, [key])
    return SigningKey.load(private), public


def _public_keys_of(jwks: Mapping[str, Any], source: Path) -> dict[str, Ed25519PublicKey]:
    entries = jwks.get("keys", [jwks])
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in entries:
        if "d" in entry:
            raise KeyFileError(f"{source} holds a private key; services verify with public keys only")
        try:
            key = jwt.PyJWK(entry, algorithm=ALGORITHM)
        except jwt.PyJWKError as exc:
            raise KeyFileError(f"{source}: {exc}") from exc
        if not key.key_id or not isinstance(key.key, Ed25519PublicKey):
            raise KeyFileError(f"{source}: every key needs a kid and must be a public Ed25519 key")
        keys[key.key_id] = key.key
    return keys


def _pem_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except ValueError as exc:
        raise KeyFileError(f"{path}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


def _key_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".json", ".pem"))
    return [path]


def load_public_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """The public keys by key id of a JWKS/JWK file or a directory of them; refuses an empty set."""
    keys: dict[str, Ed25519PublicKey] = {}
    try:
        for file in _key_files(path):
            found = {file.stem: _pem_public_key(file)} if file.suffix == ".pem" else _public_keys_of(json.loads(file.read_text()), file)
            if clash := keys.keys() & found.keys():
                raise KeyFileError(f"{file}: key id {sorted(clash)[0]!r} appears twice")
            keys.update(found)
    except (OSError, ValueError) as exc:
        raise exc if isinstance(exc, KeyFileError) else KeyFileError(f"public keys {path}: {exc}") from exc
    if not keys:
        raise KeyFileError(f"public keys {path}: no key found")
    return keys


def load_revoked(path: Path) -> frozenset[str]:
    """Revoked token ids (``jti``), one per line; ``#`` starts a comment."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return frozenset(line for line in lines if line)


class WatchedFile(Generic[T]):
    """The parsed content of a file (or directory), parsed again when it changes.

    Changes are looked for at most every ``check_every`` seconds, so a request
    costs no system call in between. A change that does not parse keeps the
    previous content (a half-written key file must not lock everyone out)."""

    def __init__(self, path: Path, parse: Callable[[Path], T], check_every: float = 5.0) -> None:
        self.path, self._parse, self._check_every = path, parse, check_every
        self._stamp = self._stamp_now()
        self.value: T = parse(path)
        self._checked = time.monotonic()

    def _stamp_now(self) -> tuple[tuple[str, int, int], ...]:
        files = [self.path, *(_key_files(self.path) if self.path.is_dir() else [])]
        return tuple((str(f), (s := f.stat()).st_mtime_ns, s.st_size) for f in files)

    def current(self) -> T:
        now = time.monotonic()
        if now - self._checked >= self._check_every:
            self._checked = now
            try:
                stamp = self._stamp_now()
                if stamp != self._stamp:
                    self.value, self._stamp = self._parse(self.path), stamp
            except (OSError, ValueError):
                pass
        return self.value


def add_key(kid: str, private_dir: Path, public_keys: Path) -> Path:
    """A new signing key ``kid`` (private JWK in ``private_dir``) published beside the keys ``public_keys`` already holds."""
    key = SigningKey.generate(kid)
    private = private_dir / f"{kid}.json"
    if private.exists():
        raise KeyFileError(f"{private} exists: a key id is never reused")
    key.save(private)
    published = json.loads(public_keys.read_text())["keys"] if public_keys.exists() else []
    public_keys.parent.mkdir(parents=True, exist_ok=True)
    public_keys.write_text(json.dumps({"keys": [*published, key.public_jwk()]}, indent=2) + "\n")
    return private


def retire_key(kid: str, public_keys: Path) -> None:
    """Stop trusting ``kid``: tokens it signed are refused once services re-read the file."""
    published = json.loads(public_keys.read_text())["keys"]
    kept = [k for k in published if k.get("kid") != kid]
    if len(kept) == len(published):
        raise KeyFileError(f"{public_keys} has no key {kid!r}")
    if not kept:
        raise KeyFileError(f"{kid!r} is the last key of {public_keys}: add its successor first")
    public_keys.write_text(json.dumps({"keys": kept}, indent=2) + "\n")


def cli() -> None:
    """``jicai-keys new KID PRIVATE_DIR PUBLIC_KEYS`` / ``jicai-keys retire KID PUBLIC_KEYS``: token key rotation."""
    import typer

    app = typer.Typer(help="Token signing keys: add a key beside the published ones, retire an old one.")

    @app.command("new")
    def new(kid: str, private_dir: Path, public_keys: Path) -> None:
        typer.echo(f"signing key {add_key(kid, private_dir, public_keys)}; public key published in {public_keys}")

    @app.command("retire")
    def retire(kid: str, public_keys: Path) -> None:
        retire_key(kid, public_keys)
        typer.echo(f"{kid} removed from {public_keys}")

    app()


if __name__ == "__main__":
    cli()
