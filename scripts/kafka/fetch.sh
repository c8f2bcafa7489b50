#!/usr/bin/env bash
# Downloads the Kafka broker runtime jars into .cache/kafka/libs (once).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pom="$root/scripts/kafka/pom.xml"
libs="$root/.cache/kafka/libs"

# The marker is a copy of the pom the jars came from, so editing the pom triggers a refetch.
if cmp -s "$pom" "$libs/.complete"; then
  exit 0
fi

echo "Fetching Kafka jars into $libs ..."
rm -rf "$libs"
# Maven 3.8 prints stray ANSI resets even with -q -B, so only show its output on failure.
if ! out="$(mvn -q -B -f "$pom" \
  -Dmaven.repo.local="$root/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" 2>&1)"; then
  echo "$out" >&2
  exit 1
fi
cp "$pom" "$libs/.complete"
