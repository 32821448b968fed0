#!/bin/sh
# Installs the system packages the test suite needs, on Debian 12, as root:
# Chromium (renders every golden Mermaid diagram, checks the HTML export),
# tshark (cross-checks captures and `authflow filter`), and clang with
# llvm-strip (bpf2go regenerates the eBPF object to check the committed
# one). Idempotent: a
# machine that has them installs nothing.
set -eu
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v tshark >/dev/null 2>&1 || need="$need tshark"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v clang >/dev/null 2>&1 || need="$need clang"
command -v llvm-strip >/dev/null 2>&1 || need="$need llvm"
if [ -n "$need" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: need root to install:$need" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $need
fi
if [ -x "$(dirname "$0")/install-render-deps.sh" ]; then
	"$(dirname "$0")/install-render-deps.sh"
fi
