"""What `node(id:)` hands out: a row of any kind of record (rules.KINDS), typed by what every
kind has, its id; the GraphQL type it is travels with it (resolvers/nodes/queries.py)."""

from __future__ import annotations

import uuid
from typing import Protocol


class NodeRow(Protocol):
    id: uuid.UUID
