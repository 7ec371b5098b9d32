#!/usr/bin/env bash
# Schemathesis against the release server's own OpenAPI document (`make api-fuzz`, part
# of `make test`): no answer may be a server error, every answer must match the document,
# and every request the document forbids must be refused. Usage: api-fuzz.sh SCHEMATHESIS
#
# Not checked: that every request the document allows is accepted
# (positive_data_acceptance): some rules cannot be written in OpenAPI (`run_at` and
# `delay_ms` exclude each other, each task kind has its own parameters). Nor that a
# deleted resource is gone (use_after_free): `DELETE /api/tasks/{id}` cancels the task,
# as the seed's API did, and the cancelled task stays to be looked at.
set -euo pipefail
cd "$(dirname "$0")/.."
schemathesis=$(realpath "$1")

source end2end/release-server.sh

# Run from the scratch folder, where Schemathesis keeps its cache. Two paths are left
# out because a valid request to them may rightly never end. The workers' claim may
# long-poll for up to 30 s, so a hundred of them would take most of an hour. A task's
# event stream lasts until the task ends, and a task the fuzzer submits to a queue no
# worker takes never does. tests/integration/external_workers.rs drives the claim,
# http_more.rs and shutdown.rs the stream, their refusals too.
(cd "$work" && "$schemathesis" run "$base/api/openapi.json" \
  --checks all --exclude-checks positive_data_acceptance,use_after_free \
  --exclude-path /api/workers/claim \
  --exclude-path '/api/tasks/{id}/events' \
  --max-examples 100 --workers 1)

# After all that the server still answers, and it never panicked.
curl -fsS "$base/readyz" >/dev/null
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked during the run:" >&2
  grep -A5 "panicked" "$work/server.log" >&2
  exit 1
fi
echo "api-fuzz: no server errors, every answer as documented"
