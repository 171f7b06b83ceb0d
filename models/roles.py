"""The database roles the server switches to, by name (alembic 0005 and 0008 create them).

The server logs in as a role that owns nothing and may read no table (the serving role,
DATABASE_URL); each transaction switches to one of these two for its work, with `SET LOCAL
ROLE` (as `set_config('role', …, true)`), which ends with the transaction:

- `crm_tenant`: one tenant's requests and jobs; row-level security lets it see that tenant's
  rows only (`app.tenant_id`).
- `crm_system`: the server's work across tenants (the event relay, provisioning tenants and
  members on their first token, the crons' lists of tenants), with the grants that work needs
  and no more (app.data.rights lists them).

A path that forgets to switch stays the serving role and reads nothing.
"""

from __future__ import annotations

TENANT_ROLE = "crm_tenant"
SYSTEM_ROLE = "crm_system"
# The switch of a cross-tenant transaction, its first statement (or sent with its BEGIN).
SYSTEM_SETTING = f"SELECT set_config('role', '{SYSTEM_ROLE}', true)"
