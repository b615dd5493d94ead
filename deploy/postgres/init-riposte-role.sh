#!/bin/sh
# Run once by the postgres image of docker-compose.yml, when its data volume is empty
# (/docker-entrypoint-initdb.d/): creates the role Riposte connects as. The role owns the
# database POSTGRES_DB (it creates its tables: Alembic, Rasa's tracker store) and nothing else:
# not a superuser, cannot create roles or databases, cannot connect to the database postgres.
# The superuser (POSTGRES_USER, "postgres") is for administration only; Riposte never uses it.
set -eu
: "${RIPOSTE_DB_PASSWORD:?RIPOSTE_DB_PASSWORD (POSTGRES_PASSWORD of .env) is required}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v role="${RIPOSTE_DB_USER:-riposte}" -v password="$RIPOSTE_DB_PASSWORD" \
  -v database="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER DATABASE :"database" OWNER TO :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
SQL
