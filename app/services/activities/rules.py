"""The rules of an activity (pure, no I/O): what a valid one is, and its events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.data.changes import Tracked


def _activity_verbs(diff: Mapping[str, Any]) -> list[str]:
    old, new = diff.get("completedAt", [None, None])
    return ["completed"] if old is None and new is not None else []


# An activity's events: completing it also says so (`completed`, next to the `updated`).
ACTIVITY_EVENTS = Tracked("activity", derived=_activity_verbs)
