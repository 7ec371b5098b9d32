#!/usr/bin/env bash
# A Python client generated from the release server's own OpenAPI document, as a user of
# the API would make one (`make openapi-client`, part of `make test`): the generator must
# not warn or drop anything, and the generated client must drive a task through submit,
# list, detail, cancel and retry. Usage: openapi-client.sh VENV (openapi-python-client in it)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(realpath "$1")
export PATH="$venv/bin:$PATH"   # the generator formats its output with the ruff beside it

source end2end/release-server.sh

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
