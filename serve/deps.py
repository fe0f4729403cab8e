"""FastAPI dependencies: the loaded resources, a database session per request, and role checks on API keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from serve.auth import Caller, Role, authenticate
from serve.resources import Resources

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer trk_...`.")


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def get_session(resources: Annotated[Resources, Depends(get_resources)]) -> Iterator[Session]:
    with resources.database.session() as session:
        yield session


def require(roles: frozenset[Role]) -> Callable[..., Caller]:
    """A dependency admitting keys of `roles`: 401 without a valid key, 403 for a key of another role."""
    allowed = ", ".join(sorted(roles))

    def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        session: Annotated[Session, Depends(get_session)],
    ) -> Caller:
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key (Authorization: Bearer)", challenge)
        caller = authenticate(session, credentials.credentials)
        if caller is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", challenge)
        if caller.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"a {caller.role} key may not do this; needs {allowed}")
        return caller

    return check


SessionDep = Annotated[Session, Depends(get_session)]
ResourcesDep = Annotated[Resources, Depends(get_resources)]

MAX_ROW_ID = 2**31 - 1
"""The largest id an INTEGER key column holds on every supported database (PostgreSQL's is 32-bit)."""
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Id of a stored row.")]


class ErrorOut(BaseModel):
    """Every 4xx answer: a message, or for malformed bodies FastAPI's list of field errors."""

    detail: str | list[dict[str, Any]] = Field(examples=["invalid or revoked API key"])


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error answers a route gives."""
    described = {
        400: "A body that cannot be read: not UTF-8, or (webhooks) not JSON.",
        401: "No API key, an unknown or revoked one, or a bad webhook signature.",
        403: "The key's role may not use this route.",
        404: "No such ticket, key, or an unconfigured webhook.",
        413: "Request body over `max_body_bytes`.",
        422: "Invalid body, path or query: blank or too long text, wrong types, missing fields, batch too large, "
        "an id out of range.",
    }
    return {code: {"model": ErrorOut, "description": described[code]} for code in codes}
