#!/bin/sh
# Copies scenarios recorded with lab/record.sh (its OUTDIR: one folder per
# scenario) into testdata/captures: every capture shrunk with shrinkcap
# (image bytes zeroed, gzip), the strace logs, and the HTTP lines of the
# tshark listing that the tests compare authflow's output with.
#   sh testdata/tools/import-captures.sh OUTDIR
set -eu
src=${1:?usage: import-captures.sh OUTDIR (a lab/record.sh output folder)}
dst=testdata/captures
for dir in "$src"/*/; do
	name=$(basename "$dir")
	mkdir -p "$dst/$name"
	for f in "$dir"*.pcap "$dir"*.pcapng; do
		[ -f "$f" ] || continue
		go run ./testdata/tools/shrinkcap "$f" "$dst/$name/$(basename "$f").gz"
	done
	for f in "$dir"glance.strace.*; do
		[ -f "$f" ] && cp "$f" "$dst/$name/"
	done
	# tshark's HTTP lines, per capture file: "== file" headers kept.
	awk '/^== /{print; next} $7 ~ /^HTTP/ {print}' "$dir/tshark.txt" > "$dst/$name/tshark-http.txt"
done
