"""Typed errors of mnemo, raised alike by the embedded Memory and the HTTP clients.

Every error carries the stable ``code`` of the API (docs/api.md), the HTTP ``status`` that
goes with it, a ``message`` for the person fixing the call and, when the error is about
one argument, the ``field`` it names (``"k"``, ``"memories[2].text"``).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional


class MnemoError(Exception):
    """Base class of every error mnemo raises."""

    default_code, default_status = "internal", 500

    def __init__(self, message: str, *, code: Optional[str] = None, status: Optional[int] = None,
                 field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.status = status or self.default_status
        self.field = field or None

    def __str__(self) -> str:
        where = f" (field {self.field!r})" if self.field else ""
        return f"{self.code}: {self.message}{where}"


class InvalidArgument(MnemoError):
    """An argument is missing, of the wrong type, out of range or unknown (400, 413, 422)."""

    default_code, default_status = "invalid_argument", 422


class NotFound(MnemoError):
    """The space, memory or job does not exist (404)."""

    default_code, default_status = "not_found", 404


class Conflict(MnemoError):
    """The call conflicts with the current state: already exists, closed, ... (409)."""

    default_code, default_status = "conflict", 409


class PermissionDenied(MnemoError):
    """The API key is missing or invalid (401) or lacks the role the call needs (403)."""

    default_code, default_status = "forbidden", 403


class Unavailable(MnemoError):
    """The server is unreachable, overloaded or rate-limiting (429, 503); retry later."""

    default_code, default_status = "unavailable", 503


_BY_STATUS = {400: InvalidArgument, 401: PermissionDenied, 403: PermissionDenied,
              404: NotFound, 405: InvalidArgument, 409: Conflict, 413: InvalidArgument,
              415: InvalidArgument, 422: InvalidArgument, 429: Unavailable, 431: InvalidArgument,
              503: Unavailable}


def from_answer(status: int, body: Any) -> MnemoError:
    """The exception for an error answer ``{"error": {"code", "message", "field"}}``."""
    err: Mapping[str, Any] = {}
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        err = body["error"]
    message = str(err.get("message") or f"HTTP status {status}")
    cls = _BY_STATUS.get(status, MnemoError)
    return cls(message, code=str(err.get("code") or "internal"), status=status,
               field=err.get("field"))
