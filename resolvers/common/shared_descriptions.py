"""Descriptions several types share (the shared arguments and `described_enum`: described.py).

Every type, field, argument, input field and enum value carries a description
(tests/test_schema_descriptions.py checks `schema.graphql`); they say what a value means to a
sales team and to the frontend built for it: units, formats, limits, defaults, roles, what
null means and which errors can come back.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

# ---- fields most records have ------------------------------------------------------------

ID = "The record's id (a UUID); it never changes and stays the same in events and Lexware links."
VERSION = "Increases with every change; send it as `expectedVersion` to avoid lost updates."
CREATED_AT = "When the record was created (ISO 8601 with offset); set by the server."
UPDATED_AT = "When the record last changed (ISO 8601 with offset); set by the server."
NOTES = "Free-text notes, up to 20,000 characters; null: none."
TAGS = (
    "Tags as spelled when first added (e.g. ERP); compared ignoring case, so `ERP` and `erp` "
    "are one tag. At most 50 tags of 1-50 characters. A record tagged ERP (any case) is "
    "pushed to Lexware Office every 30 minutes after it changes."
)
STATUS = (
    "Lifecycle state, ACTIVE when created without one; a label for lists, filters and sorting "
    "(no state blocks reading or writing the record)."
)
LEXWARE_CONTACT_ID = (
    "The id of the linked Lexware Office contact (a UUID); null: not linked. Set by the "
    "Lexware link, import and push mutations, never by create/update."
)
LEXWARE_SYNCED_AT = "When the record was last synced with its Lexware contact; null: never."
CREATED_FROM = "Created at or after this instant (inclusive)."
CREATED_TO = "Created at or before this instant (inclusive)."
UPDATED_FROM = "Last changed at or after this instant (inclusive)."
UPDATED_TO = "Last changed at or before this instant (inclusive)."
MOMENT = "With a time-zone offset, e.g. 2027-01-15T09:00:00+01:00 (without: BAD_USER_INPUT)."

# ---- inputs --------------------------------------------------------------------------------

UPDATE_FIELD = "Not sent: unchanged."
EMAILS_INPUT = (
    "The e-mail addresses, at most 20, none twice, at most one primary (the first becomes "
    "primary if none is). In an update, the whole list is replaced."
)
PHONES_INPUT = (
    "The phone numbers, at most 20, none twice, at most one primary (the first becomes "
    "primary if none is). In an update, the whole list is replaced."
)
ORDER_DIRECTION = "ASC (A-Z, oldest, smallest first) or DESC."

# ---- shared arguments ----------------------------------------------------------------------

ReadId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The record's id (a UUID). Unknown, trashed or another tenant's: "
        "NOT_FOUND; not a UUID: BAD_USER_INPUT."
    ),
]
WriteId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The id of the record to change (a UUID). Unknown, trashed or another "
        "tenant's: NOT_FOUND; not a UUID: BAD_USER_INPUT."
    ),
]


def describe_root(root: type, description: str) -> None:
    """Give a root type made by strawberry's `merge_types` (which takes no description) the
    description GraphiQL shows for it."""
    root.__strawberry_definition__.description = description  # type: ignore[attr-defined]
