#!/bin/sh
# Builds the Jaeger v2 all-in-one binary that go.mod beside this script pins,
# into a cache outside the repository, and only when it is not there yet
# (it takes minutes). Prints the binary's path.
#
#   AUTHFLOW_JAEGER   path to use instead of the cache (built there if missing)
set -eu
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"
version=$(awk '$1 == "github.com/jaegertracing/jaeger" { print $2 }' go.mod)
[ -n "$version" ] || { echo "build.sh: go.mod does not pin github.com/jaegertracing/jaeger" >&2; exit 1; }
bin=${AUTHFLOW_JAEGER:-${XDG_CACHE_HOME:-$HOME/.cache}/authflow/jaeger-$version}
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
mkdir -p "$(dirname "$bin")"
echo "building jaeger $version into $bin (takes minutes)" >&2
start=$(date +%s)
# Build to a temporary name and rename, so that an interrupted build never
# leaves a half-written binary that the next run would take for a good one.
nice -n 10 go build -trimpath -ldflags '-s -w' -o "$bin.tmp.$$" github.com/jaegertracing/jaeger/cmd/jaeger
mv "$bin.tmp.$$" "$bin"
echo "built jaeger $version in $(( $(date +%s) - start ))s" >&2
echo "$bin"
