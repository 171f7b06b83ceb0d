"""Lookup inputs: create requires a name; update changes only what is sent."""

from __future__ import annotations

import strawberry

_NAME = "1-100 characters (trimmed), unique in the tenant ignoring case (else CONFLICT)."
_COLOR = "Display colour as #RRGGBB, e.g. #2F6FDE (else BAD_USER_INPUT)."
_DESCRIPTION = "What the type means for the team, at most 500 characters."
_INVERSE = "How it reads from the target company, e.g. buys from; at most 100 characters."
_UPDATE = "Only the fields sent change; null clears a field that may be empty (not `name`)."


@strawberry.input(description="A new industry (admin).")
class IndustryInput:
    name: str = strawberry.field(description=_NAME)
    color: str | None = strawberry.field(default=None, description=_COLOR)


@strawberry.input(description=f"Changes to an industry. {_UPDATE}")
class UpdateIndustryInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description=_NAME)
    color: str | None = strawberry.field(default=strawberry.UNSET, description=_COLOR)


@strawberry.input(description="A new account type (admin).")
class AccountTypeInput:
    name: str = strawberry.field(description=_NAME)
    description: str | None = strawberry.field(default=None, description=_DESCRIPTION)


@strawberry.input(description=f"Changes to an account type. {_UPDATE}")
class UpdateAccountTypeInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description=_NAME)
    description: str | None = strawberry.field(default=strawberry.UNSET, description=_DESCRIPTION)


@strawberry.input(description="A new relationship type (admin).")
class RelationshipTypeInput:
    name: str = strawberry.field(
        description="How it reads from the source company, e.g. is supplier of. " + _NAME
    )
    inverse_name: str | None = strawberry.field(default=None, description=_INVERSE)


@strawberry.input(description=f"Changes to a relationship type. {_UPDATE}")
class UpdateRelationshipTypeInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="How it reads from the source company. " + _NAME,
    )
    inverse_name: str | None = strawberry.field(default=strawberry.UNSET, description=_INVERSE)
