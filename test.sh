#!/usr/bin/env bash
# Runs every test: unit tests, and functional tests against real parts (Kestrel, the npm
# oidc-provider and express, Python's wsgiref, SQLite, PostgreSQL), and the README's tour against
# the quick-start. Needs .NET 10, Node.js, python3, curl, PostgreSQL's server binaries and Chromium
# (Debian: apt-get install postgresql chromium); .ci/run installs them on a fresh machine.
# Prints one summary line, "N passed, N failed, N skipped", and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"

# The Node fixtures the tests start: the OIDC provider, and an express upstream.
for fixture in tests/fixtures/oidc tests/fixtures/express; do
  if [ ! -f "$fixture/node_modules/.package-lock.json" ] || [ "$fixture/package-lock.json" -nt "$fixture/node_modules/.package-lock.json" ]; then
    (cd "$fixture" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed in $fixture"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
  fi
done

log=$(mktemp)
dotnet build Airlock.slnx -c Release -nologo -v quiet 2>&1 | tee "$log"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

dotnet test Airlock.slnx -c Release --no-build --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
       }
     }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
