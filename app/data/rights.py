"""Who may do what on which table: the SQL a migration runs for the server's roles.

Three kinds of role meet in the database (README, "Database roles"):

- the **owner** (MIGRATION_DATABASE_URL) runs the migrations and owns every table; the server
  never serves as it (unless a deployment gives both URLs the same user, and is warned);
- the **serving role** (DATABASE_URL) logs in, owns nothing and has no right on any table: it
  is a member of the two roles below (without inheriting their rights) and switches to one of
  them in each transaction (`SET LOCAL ROLE`, models.roles), so a path that forgets reads
  nothing;
- `crm_tenant` and `crm_system` (models.roles) hold the rights on the tables.

**A new table** gets its rights in the migration that creates it, with one call:

- a table with a `tenant_id` (every tenant's rows in it)::

      from app.data.rights import secure_tenant_table
      secure_tenant_table(op.execute, "idempotency_key", system="DELETE")

  turns row-level security on, gives `crm_tenant` its policy (the tenant's rows only) and
  SELECT, INSERT, UPDATE, DELETE, and `crm_system` a policy that sees every tenant with only
  the privileges named in `system` (what the server's cross-tenant work does there: an expiry
  cron deleting old rows across tenants; none by default);
- a view tenant transactions read (search's `search_entry`), whose branches carry the
  tenant condition themselves, and the functions its queries call::

      from app.data.rights import grant_tenant_view
      grant_tenant_view(op.execute, "search_entry", functions=("crm_fold(text)",))

- a table no tenant transaction touches, only cross-tenant work (a table of revoked
  tokens)::

      from app.data.rights import grant_system_table
      grant_system_table(op.execute, "revoked_token", "SELECT, INSERT, DELETE")

Nothing needs a superuser: the owner grants on its own tables and creates policies on them.
What these functions emit must never change for a migration that already calls them (that
migration has run): add a parameter for something new.
"""

from __future__ import annotations

from collections.abc import Callable

from models.roles import SYSTEM_ROLE, TENANT_ROLE

Execute = Callable[[str], object]

TENANT_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
# A scalar subquery: evaluated once per statement, not once per row. Unset, it fails the
# statement (current_setting without missing_ok), so the tenant role never reads unscoped.
CURRENT_TENANT = "(SELECT current_setting('app.tenant_id')::uuid)"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_role_sql(role: str) -> str:
    """The role, unless it exists (a DBA may create it for an owner without CREATEROLE); another
    database of this cluster may be creating it at the same moment. NOINHERIT: a member of
    it (the serving role) must switch to it to use its rights."""
    return f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {role} NOLOGIN NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$"""


def join_role_sql(role: str, member: str | None = None) -> str:
    """`member` (the migrating user when None) may switch to `role` (SET) without inheriting
    its rights (INHERIT FALSE). A membership of the serving role that inherits is granted again
    without (PostgreSQL changes the grantor's grant); that, and any grant, needs ADMIN on the
    role, which its creator has (PostgreSQL 16); else a DBA grants it."""
    if member is None:
        wanted = f"pg_has_role(current_user, '{role}', 'SET')"
        target = "CURRENT_USER"
        grantee = "current_user"
    else:
        memberships = (
            f"FROM pg_auth_members m WHERE m.roleid = '{role}'::regrole "
            f"AND m.member = {literal(quoted(member))}::regrole"
        )
        wanted = (
            f"EXISTS (SELECT {memberships} AND m.set_option AND NOT m.inherit_option) "
            f"AND NOT EXISTS (SELECT {memberships} AND m.inherit_option)"
        )
        target = quoted(member)
        grantee = literal(member)
    grant = f"GRANT {role} TO {target} WITH INHERIT FALSE, SET TRUE"
    hint = f"format('a DBA runs: GRANT {role} TO %I WITH INHERIT FALSE, SET TRUE', {grantee})"
    return f"""
DO $$ BEGIN
  IF NOT ({wanted}) THEN
    {grant};
  END IF;
EXCEPTION WHEN unique_violation THEN
  NULL;
WHEN insufficient_privilege THEN
  RAISE EXCEPTION 'the migrating user % may not grant the role {role}', current_user
    USING HINT = {hint};
END $$"""


def secure_tenant_table(
    execute: Execute,
    table: str,
    *,
    system: str = "",
    tenant: str = TENANT_PRIVILEGES,
    column: str = "tenant_id",
    schema: str = "",
) -> None:
    """Row-level security and both roles' rights on a table of tenants' rows (`column` holds
    the tenant's id). `tenant` / `system`: the privileges of `crm_tenant` / `crm_system`
    ("" grants none; the policies are created all the same, so a later grant finds them)."""
    name = f"{schema}.{quoted(table)}" if schema else quoted(table)
    if tenant:
        execute(f"GRANT {tenant} ON {name} TO {TENANT_ROLE}")
    execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
    execute(
        f"CREATE POLICY tenant_rows ON {name} TO {TENANT_ROLE} "
        f"USING ({column} = {CURRENT_TENANT}) WITH CHECK ({column} = {CURRENT_TENANT})"
    )
    secure_for_system(execute, name, system)


def secure_for_system(execute: Execute, name: str, privileges: str) -> None:
    """`crm_system`'s policy on a table with row-level security (every tenant's rows) and its
    privileges there. `name` is quoted already."""
    execute(f"CREATE POLICY system_rows ON {name} TO {SYSTEM_ROLE} USING (true) WITH CHECK (true)")
    if privileges:
        execute(f"GRANT {privileges} ON {name} TO {SYSTEM_ROLE}")


def grant_tenant_view(execute: Execute, view: str, *, functions: tuple[str, ...] = ()) -> None:
    """SELECT on a view for `crm_tenant` (nothing for `crm_system`: its work needs none), and
    EXECUTE on the functions its queries call (a database may revoke them from PUBLIC). A view
    reads its tables with its owner's rights, past their policies: each of its branches must
    carry the tenant condition itself (`current_setting('app.tenant_id', true)`, nothing
    without one)."""
    for signature in functions:
        execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {TENANT_ROLE}")
    execute(f"GRANT SELECT ON {quoted(view)} TO {TENANT_ROLE}")


def grant_system_table(execute: Execute, table: str, privileges: str, *, schema: str = "") -> None:
    """A table of the server's own bookkeeping, outside any tenant: `crm_system` alone may use
    it (no row-level security: no tenant's rows are in it)."""
    name = f"{schema}.{quoted(table)}" if schema else quoted(table)
    execute(f"GRANT {privileges} ON {name} TO {SYSTEM_ROLE}")


# What the serving role may do without a switch, checked after each upgrade: nothing. A
# superuser, a role that bypasses row-level security, an owner, a member that inherits
# crm_tenant's or crm_system's rights, or a grantee (PUBLIC too) may; the start-up says so.
SERVING_ROLE_CHECK = """
SELECT r.rolsuper, r.rolbypassrls,
  ARRAY(SELECT c.relname::text FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
        ORDER BY 1) AS tables
FROM pg_roles r WHERE r.rolname = :role"""


def serving_role_problems(role: str, superuser: bool, bypass: bool, tables: list[str]) -> list[str]:
    """What `SERVING_ROLE_CHECK` found, as sentences for the start-up's warnings."""
    problems = []
    if superuser:
        problems.append(f"the serving role {role} is a superuser: it reads every tenant's rows")
    elif bypass:
        problems.append(f"the serving role {role} has BYPASSRLS: it reads every tenant's rows")
    if tables and not superuser:
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        problems.append(
            f"the serving role {role} may use {len(tables)} table(s) without switching roles "
            f"({shown}): it should own, inherit and be granted nothing"
        )
    return problems
