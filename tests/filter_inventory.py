"""Every filter field of the lists, for tests/test_filter_plans.py: the SQL condition it makes,
whether that is leakproof (only then can it be an index condition as `crm_tenant`, under
row-level security), and the index that answers it, or why none does (issue 25)."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.activities import queries as activities
from app.services.companies import queries as companies
from app.services.contacts import queries as contacts
from app.services.contracts import queries as contracts
from app.services.deals import queries as deals
from app.services.owners.queries import OwnerFilter
from app.services.relationships import queries as relationships


@dataclass(frozen=True)
class Filter:
    """One filter field: its condition, whether it is leakproof, and the index answering it
    (None: `why` says what answers it instead)."""

    condition: str
    leakproof: bool
    index: str | None
    why: str = ""


SEARCH = "search's own matcher: `id IN (matching ids)` from search_entry (the search issue)"
RELATION = "EXISTS on uuid columns: tests/test_relation_filter_plans.py"
ME = "the caller's owner rows: EXISTS on uuid columns (tests/test_relation_filter_plans.py)"
BOOLEAN = "a yes/no over a large share of the rows: the page's order index, with a filter"

INVENTORY: dict[str, dict[str, Filter]] = {
    "companies": {
        "statuses": Filter("status_rank IN (ranks)", True, "ix_company_tenant_id_status_rank"),
        "search": Filter("id IN (search)", True, None, SEARCH),
        "industry_id": Filter("industry_id = $1", True, "ix_company_tenant_id_industry_id"),
        "account_type_id": Filter(
            "account_type_id = $1", True, "ix_company_tenant_id_account_type_id"
        ),
        "owner_id": Filter(
            "EXISTS (company_owner: user_id = $1)", True, "ix_company_owner_tenant_id_user_id"
        ),
        "tag": Filter(
            "id IN (company_tag: tag_key = $1)", True, "ix_company_tag_tenant_id_tag_key"
        ),
        "sizes": Filter(
            "company_size_rank IN (ranks)", True, "ix_company_tenant_id_company_size_rank"
        ),
        "created_from": Filter("created_at >= $1", True, "ix_company_tenant_id_created_at"),
        "created_to": Filter("created_at <= $1", True, "ix_company_tenant_id_created_at"),
        "updated_from": Filter("updated_at >= $1", True, "ix_company_tenant_id_updated_at"),
        "updated_to": Filter("updated_at <= $1", True, "ix_company_tenant_id_updated_at"),
        "owned_by_me": Filter("EXISTS (company_owner: user_id = me)", True, None, ME),
        "owners": Filter("EXISTS (company_owner ...)", True, None, RELATION),
        "contacts": Filter("EXISTS (contact ...)", True, None, RELATION),
        "deals": Filter("EXISTS (deal ...)", True, None, RELATION),
        "activities": Filter("EXISTS (activity ...)", True, None, RELATION),
        "contracts": Filter("EXISTS (contract ...)", True, None, RELATION),
    },
    "contacts": {
        "search": Filter("id IN (search)", True, None, SEARCH),
        "company_id": Filter("company_id = $1", True, "ix_contact_tenant_id_company_id"),
        "statuses": Filter("status_rank IN (ranks)", True, "ix_contact_tenant_id_status_rank"),
        "sources": Filter("source_rank IN (ranks)", True, "ix_contact_tenant_id_source_rank"),
        "tag": Filter(
            "id IN (contact_tag: tag_key = $1)", True, "ix_contact_tag_tenant_id_tag_key"
        ),
        "department": Filter(
            "department_key = lower($1)", True, "ix_contact_tenant_id_department_key"
        ),
        "owner_id": Filter(
            "EXISTS (contact_owner: user_id = $1)", True, "ix_contact_owner_tenant_id_user_id"
        ),
        "owned_by_me": Filter("EXISTS (contact_owner: user_id = me)", True, None, ME),
        "owners": Filter("EXISTS (contact_owner ...)", True, None, RELATION),
        "company": Filter("EXISTS (company ...)", True, None, RELATION),
        "deals": Filter("EXISTS (deal ...)", True, None, RELATION),
        "activities": Filter("EXISTS (activity ...)", True, None, RELATION),
    },
    "deals": {
        "search": Filter("id IN (search)", True, None, SEARCH),
        "pipeline_id": Filter("pipeline_id = $1", True, "ix_deal_tenant_id_pipeline_id"),
        "stage_id": Filter("stage_id = $1", True, "ix_deal_tenant_id_stage_id"),
        "statuses": Filter("status_rank IN (ranks)", True, "ix_deal_tenant_id_status_rank"),
        "company_id": Filter("company_id = $1", True, "ix_deal_tenant_id_company_id"),
        "contact_id": Filter("contact_id = $1", True, "ix_deal_tenant_id_contact_id"),
        "owner_id": Filter(
            "EXISTS (deal_owner: user_id = $1)", True, "ix_deal_owner_tenant_id_user_id"
        ),
        "value_min": Filter("value_cents >= ceil($1 * 100)", True, "ix_deal_tenant_id_value_cents"),
        "value_max": Filter(
            "value_cents <= floor($1 * 100)", True, "ix_deal_tenant_id_value_cents"
        ),
        "close_from": Filter("expected_close_date >= $1", True, "ix_deal_tenant_id_expected_close"),
        "close_to": Filter("expected_close_date <= $1", True, "ix_deal_tenant_id_expected_close"),
        "closed_after": Filter("closed_at >= $1", True, "ix_deal_tenant_id_closed_at"),
        "closed_before": Filter("closed_at <= $1", True, "ix_deal_tenant_id_closed_at"),
        "owned_by_me": Filter("EXISTS (deal_owner: user_id = me)", True, None, ME),
        "owners": Filter("EXISTS (deal_owner ...)", True, None, RELATION),
        "company": Filter("EXISTS (company ...)", True, None, RELATION),
        "contact": Filter("EXISTS (contact ...)", True, None, RELATION),
        "activities": Filter("EXISTS (activity ...)", True, None, RELATION),
    },
    "activities": {
        "types": Filter("type_rank IN (ranks)", True, "ix_activity_tenant_id_type_rank"),
        "contact_id": Filter("contact_id = $1", True, "ix_activity_tenant_id_contact_id"),
        "company_id": Filter("company_id = $1", True, "ix_activity_tenant_id_company_id"),
        "include_contacts": Filter(
            "company_id = $1 OR contact_id IN (the company's contacts)",
            True,
            None,
            "the activity feed (issue 25, item 3: `_company_condition`, owned by the feed)",
        ),
        "deal_id": Filter("deal_id = $1", True, "ix_activity_tenant_id_deal_id"),
        "assignee_id": Filter("assignee_id = $1", True, "ix_activity_tenant_id_assignee_id"),
        "due_from": Filter("due_at >= $1", True, "ix_activity_tenant_id_due_at"),
        "due_to": Filter("due_at <= $1", True, "ix_activity_tenant_id_due_at"),
        "overdue": Filter(
            "completed_at IS NULL AND due_at IS NOT NULL AND due_at < now() (false: NOT that)",
            True,
            "ix_activity_tenant_id_due_at",
        ),
        "completed": Filter("completed_at IS [NOT] NULL", True, None, BOOLEAN),
        "assigned_to_me": Filter(
            "assignee_id = me (false: assignee_id IS NULL OR assignee_id <> me)",
            True,
            "ix_activity_tenant_id_assignee_id",
            "false: everything but one user's, the page's order index with a filter",
        ),
        "deal": Filter("EXISTS (deal ...)", True, None, RELATION),
        "company": Filter("EXISTS (company ...)", True, None, RELATION),
        "contact": Filter("EXISTS (contact ...)", True, None, RELATION),
        "search": Filter("id IN (search)", True, None, SEARCH),
    },
    "contracts": {
        "company_id": Filter("company_id = $1", True, "ix_contract_tenant_id_company_id"),
        "statuses": Filter("status_rank IN (ranks)", True, "ix_contract_tenant_id_status_rank"),
        "search": Filter("id IN (search)", True, None, SEARCH),
        "ends_from": Filter("end_date >= $1", True, "ix_contract_tenant_id_end_date"),
        "ends_to": Filter("end_date <= $1", True, "ix_contract_tenant_id_end_date"),
        "company": Filter("EXISTS (company ...)", True, None, RELATION),
    },
    "relationships": {
        "company_id": Filter(
            "from_company_id = $1 OR to_company_id = $1",
            True,
            "ix_company_relationship_tenant_id_from",
            "(and ix_company_relationship_tenant_id_to: a BitmapOr of both)",
        ),
        "type_id": Filter(
            "relationship_type_id = $1", True, "ix_company_relationship_tenant_id_type"
        ),
        "from_company": Filter("EXISTS (company ...)", True, None, RELATION),
        "to_company": Filter("EXISTS (company ...)", True, None, RELATION),
    },
    "owners": {  # `owners: {some/none/every: ...}` of a company, contact or deal
        "user_id": Filter("<table>_owner.user_id = $1", True, None, RELATION),
        "roles": Filter(
            "role IN (roles): an enum, not leakproof",
            False,
            None,
            "inside the relation's EXISTS, on the few owner rows of one record (reached by "
            "the record's id): a filter on a handful of rows, no index would narrow it",
        ),
    },
    "pipelines": {
        "search": Filter(
            "crm_fold(name) <% / LIKE (search.direct_condition)",
            False,
            None,
            "a tenant's handful of pipelines, read whole (search's direct matcher)",
        ),
    },
}

FILTERS: dict[str, type] = {
    "companies": companies.CompanyFilter,
    "contacts": contacts.ContactFilter,
    "deals": deals.DealFilter,
    "activities": activities.ActivityFilter,
    "contracts": contracts.ContractFilter,
    "relationships": relationships.RelationshipFilter,
    "owners": OwnerFilter,
}
COMBINATORS = {"and_", "or_", "not_"}  # AND/OR/NOT of the filters above, each its own plan
