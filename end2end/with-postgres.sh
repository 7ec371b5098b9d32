#!/usr/bin/env bash
# Runs a command (the Rust tests) with SPOOL_TEST_POSTGRES_URL set: as given, or the
# machine's own PostgreSQL when one answers on 127.0.0.1:5432. Without a server the
# PostgreSQL suites are skipped, and said so before and after the run; under CI
# (CI=true) that is a failure instead.
set -uo pipefail
default_url="postgres://postgres@127.0.0.1:5432/test"
suites="the store and lifecycle suites on PostgreSQL, scale_out and lock_races"
url="${SPOOL_TEST_POSTGRES_URL:-}"
# Something that accepts connections on the port is not enough: the tests need the
# `test` database with trust authentication, so ask it (with psql where there is one).
answers() {
  if command -v psql >/dev/null; then
    timeout 5 psql "$default_url" -qtAc 'select 1' >/dev/null 2>&1
  else
    timeout 3 bash -c '</dev/tcp/127.0.0.1/5432' 2>/dev/null
  fi
}
if [ -z "$url" ] && answers; then
  url="$default_url"
fi
warn() {
  printf '\n*** NO POSTGRESQL: %s does not answer and SPOOL_TEST_POSTGRES_URL is not set.\n*** SKIPPED: %s.\n\n' "$default_url" "$suites" >&2
}
if [ -z "$url" ]; then
  if [ "${CI:-}" = true ]; then
    echo "with-postgres: CI runs $suites, and $default_url does not answer" >&2
    exit 1
  fi
  warn
else
  echo "with-postgres: $suites run on $url"
fi
SPOOL_TEST_POSTGRES_URL="$url" "$@"
status=$?
[ -n "$url" ] || warn
exit "$status"
