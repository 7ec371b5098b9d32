# Sourced by the end2end scripts that need the release server: starts
# `target/release/spool serve` on a free loopback port with a fresh database in a scratch
# folder, stops it and removes the folder on exit, and waits until it is ready (showing
# its log if it never is). Sets `work` (the folder) and `base` (its URL).
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
target/release/spool serve --addr "127.0.0.1:$port" --database-url "sqlite://$work/spool.db" \
  --data-dir "$work/data" --site-root target/site >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 300); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }
