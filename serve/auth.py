"""API keys with roles: created once and shown once, stored as SHA-256, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from serve.db import ApiKey, utcnow

KEY_PREFIX = "trk_"


class Role(StrEnum):
    """What a key may do: ingest classifies and feeds webhooks, reviewer and manager review, admin manages keys."""

    ingest = "ingest"
    reviewer = "reviewer"
    manager = "manager"
    admin = "admin"


INGEST_ROLES = frozenset({Role.ingest, Role.admin})
REVIEW_ROLES = frozenset({Role.reviewer, Role.manager, Role.admin})
ADMIN_ROLES = frozenset({Role.admin})


@dataclass(frozen=True)
class Caller:
    """The holder of a valid key."""

    key_id: int
    name: str
    role: Role


class UnknownKeyError(LookupError):
    """No such key."""


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key; keys carry 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, role: Role) -> tuple[ApiKey, str]:
    """Store a new key and return its row and the key itself (the only time it is known)."""
    if not name.strip():
        raise ValueError("a key needs a name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name.strip(), role=role.value, key_hash=hash_key(key))
    session.add(row)
    session.commit()
    return row, key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Mark a key revoked (idempotent); raise `UnknownKeyError` if there is no such key."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise UnknownKeyError(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def authenticate(session: Session, key: str) -> Caller | None:
    """The caller a presented key belongs to, or None for an unknown or revoked key."""
    digest = hash_key(key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return Caller(row.id, row.name, Role(row.role))


def add_keys_from_file(session: Session, path: Path) -> int:
    """Add the `role:key` lines of a bootstrap file whose keys are not stored yet; return how many were added."""
    added = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        role, sep, key = line.partition(":")
        if not sep or role not in Role.__members__ or len(key) < 16:
            raise ValueError(f"{path}:{number}: expected `role:key` with a role of {list(Role)} and a 16+ char key")
        if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key))) is None:
            session.add(ApiKey(name=f"{path.name}:{number}", role=role, key_hash=hash_key(key)))
            added += 1
    session.commit()
    return added
