#!/usr/bin/env bash
# A Python client generated from the release server's own OpenAPI document, as a user of
# the API would make one (`make openapi-client`, part of `make test`): the generator must
# not warn or drop anything, and the generated client must drive a task through submit,
# list, detail, cancel and retry. Usage: openapi-client.sh VENV (openapi-python-client in it)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(realpath "$1")
export PATH="$venv/bin:$PATH"   # the generator formats its output with the ruff beside it

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
target/release/spool serve --addr "127.0.0.1:$port" --database-url "sqlite://$work/client.db" \
  --data-dir "$work/data" --site-root target/site >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 300); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

curl -fsS "$base/api/openapi.json" >"$work/openapi.json"
# --fail-on-warning: a schema or path the generator cannot turn into code fails the run.
(cd "$work" && openapi-python-client generate --path openapi.json --meta none \
  --output-path spool_client --fail-on-warning) >"$work/generate.log" 2>&1 || {
  cat "$work/generate.log" >&2
  echo "openapi-client: the generator warned or dropped part of the document" >&2
  exit 1
}
cat "$work/generate.log"
"$venv/bin/python" end2end/openapi_client_drive.py "$base" "$work"
