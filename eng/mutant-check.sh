#!/usr/bin/env bash
# Checks mutants by hand, the way docs/testing.md's scores were checked: each mutant is switched
# on in the mutated gateway that eng/mutation.sh kept, in a fresh test program (so static
# initialisers see it, and nothing is left over from another mutant), and the whole unit project
# runs against it.
# Usage: eng/mutant-check.sh [--seconds N] RUN_DIR MUTANT_ID...
#   RUN_DIR: the run's folder, e.g. artifacts/mutation/all (it holds Airlock.Gateway.mutated.dll).
# Prints one line per mutant: PASS (a survivor), FAIL n (killed, with the first failing tests),
# HANG (ran past N seconds, default 100: a real timeout) or CRASH (the test program died).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=100
if [[ "${1:-}" == --seconds ]]; then seconds=$2; shift 2; fi
run="${1:?usage: eng/mutant-check.sh [--seconds N] RUN_DIR MUTANT_ID...}"; shift
mutated="$(cd "$run" && pwd)/Airlock.Gateway.mutated.dll"
[[ -f "$mutated" ]] || { echo "no $mutated: run eng/mutation.sh first" >&2; exit 2; }

cd "$root"
dotnet build tests/Airlock.Gateway.Tests -c Release -v q -nologo >/dev/null
bin=tests/Airlock.Gateway.Tests/bin/Release/net10.0
# The tests find the repository's samples and docs from their own folder, so they run in place,
# with the original gateway put back when this ends.
cp -f "$bin/Airlock.Gateway.dll" "$bin/Airlock.Gateway.dll.original"
trap 'mv -f "$bin/Airlock.Gateway.dll.original" "$bin/Airlock.Gateway.dll"' EXIT
cp -f "$mutated" "$bin/Airlock.Gateway.dll"

export AIRLOCK_PROPERTY_ITERATIONS="${AIRLOCK_PROPERTY_ITERATIONS:-200}"
for id in "$@"; do
  out=$(mktemp)
  # Stryker's injected switch reads the active mutant from the variable this one names.
  set +e
  (cd "$bin" && STRYKER_MUTANT_ID_CONTROL_VAR=AIRLOCK_MUTANT AIRLOCK_MUTANT="$id" \
    timeout -k 5 "$seconds" ./Airlock.Gateway.Tests -noColor >"$out" 2>&1)
  rc=$?
  set -e
  total=$(grep -E 'Total: [0-9]+' "$out" | tail -1 || true)
  failed=$(echo "$total" | grep -o 'Failed: [0-9]*' | cut -d' ' -f2 || true)
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then echo "$id HANG"
  elif [[ -z "$total" ]]; then echo "$id CRASH (exit $rc)"
  elif [[ "$failed" != 0 ]]; then echo "$id FAIL $failed $(grep '\[FAIL\]' "$out" | head -2 | sed 's/^ *//' | tr '\n' ' ')"
  else echo "$id PASS"; fi
  rm -f "$out"
done
