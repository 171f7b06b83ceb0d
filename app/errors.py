"""Domain errors: each carries a code from one small vocabulary (README lists the codes;
docs/ARCHITECTURE.md, "Errors and HTTP status", says when each is raised and which HTTP status
it gets).

Anything that is not an AppError reaching the client is masked as "Unexpected error.".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class AppError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    http_status: ClassVar[int] = 200

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.details}


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(AppError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(AppError):
    code = "NOT_FOUND"

    def __init__(self, entity: str) -> None:
        # Same message for a missing id and another tenant's id: nothing leaks.
        super().__init__(f"{entity} not found.")


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"
    http_status = 400

    def __init__(self, problems: Iterable[FieldProblem], message: str | None = None) -> None:
        self.problems = list(problems)
        if message is None:
            fields = ", ".join(dict.fromkeys(p.field for p in self.problems))
            message = f"Invalid input: {fields}."
        super().__init__(
            message, fields=[{"field": p.field, "message": p.message} for p in self.problems]
        )

    @classmethod
    def single(cls, field: str, message: str) -> BadUserInput:
        return cls([FieldProblem(field, message)], message=f"{field}: {message}")


class Conflict(AppError):
    code = "CONFLICT"
    http_status = 409


class RateLimited(AppError):
    code = "RATE_LIMITED"
    http_status = 429


class LexwareNotConfigured(AppError):
    code = "LEXWARE_NOT_CONFIGURED"


class LexwareUnavailable(AppError):
    code = "LEXWARE_UNAVAILABLE"


class ServiceUnavailable(AppError):
    """A backing service (database, Redis) cannot be reached: try again later. Over HTTP a 503
    with `Retry-After` when nothing of the operation could be answered."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503
    retry_after_seconds: ClassVar[int] = 5


class Timeout(ServiceUnavailable):
    """The database cancelled a statement that ran (or waited for a lock) longer than its
    limit; its transaction rolled back."""

    code = "TIMEOUT"
    retry_after_seconds = 2
