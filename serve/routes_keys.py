"""`/v1/keys`: admins create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from serve.auth import ADMIN_ROLES, Caller, UnknownKeyError, create_key, list_keys, revoke_key
from serve.deps import RowId, SessionDep, errors, require
from serve.schemas import KeyCreate, KeyCreated, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])

Admin = Annotated[Caller, Depends(require(ADMIN_ROLES))]


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 403, 413, 422))
def create(body: KeyCreate, session: SessionDep, _caller: Admin) -> KeyCreated:
    """Create a key; the answer is the only place the key itself ever appears (role: admin)."""
    row, key = create_key(session, body.name, body.role)
    return KeyCreated(**KeyOut.model_validate(row).model_dump(), key=key)


@router.get("", responses=errors(401, 403))
def keys(session: SessionDep, _caller: Admin) -> list[KeyOut]:
    """Every key, revoked ones included, without the keys themselves (role: admin)."""
    return [KeyOut.model_validate(row) for row in list_keys(session)]


@router.delete("/{key_id}", responses=errors(401, 403, 404, 422))
def revoke(key_id: RowId, session: SessionDep, _caller: Admin) -> KeyOut:
    """Revoke a key: it stops working at once (role: admin)."""
    try:
        return KeyOut.model_validate(revoke_key(session, key_id))
    except UnknownKeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
