"""Lookup inputs: create requires a name; update changes only what is sent."""

from __future__ import annotations

import strawberry


@strawberry.input
class IndustryInput:
    name: str
    color: str | None = None


@strawberry.input
class UpdateIndustryInput:
    name: str | None = strawberry.UNSET
    color: str | None = strawberry.UNSET


@strawberry.input
class AccountTypeInput:
    name: str
    description: str | None = None


@strawberry.input
class UpdateAccountTypeInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input
class RelationshipTypeInput:
    name: str
    inverse_name: str | None = None


@strawberry.input
class UpdateRelationshipTypeInput:
    name: str | None = strawberry.UNSET
    inverse_name: str | None = strawberry.UNSET
