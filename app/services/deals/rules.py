"""What a deal is (declarations and pure rules, no I/O): the table as the services treat it
(DEAL, and DEAL_ROWS as pipeline operations touch it), its events, a valid input, and the
rules that tie its stage, status and lost reason together:

- A deal's stage belongs to its pipeline.
- Moving to a WON/LOST stage sets the status; setting the status moves the deal to the
  pipeline's first stage of that kind (when the pipeline has one).
- LOST needs a lost reason, OTHER also a text; both are cleared when the deal is won or
  reopened. `closed_at` is set when a deal is won or lost and cleared when reopened.
- A deal that closes (WON/LOST) remembers the open stage it was in (`last_open_stage_id`);
  reopening it without a stage returns it there if that is still an open stage of its
  pipeline, else to the first open stage.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from app.data.changes import Tracked
from app.data.dependents import Dependent
from app.data.records import Entity
from app.errors import BadUserInput, FieldProblem, NotFound
from app.services.common.validation import Input, Name200, Text500, patch_model
from app.services.deals.currencies import CURRENCIES
from app.services.deals.rows import DealRow
from app.services.owners.rules import DEAL_OWNERS, NamedOwners
from models import Activity, Deal, DealStatus, LostReason, StageKind

_STATUS_OF_KIND = {
    StageKind.OPEN: DealStatus.OPEN,
    StageKind.WON: DealStatus.WON,
    StageKind.LOST: DealStatus.LOST,
}
_KIND_OF_STATUS = {status: kind for kind, status in _STATUS_OF_KIND.items()}


@dataclass(frozen=True)
class DealState:
    stage_id: uuid.UUID | None
    status: DealStatus
    lost_reason: LostReason | None = None
    lost_reason_text: str | None = None
    closed_at: datetime | None = None
    last_open_stage_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Requested:
    """What the client asked for; `...` means "not sent"."""

    stage_id: Any = ...
    status: Any = ...
    lost_reason: Any = ...
    lost_reason_text: Any = ...


def _stage(stages: Sequence[Any], stage_id: uuid.UUID) -> Any:
    stage = next((s for s in stages if s.id == stage_id), None)
    if stage is None:
        raise BadUserInput.single("stageId", "is not a stage of the deal's pipeline")
    return stage


def _first_of_kind(stages: Sequence[Any], kind: StageKind) -> Any | None:
    return next((s for s in stages if s.kind is kind), None)


def _place(
    stages: Sequence[Any], current: DealState | None, requested: Requested
) -> tuple[Any, DealStatus]:
    if requested.stage_id is not ...:
        stage = _stage(stages, requested.stage_id)
        of_stage = _STATUS_OF_KIND[stage.kind]
        if requested.status not in (..., None, of_stage):
            raise BadUserInput.single("status", f"the chosen stage means {of_stage.value}")
        return stage, of_stage
    # None when the deal is new, or moves to another pipeline without a stage.
    current_stage = next((s for s in stages if current and s.id == current.stage_id), None)
    status: DealStatus | None = requested.status if requested.status not in (..., None) else None
    if status is None and current is not None:
        status = current.status  # a deal keeps its status, also across pipelines
    if status is None:
        stage = _first_of_kind(stages, StageKind.OPEN) or stages[0]
        return stage, _STATUS_OF_KIND[stage.kind]
    kind = _KIND_OF_STATUS[status]
    if current_stage is not None and current_stage.kind is kind:
        return current_stage, status
    stage = _remembered_open_stage(stages, current) if kind is StageKind.OPEN else None
    stage = stage or _first_of_kind(stages, kind)
    if stage is None:
        raise BadUserInput.single("status", f"the pipeline has no {kind.value} stage for this deal")
    return stage, status


def _remembered_open_stage(stages: Sequence[Any], current: DealState | None) -> Any | None:
    """The open stage a closed deal left, if its pipeline still has it as an open stage."""
    if current is None or current.last_open_stage_id is None:
        return None
    remembered = next((s for s in stages if s.id == current.last_open_stage_id), None)
    return remembered if remembered is not None and remembered.kind is StageKind.OPEN else None


def _last_open_stage(current: DealState | None, status: DealStatus) -> uuid.UUID | None:
    """What a deal remembers for a reopen: nothing while open; the stage it is leaving when
    it closes; the same as before while it stays closed (WON -> LOST keeps it)."""
    if status is DealStatus.OPEN or current is None:
        return None
    if current.status is DealStatus.OPEN:
        return current.stage_id
    return current.last_open_stage_id


def _lost(current: DealState | None, requested: Requested, was_lost: bool) -> tuple[Any, Any]:
    reason = requested.lost_reason
    text = requested.lost_reason_text
    if reason is ...:
        reason = current.lost_reason if current and was_lost else None
    if text is ...:
        text = current.lost_reason_text if current and was_lost else None
    problems = []
    if reason is None:
        problems.append(FieldProblem("lostReason", "is required when the deal is lost"))
    elif reason is LostReason.OTHER and not text:
        problems.append(FieldProblem("lostReasonText", "is required when the reason is OTHER"))
    if problems:
        raise BadUserInput(problems)
    return reason, text


# What resolve() decides, in its order.
PLACED_FIELDS = (
    "stage_id",
    "status",
    "lost_reason",
    "lost_reason_text",
    "closed_at",
    "last_open_stage_id",
)


def resolve(
    stages: Sequence[Any], current: DealState | None, requested: Requested
) -> dict[str, Any]:
    """The stage, status, lost reason and close time a write must store."""
    if not stages:
        raise BadUserInput.single("pipelineId", "the pipeline has no stages")
    stage, status = _place(stages, current, requested)
    was_lost = current is not None and current.status is DealStatus.LOST
    if status is DealStatus.LOST:
        reason, text = _lost(current, requested, was_lost)
    else:
        sent = [
            f
            for f in ("lost_reason", "lost_reason_text")
            if getattr(requested, f) not in (..., None)
        ]
        if sent:
            raise BadUserInput.single("lostReason", "only a lost deal has a lost reason")
        reason, text = None, None
    closed_at = None
    if status is not DealStatus.OPEN:
        stays_closed = current is not None and current.status is status and current.closed_at
        closed_at = current.closed_at if current is not None and stays_closed else datetime.now(UTC)
    placed = (stage.id, status, reason, text, closed_at, _last_open_stage(current, status))
    return dict(zip(PLACED_FIELDS, placed, strict=True))


def _deal_verbs(diff: Mapping[str, Any]) -> list[str]:
    verbs = []
    if "stageId" in diff:
        verbs.append("stage_changed")
    if "status" in diff:
        old, new = diff["status"]
        if new in ("WON", "LOST"):
            verbs.append(new.lower())
        elif old in ("WON", "LOST"):
            verbs.append("reopened")
    return verbs


# A deal's events: an update that moves it or changes its status also says so, in an event of
# its own next to the `updated` (`stage_changed`, `won`, `lost`, `reopened`).
# `last_open_stage_id` is the bookkeeping of reopen, in no event.
DEAL_EVENTS = Tracked("deal", hidden=frozenset({"last_open_stage_id"}), derived=_deal_verbs)

# Deals as pipeline operations touch them: moved with their stage, deleted with their pipeline.
# A deleted deal's activities that nothing else links go with it (dependents.Dependent), whether
# the deal is deleted alone (deals.DEAL) or with its pipeline.
DEAL_ACTIVITIES = Dependent(
    Activity, "deal_id", Tracked("activity"), kept_by=("company_id", "contact_id")
)
DEAL_ROWS = Entity(Deal, "Deal", tracked=DEAL_EVENTS, dependents=(DEAL_ACTIVITIES,), row=DealRow)


DEAL = Entity(
    Deal,
    "Deal",
    {
        "fk_deal_contact_id_contact": lambda: NotFound("Contact"),
        "fk_deal_company_id_company": lambda: NotFound("Company"),
        "fk_deal_pipeline_id_pipeline": lambda: NotFound("Pipeline"),
        **DEAL_OWNERS.entity.constraint_errors,
    },
    DEAL_EVENTS,
    DEAL_ROWS.dependents,
    row=DealRow,
)


def _check_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise ValueError("must be an ISO 4217 currency code such as EUR")
    return code


Currency = Annotated[str, AfterValidator(_check_currency)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class DealFields(Input):
    title: Name200
    value: Money = Decimal(0)
    currency: Currency = "EUR"
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    expected_close_date: date | None = None


class DealInput(DealFields):
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    status: DealStatus | None = None
    lost_reason: LostReason | None = None
    lost_reason_text: Text500 = None
    owners: NamedOwners = None


class DealChanges(DealFields):
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    status: DealStatus
    lost_reason: LostReason | None = None
    lost_reason_text: Text500 = None


DealPatch, NOT_NULLABLE = patch_model(DealChanges)
