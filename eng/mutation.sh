#!/usr/bin/env bash
# Mutation testing (Stryker.NET) of the code that decides, scored against the unit tests.
# Usage: eng/mutation.sh [policy|normalization|apikeys|audit|detection|masking|all] [file-glob...]
#   (default: all). Globs after the area narrow the run to those files (relative to
#   src/Airlock.Gateway), for a quick look at one file while writing its tests; the table still
#   counts them under the area named.
# Not part of CI: a full run takes about 25 minutes on 2 cores. See docs/testing.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Which files each area mutates (globs relative to src/Airlock.Gateway); eng/stryker-config.json
# holds the union and every other setting.
declare -A globs=(
  [policy]="Policy/**/*.cs"
  [normalization]="Normalization/**/*.cs"
  [apikeys]="Identity/ApiKeys/**/*.cs"
  [audit]="Audit/AuditChain.cs Audit/AuditVerifier.cs"
  [detection]="Detection/**/*.cs"
  [masking]="Masking/ValueMasker.cs"
)
order=(policy normalization apikeys audit detection masking)

area="${1:-all}"
shift || true
narrow=("$@")
if [[ "$area" == all ]]; then
  areas=("${order[@]}")
elif [[ -n "${globs[$area]:-}" ]]; then
  areas=("$area")
else
  echo "usage: eng/mutation.sh [$(IFS="|"; echo "${order[*]}")|all] [file-glob...]" >&2
  exit 2
fi

# Stryker runs the unit tests once per group of mutants: keep the property tests small (they
# still run, at this many cases each, instead of up to 20,000).
export AIRLOCK_PROPERTY_ITERATIONS="${AIRLOCK_PROPERTY_ITERATIONS:-200}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1
# Read by the unit tests' project (an environment variable is an MSBuild property): their build
# gets eng/xunit.runner.mutation.json, which stops a run at its first failing test. A mutant is
# killed by one failure; the rest of its covering tests would only take time.
export AirlockMutation=true

dotnet tool restore >/dev/null
# One Stryker run for all the areas asked for: Stryker compiles the whole project with every
# mutant in it and runs the suite once for coverage before testing, a few minutes here that
# separate runs per area would pay again each time. The table splits the one report by area.
out="$root/artifacts/mutation/$area"
args=()
if [[ ${#narrow[@]} -gt 0 ]]; then
  [[ ${#areas[@]} -eq 1 ]] || { echo "file globs need one area, not all" >&2; exit 2; }
  globs[$area]="${narrow[*]}"
  out="$out-narrow"
fi
for a in "${areas[@]}"; do
  for g in ${globs[$a]}; do args+=(--mutate "$g"); done
done
echo "== mutation: ${areas[*]} (${args[*]})"
# Stryker leaves its mutated gateway assembly in the unit tests' output folder, the original
# beside it as *.stryker-unchanged: put the original back, so a later `dotnet test --no-build`
# tests the real gateway, and take away the stop-at-first-failure setting, so it reports every
# failure.
# The mutated assembly is kept in the run's folder first, for eng/mutant-check.sh.
restore_assemblies() {
  find tests/Airlock.Gateway.Tests/bin -name '*.stryker-unchanged' 2>/dev/null |
    while read -r kept; do
      mutated="${kept%.stryker-unchanged}"
      [[ "$(basename "$mutated")" == Airlock.Gateway.dll ]] && cp -f "$mutated" "$out/Airlock.Gateway.mutated.dll"
      mv -f "$kept" "$mutated"
    done
  find tests/Airlock.Gateway.Tests/bin -name xunit.runner.json -delete 2>/dev/null || true
}
trap restore_assemblies EXIT
start=$SECONDS
rm -rf "$out"
(cd tests/Airlock.Gateway.Tests &&
  dotnet dotnet-stryker --config-file "$root/eng/stryker-config.json" "${args[@]}" --output "$out")
seconds=$((SECONDS - start))

areas_spec=()
for a in "${areas[@]}"; do areas_spec+=("$a=${globs[$a]}"); done
python3 - "$out/reports/mutation-report.json" "$seconds" "${areas_spec[@]}" <<'PY'
import fnmatch, json, os, sys
report, seconds, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
areas = [(s.split("=", 1)[0], s.split("=", 1)[1].split()) for s in specs]
counts = {name: {} for name, _ in areas}
with open(report) as f:
    files = json.load(f)["files"]
for path, file in files.items():
    rel = path.replace("\\", "/").split("src/Airlock.Gateway/", 1)[-1]
    # fnmatch's '*' crosses '/', so 'Policy/*.cs' covers Policy/** the way Stryker's glob does.
    area = next((name for name, globs in areas
                 if any(fnmatch.fnmatch(rel, g.replace("**/", "")) for g in globs)), None)
    if area is None:
        continue
    for m in file["mutants"]:
        counts[area][m["status"]] = counts[area].get(m["status"], 0) + 1

def row(name, c):
    killed, timeout = c.get("Killed", 0), c.get("Timeout", 0)
    survived, nocov = c.get("Survived", 0), c.get("NoCoverage", 0)
    scored = killed + timeout + survived + nocov
    other = sum(c.values()) - scored  # compile errors and ignored mutants: not scored
    score = f"{100 * (killed + timeout) / scored:.1f}%" if scored else "-"
    print(f"{name:<14}{scored:>8}{killed:>8}{timeout:>8}{survived:>9}{nocov:>9}{other:>8}{score:>8}")

print()
print(f"{'area':<14}{'mutants':>8}{'killed':>8}{'timeout':>8}{'survived':>9}{'no cover':>9}{'not run':>8}{'score':>8}")
total = {}
for name, _ in areas:
    row(name, counts[name])
    for k, v in counts[name].items():
        total[k] = total.get(k, 0) + v
if len(areas) > 1:
    row("total", total)
print(f"\nruntime {seconds // 60}m{seconds % 60:02d}s, AIRLOCK_PROPERTY_ITERATIONS={os.environ['AIRLOCK_PROPERTY_ITERATIONS']}")
print("score = (killed + timeout) / mutants; 'not run' = compile errors and ignored mutants, not scored")
print(f"html report: {os.path.dirname(report)}/mutation-report.html")
PY
