#!/usr/bin/env bash
# `make test-arm64`: the agent on arm64, under qemu-user emulation. Builds the root if needed
# (deploy/arm64/root.sh), runs `linas agent selftest` inside, then serves the agent from inside
# on loopback while this host's venv runs tests/e2e/test_arm64_agent.py against it. A skipped
# test fails this script: it counts only when it ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
note="arm64 under emulation: latency figures here mean nothing; this checks install, protocol and isolation on aarch64"
echo "$note"
deploy/arm64/root.sh
deploy/arm64/chroot.sh linas agent selftest

log=$(mktemp)
report=$(mktemp)
port=$($PYTHON -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
deploy/arm64/chroot.sh linas agent serve --host 127.0.0.1 --port "$port" --name arm64 \
	--label board=arm64-emulated --cache-dir /var/cache/linas >"$log" 2>&1 &
agent=$!
trap 'kill $agent 2>/dev/null; wait $agent 2>/dev/null; rm -f "$log" "$report"' EXIT
for _ in $(seq 120); do
	grep -q "listening on" "$log" && break
	kill -0 $agent 2>/dev/null || { cat "$log" >&2; echo "the arm64 agent did not start" >&2; exit 1; }
	sleep 0.5
done
grep -q "listening on" "$log" || { cat "$log" >&2; echo "the arm64 agent did not start in 60 s" >&2; exit 1; }

LINAS_ARM64_AGENT=127.0.0.1:$port $PYTHON -m pytest -q tests/e2e/test_arm64_agent.py \
	--junitxml="$report"
$PYTHON - "$report" <<'PY'
import sys
import xml.etree.ElementTree as ET

suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
ran, skipped = int(suite.get("tests")), int(suite.get("skipped"))
if skipped or not ran:
    sys.exit(f"test-arm64: {skipped} of {ran} tests were skipped; a skip does not pass")
PY
echo "$note"
