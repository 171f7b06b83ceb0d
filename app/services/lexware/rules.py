"""The Lexware link's rules for the records it links (pure, no I/O)."""

from __future__ import annotations

# Bookkeeping of the Lexware link: its own events (lexware_pushed, _synced) say when it moves.
LEXWARE_BOOKKEEPING = frozenset(
    {"lexware_contact_version", "lexware_synced_at", "lexware_synced_values"}
)
