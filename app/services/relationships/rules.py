"""The rules of a company relationship (pure, no I/O): what a valid one is, and its events."""

from __future__ import annotations

from app.data.changes import Tracked

# Events of a company relationship are about the company it starts from.
RELATIONSHIP_EVENTS = Tracked(
    "company",
    subject="from_company_id",
    created="relationship_added",
    updated="relationship_updated",
    deleted="relationship_removed",
)
