#!/bin/sh
# Install what authflow needs to render Mermaid diagrams and to test that
# they render: Debian's Chromium (headless) and fonts for the diagram text:
# Latin (Liberation, DejaVu) and Chinese (WenQuanYi Micro Hei, the smallest
# CJK font Debian has: --lang zh notes, and CJK text from the wire, would
# otherwise be drawn as boxes in svg and png).
# PlantUML (Debian's plantuml, with a headless JRE) is installed to prove
# that authflow's PlantUML output draws wire text literally and makes the
# renderer fetch nothing (sequence/render TestPlantUMLRendersLiterally;
# skipped without it unless AUTHFLOW_REQUIRE_PLANTUML=1).
# Node and mermaid-cli are not needed: the Mermaid library is embedded in
# authflow (sequence/htmlpage/assets).
#
# Idempotent: does nothing when everything is installed already.
# Run as root (or with sudo available) on Debian 12:
#   sh .ci/install-render-deps.sh
# Then run the tests with AUTHFLOW_REQUIRE_CHROMIUM=1 so that a missing
# Chromium fails them instead of skipping them.
set -eu

packages="chromium fonts-liberation fonts-dejavu-core fonts-wqy-microhei plantuml"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "install-render-deps.sh: need root to install:$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt_opts="-q -o DPkg::Lock::Timeout=300"
	echo "install-render-deps.sh: installing$missing"
	$sudo apt-get $apt_opts update
	# One retry: a concurrent apt run (or a cleaned archive cache) can make
	# the first attempt fail half way.
	# shellcheck disable=SC2086 # word splitting of $apt_opts and $missing is wanted
	if ! $sudo apt-get $apt_opts install -y --no-install-recommends $missing; then
		sleep 5
		$sudo apt-get $apt_opts update
		$sudo apt-get $apt_opts install -y --no-install-recommends $missing
	fi
fi

# Check that Chromium starts; keep its files out of the real HOME.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
version=$(HOME="$scratch" XDG_CONFIG_HOME="$scratch/.config" XDG_CACHE_HOME="$scratch/.cache" \
	chromium --version 2>/dev/null) || {
	echo "install-render-deps.sh: chromium is installed but does not start" >&2
	exit 1
}
echo "install-render-deps.sh: $version"

# Check that fontconfig (which Chromium uses) finds a font for Chinese.
if ! fc-list ':charset=4e2d' family | grep -q .; then
	echo "install-render-deps.sh: no font for Chinese (U+4E2D) found by fc-list" >&2
	exit 1
fi
