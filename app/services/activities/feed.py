"""A company's activity feed: the activities linked to the company, with `includeContacts`
also those linked to one of its contacts (each once).

Written as `company_id = X OR contact_id IN (the company's contacts)`, the condition is no
index condition under row-level security: a subquery is never leakproof, so PostgreSQL may
not evaluate the OR before the policy and cannot turn it into a BitmapOr of the two indexes;
it walked the tenant's activities in the list's order and discarded all but the feed's
(issue 25: 250,432 rows read for 2 at 100,000 companies). The condition here names the ids
instead:

    activity.id = ANY(ARRAY(SELECT id FROM activity WHERE company_id = X
                            UNION ALL
                            SELECT id FROM activity WHERE contact_id IN
                                (SELECT id FROM contact WHERE company_id = X)))

The ARRAY is an InitPlan, computed once before the page is read: each branch an index scan
(`ix_activity_tenant_id_company_id`; `ix_contact_tenant_id_company_id`, then
`ix_activity_tenant_id_contact_id` per contact). `id = ANY($array)` compares uuids only,
which is leakproof, so the page reads the feed's rows by primary key, whatever the list's
order or cursor (the order and keyset apply to those rows, a top-N sort of the feed only).
The planner sizes an array parameter at a handful of elements and keeps this plan for a
company of any size: its cost is the company's feed, never the tenant's activities.

Same rows as the OR: an activity on the company and on one of its contacts is one row of
the page (a UNION ALL's duplicate id only repeats an array element); the tenant filter and
the trash reach the subqueries as any (a trashed activity, or one of a trashed contact, is
not in the feed, as before); and the condition is never NULL where the OR was NULL
(`company_id` NULL, the contact not the company's), which no filter tells apart: a NOT
reads NULL as false (`relation_filters._fails`), an AND or OR drops the row either way.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlmodel import col

from models import Activity, Contact


def company_feed(company_id: uuid.UUID, include_contacts: bool) -> Any:
    """The condition on `Activity` of the company's feed (with its contacts' activities when
    `include_contacts`)."""
    if not include_contacts:
        return col(Activity.company_id) == company_id
    # An alias: the subqueries must not correlate with the page's own `activity` (the
    # tenant filter and the trash reach aliases as they reach the model).
    linked = aliased(Activity, name="feed_activity")
    on_company = sa.select(col(linked.id)).where(col(linked.company_id) == company_id)
    contacts = sa.select(col(Contact.id)).where(col(Contact.company_id) == company_id)
    on_contacts = sa.select(col(linked.id)).where(col(linked.contact_id).in_(contacts))
    ids = sa.union_all(on_company, on_contacts).scalar_subquery()
    feed = sa.func.array(ids, type_=ARRAY(sa.Uuid()))
    return col(Activity.id) == sa.any_(feed)
