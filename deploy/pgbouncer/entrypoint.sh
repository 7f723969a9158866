#!/bin/sh
# Writes the credentials PgBouncer needs (from DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD) to
# private files that pgbouncer.ini includes, then runs PgBouncer in the foreground. JIT is turned off
# on every server connection here, as the servers ask for it in a startup parameter PgBouncer drops.
set -eu
: "${DB_HOST:?DB_HOST is required}" "${DB_NAME:?DB_NAME is required}"
: "${DB_USER:?DB_USER is required}" "${DB_PASSWORD:?DB_PASSWORD is required}"
umask 077
cat > /tmp/pgbouncer-databases.ini <<INI
[databases]
${DB_NAME} = host=${DB_HOST} port=${DB_PORT:-5432} dbname=${DB_NAME} user=${DB_USER} password=${DB_PASSWORD} connect_query='SET jit = off'
INI
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" > /tmp/pgbouncer-userlist.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
