#!/bin/sh
# One PostgreSQL role per service (and the operations console), owning only its own database (run once, by the postgres image on a new volume:
# /docker-entrypoint-initdb.d). A service's role is no superuser and cannot create roles or databases; it owns its
# database and that database's public schema, so its migrations run as itself. PUBLIC may not connect, so a role
# reaches no other service's database (pg_hba.conf's "sameuser" refuses it before that, too).
# Passwords come from secret files: ${SECRETS_DIR:-/run/secrets}/postgres-<service>.
set -eu
SECRETS_DIR=${SECRETS_DIR:-/run/secrets}
for service in contracts orders settlement alerts console; do
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${PGUSER:-${POSTGRES_USER:-postgres}}" --dbname postgres \
         -v role="$service" -v password="$(cat "$SECRETS_DIR/postgres-$service")" <<'SQL'
SET password_encryption = 'scram-sha-256';
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
