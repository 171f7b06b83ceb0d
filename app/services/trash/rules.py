"""What the trash holds (declarations, no I/O): the five kinds of record a delete moves there,
and the order the retention purges them in."""

from __future__ import annotations

import enum

from app.data.records import Entity
from app.services.activities.rules import ACTIVITY
from app.services.companies.rules import COMPANY
from app.services.contacts.rules import CONTACT
from app.services.contracts.rules import CONTRACT
from app.services.deals.rules import DEAL


class TrashType(enum.Enum):
    COMPANY = "COMPANY"
    CONTACT = "CONTACT"
    DEAL = "DEAL"
    ACTIVITY = "ACTIVITY"
    CONTRACT = "CONTRACT"


TRASHABLE: dict[TrashType, Entity[object]] = {
    TrashType.COMPANY: COMPANY,
    TrashType.CONTACT: CONTACT,
    TrashType.DEAL: DEAL,
    TrashType.ACTIVITY: ACTIVITY,
    TrashType.CONTRACT: CONTRACT,
}

# The retention purges what others point at last: an activity or deal purged first is not
# unlinked (an event each) by its company's purge a moment later.
PURGE_ORDER = (
    TrashType.ACTIVITY,
    TrashType.CONTRACT,
    TrashType.DEAL,
    TrashType.CONTACT,
    TrashType.COMPANY,
)
# Rows one unit of work purges at most: a tenant's trash of years goes in bounded
# transactions (locks held briefly, events written in batches).
PURGE_BATCH = 100
