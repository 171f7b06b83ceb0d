"""Activities (notes, calls, e-mails, meetings, tasks and follow-ups): create, update,
complete and delete (reads: queries.py; what a valid activity is: rules.py).

An activity belongs to a contact and/or a company (at least one, checked on every write: the
database cannot, since deleting the contact or company sets the link to NULL). Deleting a
company, contact or deal deletes its activities that nothing else links (records.Dependent's
`kept_by`): no feed would show them. The company feed can include the activities of the
company's contacts, in one ordered, paged list.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records, trash
from app.data.tenancy import TenantScope
from app.data.unit_of_work import Reading
from app.services.activities.rows import ActivityRow
from app.services.activities.rules import (
    ACTIVITY,
    NOT_NULLABLE,
    ActivityInput,
    ActivityPatch,
    _check_linked,
)
from app.services.common.validation import validate, validate_patch
from models import Activity


async def create_activity(scope: TenantScope, data: Mapping[str, Any]) -> ActivityRow:
    values = validate(ActivityInput, data).model_dump()
    _check_linked(values["contact_id"], values["company_id"])
    return await records.insert_row(scope, ACTIVITY, values)


async def update_activity(
    scope: TenantScope,
    activity_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> ActivityRow:
    values = validate_patch(ActivityPatch, NOT_NULLABLE, data)
    if not {"contact_id", "company_id"} & set(values):
        return await records.update_row(scope, ACTIVITY, activity_id, values, expected_version)

    async def check_links(_session: Reading, current: ActivityRow) -> dict[str, Any]:
        # Checked against the row as it will be, inside the same unit of work.
        _check_linked(
            values.get("contact_id", current.contact_id),
            values.get("company_id", current.company_id),
        )
        return {}

    return await records.update_row(
        scope,
        ACTIVITY,
        activity_id,
        values,
        expected_version,
        steps=records.UpdateSteps(place=check_links),
    )


async def set_completed(scope: TenantScope, activity_id: uuid.UUID, completed: bool) -> ActivityRow:
    """Complete (keeping the first completion time) or reopen an activity."""
    completed_at: Any = (
        sa.func.coalesce(col(Activity.completed_at), sa.func.now()) if completed else None
    )
    return await records.update_row(scope, ACTIVITY, activity_id, {"completed_at": completed_at})


async def delete_activity(scope: TenantScope, activity_id: uuid.UUID) -> uuid.UUID:
    """Moves it to the trash (app.services.trash: restore, purge); links stay as they are."""
    return await trash.trash_row(scope, ACTIVITY, activity_id)
