"""What an activity is (declarations and pure rules, no I/O): the table as the services treat
it, its events, a valid input, and that it belongs to a contact and/or a company (at least one,
checked on every write: the database cannot, since deleting the contact or company sets the
link to NULL)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.data.changes import Tracked
from app.data.records import Entity
from app.errors import BadUserInput, FieldProblem, NotFound
from app.services.activities.rows import ActivityRow
from app.services.common.validation import Input, LongText, Moment, Name200, patch_model
from models import Activity, ActivityType


def _activity_verbs(diff: Mapping[str, Any]) -> list[str]:
    old, new = diff.get("completedAt", [None, None])
    return ["completed"] if old is None and new is not None else []


# An activity's events: completing it also says so (`completed`, next to the `updated`).
ACTIVITY_EVENTS = Tracked("activity", derived=_activity_verbs)
ACTIVITY = Entity(
    Activity,
    "Activity",
    {
        "fk_activity_contact_id_contact": lambda: NotFound("Contact"),
        "fk_activity_company_id_company": lambda: NotFound("Company"),
        "fk_activity_deal_id_deal": lambda: NotFound("Deal"),
        "fk_activity_assignee_id_user": lambda: NotFound("User"),
    },
    ACTIVITY_EVENTS,
    row=ActivityRow,
)


class ActivityInput(Input):
    type: ActivityType
    subject: Name200
    body: LongText = None
    due_at: Moment | None = None
    assignee_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None


ActivityPatch, NOT_NULLABLE = patch_model(ActivityInput)


def _check_linked(contact_id: Any, company_id: Any) -> None:
    if contact_id is None and company_id is None:
        message = "an activity belongs to a contact or a company (or both)"
        raise BadUserInput([FieldProblem("contactId", message), FieldProblem("companyId", message)])
