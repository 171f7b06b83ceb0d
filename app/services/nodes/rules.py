"""What a global id can be (Relay's `node(id)`): the records that have a row and a uuid of
their own, each by its table's name.

An id stays the record's uuid (events, logs and Lexware links carry it), so the kind of a
record is found by looking for the id in every kind's table (queries.py). A kind lists its
entity (how its rows are read) and, for the values that are parts of a record (e-mail
addresses and phone numbers), the records that must be live for it to be found: an e-mail
of a company in the trash is in the trash with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.data.records import Entity
from app.services.activities.rules import ACTIVITY
from app.services.companies.rules import COMPANY
from app.services.contact_info.rules import EMAILS, PHONES
from app.services.contacts.rules import CONTACT
from app.services.contracts.rules import CONTRACT
from app.services.deals.rules import DEAL
from app.services.lexware.vouchers import VOUCHER
from app.services.lookups.rules import ACCOUNT_TYPE, INDUSTRY, RELATIONSHIP_TYPE
from app.services.owners.rules import USER
from app.services.pipelines.rules import PIPELINE, STAGE
from app.services.relationships.rules import RELATIONSHIP
from models import Company, Contact

# At most this many ids in one `nodes(ids:)`: the ids are one array parameter of one
# statement, and the answer's size (the query cost counts it) grows with them.
MAX_IDS = 100


@dataclass(frozen=True)
class NodeKind:
    """One kind of record a global id may name: `name` is its table's (also the `entity` of
    its tombstones in `merged_record`, for the kinds that merge)."""

    entity: Entity[Any]
    owners: tuple[tuple[str, Any], ...] = ()  # (column, model): records it is part of

    @property
    def name(self) -> str:
        name: str = self.entity.model.__tablename__
        return name


_PART_OF_RECORD = (("company_id", Company), ("contact_id", Contact))

KINDS: dict[str, NodeKind] = {
    kind.name: kind
    for kind in (
        NodeKind(COMPANY),
        NodeKind(CONTACT),
        NodeKind(DEAL),
        NodeKind(ACTIVITY),
        NodeKind(CONTRACT),
        NodeKind(PIPELINE),
        NodeKind(STAGE),
        NodeKind(RELATIONSHIP),
        NodeKind(EMAILS.entity, _PART_OF_RECORD),
        NodeKind(PHONES.entity, _PART_OF_RECORD),
        NodeKind(USER),
        NodeKind(INDUSTRY),
        NodeKind(ACCOUNT_TYPE),
        NodeKind(RELATIONSHIP_TYPE),
        NodeKind(VOUCHER),
    )
}
