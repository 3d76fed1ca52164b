#!/usr/bin/env bash
# Builds projects of this checkout (Release) unless nothing they are built from changed since
# this script last built them: then it costs one `find`, not the two seconds MSBuild takes to
# find out that there is nothing to do. Used by ./airlock and samples/quickstart/run.sh.
#
#   eng/build-if-changed.sh src/Airlock/Airlock.csproj [samples/Billing/Billing.csproj ...]
#
# "Built from" is everything under src/ and samples/Billing/ (bin/ and obj/ aside) and the
# repository-wide build files. A project's stamp lives in its bin/Release/, so deleting bin/
# (or `dotnet clean`) forces a build. Progress and errors go to standard error: the callers'
# standard output stays theirs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

inputs=()
for input in src samples/Billing Directory.Build.props Directory.Packages.props global.json eng .editorconfig; do
  if [ -e "$input" ]; then inputs+=("$input"); fi
done

input_files() {
  find "${inputs[@]}" \( -name bin -o -name obj \) -prune -o -type f "$@" 2>/dev/null || true
}

# The stamp holds the list of input files at the last build: a file newer than the stamp, or a
# file added, renamed or deleted since (a changed list), means a build. (Directory times would
# tell deletions too, but the build itself changes them when it creates bin/ and obj/.) One
# pass: files newer than the stamp are listed with a leading "+".
changed_since() {
  [ -f "$1" ] || return 0
  local listed
  listed=$(input_files \( -newer "$1" -printf '+%p\n' -o -printf '%p\n' \) | LC_ALL=C sort)
  [[ "$listed" == +* || "$listed" == *$'\n+'* || "$listed" != "$(<"$1")" ]]
}

stale=()
for project in "$@"; do
  stamp="${project%/*}/bin/Release/.airlock-build-stamp"
  if changed_since "$stamp"; then
    stale+=("$project")
  fi
done
[ "${#stale[@]}" -eq 0 ] && exit 0

if [ -f "$(dirname "${stale[0]}")/bin/Release/.airlock-build-stamp" ]; then
  echo "Building ${stale[*]}: something it is built from changed since its last build…" >&2
else
  echo "Building ${stale[*]} (the first build takes about a minute)…" >&2
fi

for project in "${stale[@]}"; do
  stamp="$(dirname "$project")/bin/Release/.airlock-build-stamp"
  mkdir -p "$(dirname "$stamp")"
  # Stamped with the time the build started: a file saved during the build is newer than the
  # stamp, so the next run builds again.
  started=$(mktemp "$(dirname "$stamp")/.airlock-build-stamp.XXXXXX")
  input_files -print | LC_ALL=C sort > "$started"
  # MSBuild's own progress: a live line per project on a terminal, one line each elsewhere.
  if ! dotnet build "$project" -c Release -nologo -v minimal 1>&2; then
    rm -f "$started"
    echo "The build of $project failed (above)." >&2
    exit 1
  fi
  mv -f "$started" "$stamp"
done
