"""Map database constraint violations to the errors a user can act on."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.exc import IntegrityError

from app.errors import AppError


def constraint_name(error: IntegrityError) -> str | None:
    cause = getattr(error.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)


def translate(
    error: IntegrityError, known: Mapping[str, Callable[[], AppError]]
) -> AppError | None:
    """The AppError registered for the violated constraint, if the service knows it."""
    name = constraint_name(error)
    factory = known.get(name) if name else None
    return factory() if factory else None
