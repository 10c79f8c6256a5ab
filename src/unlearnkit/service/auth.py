"""Bearer-token authentication and role checks for the REST API.

Tokens are created with ``unlearnkit tokens create --role ROLE`` (or ``POST /v1/tokens`` by an
admin) and only their SHA-256 is stored. Roles:

=========  ====================================================================
requester  submits requests and reads its own requests and their certificates
operator   registers datasets and models, submits and reads every request
auditor    read-only: requests, model versions, audit log and certificates
admin      everything, including tokens
=========  ====================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from unlearnkit.ledger import AuthError, Ledger

__all__ = ["Principal", "require"]

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer ukt_...`")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id (the owner of the requests it submits) and role."""

    token_id: str
    name: str
    role: str

    @property
    def sees_all_requests(self) -> bool:
        return self.role != "requester"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's :class:`Principal`; 401 when the token is missing, unknown or expired."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Send an API token as `Authorization: Bearer <token>`.")
    ledger: Ledger = request.app.state.ledger
    try:
        record: dict[str, Any] = ledger.authenticate(credentials.credentials)
    except AuthError as exc:
        raise _unauthorized(str(exc)) from None
    return Principal(token_id=record["id"], name=record["name"], role=record["role"])


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only tokens of ``roles`` (403 for the others)."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                status_code=403,
                detail=f"A {principal.role} token cannot do this; it needs one of the roles "
                f"{', '.join(roles)}.",
            )
        return principal

    return check
