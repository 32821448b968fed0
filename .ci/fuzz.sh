#!/bin/sh
# Runs every fuzz target of the module for $FUZZTIME (default 5s) each.
set -eu
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
status=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "fuzz $pkg $target ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >/tmp/authflow-fuzz.log 2>&1; then
			cat /tmp/authflow-fuzz.log
			status=1
		fi
	done
done
exit $status
