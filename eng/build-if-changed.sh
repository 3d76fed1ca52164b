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

inputs=(src samples/Billing Directory.Build.props Directory.Packages.props global.json eng .editorconfig)

# A directory's time changes when a file in it is added, renamed or deleted, so directories
# are compared too: a deleted source file also means a build.
changed_since() {
  [ -f "$1" ] || return 0
  [ -n "$(find "${inputs[@]}" \( -name bin -o -name obj \) -prune -o -newer "$1" -print -quit 2>/dev/null)" ]
}

stale=()
for project in "$@"; do
  stamp="$(dirname "$project")/bin/Release/.airlock-build-stamp"
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
  # MSBuild's own progress: a live line per project on a terminal, one line each elsewhere.
  if ! dotnet build "$project" -c Release -nologo -v minimal 1>&2; then
    rm -f "$started"
    echo "The build of $project failed (above)." >&2
    exit 1
  fi
  mv -f "$started" "$stamp"
done
