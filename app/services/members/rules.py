"""What a member is (declarations and pure rules, no I/O): the identity a verified token gives,
the ids it resolves to, which sign-in may take over a user an admin added, and a valid user
to add (the table as the services treat it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.data.changes import Tracked
from app.data.records import Entity
from app.errors import Conflict
from app.services.common.validation import Input, Name200
from app.services.contact_info.rules import Email
from app.services.members.rows import UserRow
from models import User


@dataclass(frozen=True)
class MemberIdentity:
    tenant_slug: str
    subject: str
    email: str | None
    name: str | None
    # Only a verified e-mail takes over a user an admin added for it; an unverified one signs
    # in as a user of its own.
    email_verified: bool = False


@dataclass(frozen=True)
class MemberIds:
    tenant_id: uuid.UUID
    user_id: uuid.UUID


def _may_bind(identity: MemberIdentity) -> bool:
    """Whether this sign-in may become a user an admin added for its e-mail: only a verified
    address, and only an ASCII one. The rows compare addresses with PostgreSQL's lower(),
    which folds look-alikes such as the Kelvin sign (U+212A) to an ASCII letter: a token
    for `\u212aarl@...` would otherwise take over the user added as `karl@...`. An address
    with other characters signs in as a user of its own."""
    email = identity.email
    return email is not None and identity.email_verified and email.isascii()


NEW_USER = Entity(
    User,
    "User",
    {
        "uq_user_tenant_id_waiting_email": lambda: Conflict(
            "A user with this e-mail address is already waiting for their first sign-in."
        ),
    },
    Tracked("user", hidden=frozenset({"subject", "signed_in_at"})),
    row=UserRow,
)


class NewUserInput(Input):
    email: Email
    name: Name200
