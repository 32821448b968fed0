#!/bin/sh
# Re-fetch the Mermaid browser bundle embedded by package htmlpage.
#
# Usage: sh fetch-mermaid.sh VERSION   (run from this folder, or via `go generate ./sequence/htmlpage`)
#
# Needs npm (only to fetch: the built program and its tests never need Node).
# It downloads mermaid@VERSION with `npm pack`, checks that dist/mermaid.min.js
# can be inlined in an HTML <script> element, and writes:
#   mermaid.min.js.gz  the bundle, gzip -9 -n (reproducible bytes)
#   LICENSE.mermaid    the package's license text
#   SOURCE             version, npm integrity and sha256 of the bundle
# After a version change, also update MermaidVersion in ../htmlpage.go;
# the package's tests check that the two agree and that the sha256 matches.
set -eu

version=${1:?usage: fetch-mermaid.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "mermaid@$version" >/dev/null
tar xzf "mermaid-$version.tgz" package/dist/mermaid.min.js package/LICENSE package/package.json

js=package/dist/mermaid.min.js
# An inline script ends at the first "</script" and a "<script" after "<!--"
# changes how the HTML parser reads it, so refuse a bundle that has either.
if grep -qi '<script\|</script' "$js"; then
	echo "fetch-mermaid.sh: $js contains <script or </script and cannot be inlined" >&2
	exit 1
fi

license=$(node -p 'require("./package/package.json").license' 2>/dev/null || echo unknown)
integrity=$(npm view "mermaid@$version" dist.integrity 2>/dev/null || echo unknown)
sum=$(sha256sum "$js" | cut -d' ' -f1)
size=$(wc -c <"$js" | tr -d ' ')

gzip -9 -n -c "$js" >"$here/mermaid.min.js.gz"
cp package/LICENSE "$here/LICENSE.mermaid"
cat >"$here/SOURCE" <<EOT
package: mermaid@$version
file: dist/mermaid.min.js
size: $size
sha256: $sum
npm-integrity: $integrity
license: $license
EOT
echo "mermaid $version: $size bytes, $(wc -c <"$here/mermaid.min.js.gz" | tr -d ' ') gzipped"
