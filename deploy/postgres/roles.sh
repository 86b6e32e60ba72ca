#!/bin/bash
# mash's two database roles (docs/operations.md "Database roles"), made by the postgres image the first time
# it initialises its data folder (docker-compose.yml mounts this in /docker-entrypoint-initdb.d):
#
#   mash_owner owns the database and so, on PostgreSQL 15+, the schema `public` and every table
#              the migrations make in it; only the one-shot `migrate` service connects as it.
#   mash_app   is what the web app, the worker and beat connect as: no superuser, owns nothing,
#              may not create in `public`; each migrate grants it read and write on the tables,
#              but only read and add on the logs (mash.database_roles).
#
# The superuser (POSTGRES_USER) initialises, and nothing of mash connects as it. Safe to run
# again, to change a password or on a database made before the roles were:
#   docker compose exec db /docker-entrypoint-initdb.d/10-mash-roles.sh
set -e

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v database="$POSTGRES_DB" \
    -v owner_password="${MASH_OWNER_PASSWORD:?set MASH_OWNER_PASSWORD}" \
    -v app_password="${MASH_APP_PASSWORD:?set MASH_APP_PASSWORD}" <<'SQL'
SELECT 'CREATE ROLE mash_owner'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mash_owner') \gexec
SELECT 'CREATE ROLE mash_app'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mash_app') \gexec

ALTER ROLE mash_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
ALTER ROLE mash_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';

ALTER DATABASE :"database" OWNER TO mash_owner;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO mash_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO mash_app;
SQL
