#!/bin/sh
# The role the server logs in as (DATABASE_URL): it owns nothing and may read no table;
# `insight-crm migrate`, running as the owner (MIGRATION_DATABASE_URL), makes it a member of
# crm_tenant and crm_system. The postgres image runs this once, on a fresh data volume; for a
# volume created before, run the same statement once as the owner (README, "Database roles").
set -eu
psql -v ON_ERROR_STOP=1 -v password="$CRM_APP_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE crm_app LOGIN NOINHERIT PASSWORD :'password';
SQL
