#!/usr/bin/env bash
# authflow's end-to-end benchmark: generates realistic captures
# with bench/gen, then times `authflow analyze`, tshark and cat on each and
# prints a table and the pass/fail of its targets. See bench/README.md.
#
#   ./bench/bench.sh                 # full sizes (1 GiB, 4 GiB, 20 000 validations)
#   BENCH_QUICK=1 ./bench/bench.sh   # small sizes, a couple of minutes
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${BENCH_OUT:-bench/out}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	MAIN_SIZE=${BENCH_SIZE:-64MiB}
	FLAT_SIZES=${BENCH_FLAT_SIZES:-"4MiB 64MiB 256MiB"}
	VALIDATIONS=${BENCH_VALIDATIONS:-2000}
	TSHARK_TIMEOUT=${BENCH_TSHARK_TIMEOUT:-300}
	LIVE_SIZE=${BENCH_LIVE_SIZE:-512MiB}
else
	MAIN_SIZE=${BENCH_SIZE:-1GiB}
	FLAT_SIZES=${BENCH_FLAT_SIZES:-"4MiB 1GiB 4GiB"}
	VALIDATIONS=${BENCH_VALIDATIONS:-20000}
	TSHARK_TIMEOUT=${BENCH_TSHARK_TIMEOUT:-1800}
	LIVE_SIZE=${BENCH_LIVE_SIZE:-4GiB}
fi
RUNS=${BENCH_RUNS:-3}               # best of RUNS for cat and authflow
TSHARK_RUNS=${BENCH_TSHARK_RUNS:-3} # tshark is repeated only while a run takes < 60 s
FORMATS=${BENCH_FORMATS:-"mermaid json"}
PCAPNG=${BENCH_PCAPNG:-1}           # also the main input as pcapng (dumpcap's format)
TSHARK=${BENCH_TSHARK:-1}           # 0: skip tshark altogether
RATE=${BENCH_RATE:-200MB}           # download speed written into the capture
SEED=${BENCH_SEED:-1}
GOCMD=${GO:-go}
LIVE=${BENCH_LIVE:-1}               # live capture on lo (root)
LIVE_GBIT=${BENCH_LIVE_GBIT:-2}     # speed of the live transfer
LIVE_PORT=${BENCH_LIVE_PORT:-19292}
EBPF=${BENCH_EBPF:-1}               # the eBPF tracer's overhead (root)
EBPF_ROUNDS=${BENCH_EBPF_ROUNDS:-9}

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# --- tools ---------------------------------------------------------------
need_pkgs=()
[ -x /usr/bin/time ] || need_pkgs+=(time)
if [ "$TSHARK" = 1 ] && ! command -v tshark >/dev/null; then need_pkgs+=(tshark); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ "${BENCH_INSTALL:-1}" = 1 ]; then
		log "bench: installing ${need_pkgs[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2
	else
		die "missing ${need_pkgs[*]}: sudo apt-get install -y --no-install-recommends ${need_pkgs[*]}"
	fi
fi
command -v "$GOCMD" >/dev/null || die "go not found"

mkdir -p "$OUT"
log "bench: building authflow and the generator"
CGO_ENABLED=0 "$GOCMD" build -o "$OUT/authflow" ./cmd/authflow
CGO_ENABLED=0 "$GOCMD" build -o "$OUT/gen" ./bench/gen
GEN_ID=$(sha256sum "$OUT/gen" | cut -c1-16)

# --- inputs --------------------------------------------------------------
# name|gen arguments|run tshark|role
size_bytes() { numfmt --from=auto "${1%B}"; } # 1GiB -> 1073741824, 4MB -> 4000000
inputs=()
add_input() { inputs+=("$1|$2|$3|$4"); }
add_input "image-save-$MAIN_SIZE.pcap" "-kind both -size $MAIN_SIZE" 1 main
if [ "$PCAPNG" = 1 ]; then
	add_input "image-save-$MAIN_SIZE.pcapng" "-kind both -size $MAIN_SIZE" 0 format
fi
for s in $FLAT_SIZES; do
	[ "$s" = "$MAIN_SIZE" ] && continue
	t=0
	[ "$(size_bytes "$s")" -le 300000000 ] && t=1
	add_input "image-save-$s.pcap" "-kind both -size $s" "$t" flat
done
add_input "validations-$VALIDATIONS.pcap" "-kind validations -n $VALIDATIONS" 1 many


# Disk space: the captures are ~1.1 × the image size.
need=0
for in in "${inputs[@]}"; do
	IFS='|' read -r name args _ _ <<<"$in"
	[ -s "$OUT/$name" ] && continue
	case $args in
	*-size*) need=$((need + $(size_bytes "${args##* }") * 11 / 10 + 10000000)) ;;
	*) need=$((need + VALIDATIONS * 4000)) ;;
	esac
done
if [ "$LIVE" = 1 ] && [ "$(id -u)" = 0 ]; then
	need=$((need + $(size_bytes "$LIVE_SIZE") * 11 / 10)) # the live capture, removed after
fi
avail=$(df --output=avail -B1 "$OUT" | tail -1)
log "bench: inputs need $((need / 1000000)) MB more on disk, $((avail / 1000000)) MB free"
[ "$need" -lt $((avail - 2000000000)) ] || die "not enough disk space in $OUT (need $need bytes + 2 GB margin)"

for in in "${inputs[@]}"; do
	IFS='|' read -r name args _ _ <<<"$in"
	meta="$OUT/$name.meta"
	want="$GEN_ID $args -seed $SEED -rate $RATE"
	if [ -s "$OUT/$name" ] && [ -s "$meta" ] && [ "$(head -1 "$meta")" = "$want" ] && [ "${BENCH_REGEN:-0}" != 1 ]; then
		continue
	fi
	log "bench: generating $name"
	# shellcheck disable=SC2086
	"$OUT/gen" $args -seed "$SEED" -rate "$RATE" -o "$OUT/$name" 2>"$OUT/$name.gen.log" || { cat "$OUT/$name.gen.log" >&2; die "gen failed"; }
	cat "$OUT/$name.gen.log" >&2
	packets=$(sed -n 's/.*: \([0-9]*\) packets, .*/\1/p' "$OUT/$name.gen.log" | head -1)
	printf '%s\n%s\n' "$want" "$packets" >"$meta"
done

if [ "${BENCH_GENERATE_ONLY:-0}" = 1 ]; then
	log "bench: inputs ready in $OUT"
	exit 0
fi

# --- measuring -----------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run LIMIT CMD... : runs CMD with stdout to /dev/null under /usr/bin/time;
# sets WALL (s, from the shell's clock), RSS (KB), RC. WARM_FILE is read
# first, untimed: the kernel may reclaim page cache between runs (DAMON
# does on this kind of VM), and every tool must find the file in memory.
WARM_FILE=""
run() {
	local limit=$1
	shift
	local t0 t1
	[ -z "$WARM_FILE" ] || cat "$WARM_FILE" >/dev/null
	t0=$(date +%s%N)
	set +e
	if [ "$limit" -gt 0 ]; then
		/usr/bin/time -f '%M %x' -o "$TMP/time" timeout -k 10 "$limit" "$@" >/dev/null 2>"$TMP/stderr"
	else
		/usr/bin/time -f '%M %x' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/stderr"
	fi
	RC=$?
	set -e
	t1=$(date +%s%N)
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
	RSS=$(tail -1 "$TMP/time" | awk '{print $1}')
	case $RSS in '' | *[!0-9]*) RSS=0 ;; esac
}

# best RUNS CMD... : the fastest of RUNS runs; RSS is the highest seen.
best() {
	local n=$1
	shift
	local bw="" br=0 i
	for ((i = 0; i < n; i++)); do
		run 0 "$@"
		[ "$RC" = 0 ] || { cat "$TMP/stderr" >&2; die "failed ($RC): $*"; }
		if [ -z "$bw" ] || awk -v a="$WALL" -v b="$bw" 'BEGIN{exit !(a<b)}'; then bw=$WALL; fi
		[ "$RSS" -gt "$br" ] && br=$RSS
	done
	WALL=$bw RSS=$br
}

RESULTS="$OUT/results.tsv"
CHECKS="$OUT/checks.txt"
: >"$RESULTS"
: >"$CHECKS"
check() { # PASS|FAIL text
	printf '%s  %s\n' "$1" "$2" >>"$CHECKS"
	log "bench:   check: $1 $2"
}
record() { # input bytes packets tool wall rss timedout
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

log "bench: $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for in in "${inputs[@]}"; do
	IFS='|' read -r name args do_tshark role <<<"$in"
	f="$OUT/$name"
	bytes=$(stat -c %s "$f")
	packets=$(sed -n 2p "$f.meta")
	log "bench: $name ($((bytes / 1000000)) MB, $packets packets)"
	WARM_FILE=$f
	cat "$f" >/dev/null # into the page cache
	if command -v fincore >/dev/null; then
		log "bench:   in the page cache: $(fincore -n -o RES "$f" | tr -d ' ') of $(numfmt --to=iec "$bytes")"
	fi

	best "$RUNS" cat "$f"
	record "$name" "$bytes" "$packets" "cat" "$WALL" "$RSS" 0
	for fmt in $FORMATS; do
		best "$RUNS" "$OUT/authflow" analyze --format "$fmt" "$f"
		record "$name" "$bytes" "$packets" "authflow ($fmt)" "$WALL" "$RSS" 0
		log "bench:   authflow ($fmt): $WALL s, $((RSS / 1024)) MB"
	done
	# Correctness: the download must be there with its size, every
	# validation with its answer.
	"$OUT/authflow" analyze "$f" >"$TMP/flow.mmd" 2>/dev/null || true
	case $args in
	*-size*)
		sz=$(sed -n 's/.*(image \([0-9]*\) bytes.*/\1/p' "$f.gen.log" | head -1)
		label=$(awk -v n="$sz" 'BEGIN{ if (n<1024) printf "%d bytes", n; else if (n<1048576) printf "%.1f KiB", n/1024; else if (n<1073741824) printf "%.1f MiB", n/1048576; else printf "%.2f GiB", n/1073741824 }')
		if grep -q -- "-->>C: 200 OK: $label\$" "$TMP/flow.mmd"; then
			check PASS "$name: the flow shows the download as \"200 OK: $label\""
		else
			check FAIL "$name: the flow does not show the download as \"200 OK: $label\""
		fi
		;;
	*-kind\ validations*)
		req=$(grep -c 'GET /v3/auth/tokens: validate token' "$TMP/flow.mmd" || true)
		resp=$(grep -c -- '-->>.*: 200 OK: token .* valid' "$TMP/flow.mmd" || true)
		if [ "$req" = "$VALIDATIONS" ] && [ "$resp" = "$VALIDATIONS" ]; then
			check PASS "$name: the flow shows $req validations and $resp answers"
		else
			check FAIL "$name: the flow shows $req validations and $resp answers, want $VALIDATIONS of each"
		fi
		;;
	esac

	if [ "$TSHARK" = 1 ] && [ "$do_tshark" = 1 ]; then
		for variant in default nodesegment; do
			opts=()
			[ $variant = nodesegment ] && opts=(-o http.desegment_body:FALSE)
			bw="" br=0 to=0
			for ((i = 0; i < TSHARK_RUNS; i++)); do
				run "$TSHARK_TIMEOUT" tshark -r "$f" "${opts[@]}" -Y http -T fields -e http.request.method -e http.response.code
				if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
					to=1 bw=$TSHARK_TIMEOUT br=$RSS
					log "bench:   tshark ($variant): killed after $TSHARK_TIMEOUT s, $((RSS / 1024)) MB"
					break
				fi
				[ "$RC" = 0 ] || { cat "$TMP/stderr" >&2; die "tshark failed ($RC) on $f"; }
				if [ -z "$bw" ] || awk -v a="$WALL" -v b="$bw" 'BEGIN{exit !(a<b)}'; then bw=$WALL; fi
				[ "$RSS" -gt "$br" ] && br=$RSS
				log "bench:   tshark ($variant): $WALL s, $((RSS / 1024)) MB"
				awk -v a="$WALL" 'BEGIN{exit !(a>=60)}' && break
			done
			tool="tshark"
			[ $variant = nodesegment ] && tool="tshark (desegment_body off)"
			record "$name" "$bytes" "$packets" "$tool" "$bw" "$br" "$to"
		done
	fi
done

# --- live capture and the eBPF tracer (root only) ------------------------
# Live: `authflow capture -i lo` while bench/loopback downloads an image
# over HTTP on lo at LIVE_GBIT; the kernel's drop count is authflow's own
# report at the end. eBPF: the tracer's overhead test (capture/filetrace,
# TestOverhead) times a process reading a 1 GiB file in 64 KiB chunks
# untraced, traced, and while another process is traced.
LIVE_LINES="$OUT/live.txt"
: >"$LIVE_LINES"
if [ "$LIVE" = 1 ] || [ "$EBPF" = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		log "bench: live capture and the eBPF tracer need root: skipped"
		LIVE=0 EBPF=0
	fi
fi
if [ "$LIVE" = 1 ]; then
	CGO_ENABLED=0 "$GOCMD" build -o "$OUT/loopback" ./bench/loopback
	pcap="$OUT/live.pcapng"
	log "bench: live capture on lo of a $LIVE_SIZE download at $LIVE_GBIT Gbit/s (port $LIVE_PORT)"
	"$OUT/authflow" capture -i lo --ports "$LIVE_PORT" -w "$pcap" >/dev/null 2>"$TMP/capture.err" &
	cap_pid=$!
	sleep 1
	if ! "$OUT/loopback" -bytes "$(size_bytes "$LIVE_SIZE")" -gbit "$LIVE_GBIT" -addr "127.0.0.1:$LIVE_PORT" >"$TMP/loopback.out"; then
		kill -INT "$cap_pid"
		wait "$cap_pid" || true
		rm -f "$pcap"
		die "loopback download failed"
	fi
	sleep 0.5
	kill -INT "$cap_pid"
	wait "$cap_pid" || die "authflow capture failed: $(cat "$TMP/capture.err")"
	rate=$(sed -n 's/.*gbit_per_s=\([0-9.]*\).*/\1/p' "$TMP/loopback.out")
	stats=$(grep 'packets received by filter' "$TMP/capture.err" | head -1)
	recv=$(echo "$stats" | sed -n 's/.*: \([0-9]*\) packets received.*/\1/p')
	drops=$(echo "$stats" | sed -n 's/.*, \([0-9]*\) dropped by kernel.*/\1/p')
	log "bench:   $stats; the download ran at $rate Gbit/s"
	echo "live capture: authflow capture -i lo, $LIVE_SIZE HTTP download at $rate Gbit/s: $recv packets, $drops dropped by the kernel ($(numfmt --to=iec "$(stat -c %s "$pcap")") written)" >>"$LIVE_LINES"
	if [ -n "$drops" ] && [ "$drops" = 0 ] && awk -v r="$rate" 'BEGIN{exit !(r>=1)}'; then
		check PASS "live: 0 kernel drops capturing a $rate Gbit/s transfer on lo (target 0 at ≥ 1 Gbit/s)"
	else
		check FAIL "live: ${drops:-?} kernel drops capturing a ${rate:-?} Gbit/s transfer on lo (target 0 at ≥ 1 Gbit/s)"
	fi
	"$OUT/authflow" analyze "$pcap" >"$TMP/live.mmd" 2>/dev/null || true
	if grep -q -- '-->>C: 200 OK: ' "$TMP/live.mmd"; then
		check PASS "live: the capture decodes: $(grep -- '-->>C: 200 OK: ' "$TMP/live.mmd" | head -1 | sed 's/^ *//')"
	else
		check FAIL "live: the capture does not show the download"
	fi
	rm -f "$pcap"
fi
if [ "$EBPF" = 1 ]; then
	log "bench: eBPF tracer overhead ($EBPF_ROUNDS rounds of a 1 GiB read; writes a 1 GiB file in \$TMPDIR)"
	AUTHFLOW_EBPF_BENCH=1 AUTHFLOW_EBPF_BENCH_ROUNDS=$EBPF_ROUNDS "$GOCMD" test -count=1 -run '^TestOverhead$' -v ./capture/filetrace/ >"$TMP/ebpf.out" 2>&1 || { cat "$TMP/ebpf.out" >&2; die "eBPF overhead test failed"; }
	grep -E 'runs per configuration|median' "$TMP/ebpf.out" | sed 's/^ *overhead_test.go:[0-9]*: /ebpf: /' >>"$LIVE_LINES"
	ratio=$(sed -n 's/.* traced  *wall median.*(ratio \([0-9.]*\),.*/\1/p' "$TMP/ebpf.out")
	other=$(sed -n 's/.*tracing another pid  *wall median.*(ratio \([0-9.]*\),.*/\1/p' "$TMP/ebpf.out")
	if [ -z "$ratio" ]; then
		check FAIL "ebpf: no measurement (see $TMP/ebpf.out)"
	else
		pct=$(awk -v r="$ratio" 'BEGIN{printf "%+.1f", (r-1)*100}')
		opct=$(awk -v r="$other" 'BEGIN{printf "%+.1f", (r-1)*100}')
		if awk -v r="$ratio" 'BEGIN{exit !(r<1.05)}'; then v=PASS; else v=FAIL; fi
		check "$v" "ebpf: the traced reader of a 1 GiB file takes $pct% (median wall; $opct% while another process is traced) (target < 5%)"
	fi
fi
# --- many validations: memory and CPU per message (bench/many.sh) -------
MANY_LINES="$OUT/many.txt"
: >"$MANY_LINES"
if [ "${BENCH_MANY_RUN:-1}" = 1 ]; then
	if [ "$QUICK" = 1 ]; then
		export BENCH_MANY=${BENCH_MANY:-"2000 20000"} BENCH_MANY_ROUNDS=${BENCH_MANY_ROUNDS:-3}
	fi
	log "bench: many validations (${BENCH_MANY:-20000 200000}), this build against the previous release, interleaved"
	BENCH_OUT=$OUT GO=$GOCMD ./bench/many.sh >"$MANY_LINES"
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report --------------------------------------------------------------
report() {
	echo "authflow benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -r)"
	echo "authflow $(git describe --always --dirty 2>/dev/null || echo dev), $("$GOCMD" version | cut -d' ' -f3), $(tshark --version 2>/dev/null | head -1 || true)"
	echo "load average at start: $LOAD_START, at end: $LOAD_END; best of $RUNS runs (tshark: of up to $TSHARK_RUNS, one if it takes over 60 s); each run right after an untimed cat of the file"
	echo
	awk -F'\t' '
	function fmt_ratio(r, lower) { return (lower ? ">" : "") sprintf(r >= 10 ? "%.0f×" : "%.2f×", r) }
	{
		n++; in_[n]=$1; by[n]=$2; pk[n]=$3; tool[n]=$4; wall[n]=$5; rss[n]=$6; to[n]=$7
		if ($4 == "cat") cat[$1]=$5
		if ($4 == "tshark") { ts[$1]=$5; tsto[$1]=$7 }
	}
	END {
		printf "%-32s %9s %10s  %-28s %9s %9s %12s %9s %10s %8s\n", "input", "size MB", "packets", "tool", "wall s", "MB/s", "packets/s", "RSS MB", "vs tshark", "vs cat"
		for (i = 1; i <= n; i++) {
			w = wall[i] + 0; mb = by[i] / 1e6
			tp = (w > 0) ? sprintf("%.0f", mb / w) : "-"
			pps = (w > 0 && tool[i] != "cat") ? sprintf("%.0f", pk[i] / w) : "-"
			if (to[i]) { wtxt = "> " wall[i]; tp = "< " sprintf("%.1f", mb / w); pps = "< " sprintf("%.0f", pk[i] / w) } else wtxt = wall[i]
			vt = "-"; vc = "-"
			if (tool[i] ~ /^authflow/ && (in_[i] in ts) && w > 0) vt = fmt_ratio(ts[in_[i]] / w, tsto[in_[i]])
			if (tool[i] != "cat" && cat[in_[i]] > 0) vc = fmt_ratio(w / cat[in_[i]], 0)
			printf "%-32s %9.1f %10d  %-28s %9s %9s %12s %9.1f %10s %8s\n", in_[i], mb, pk[i], tool[i], wtxt, tp, pps, rss[i] / 1024, vt, vc
		}
	}' "$RESULTS"
	echo
	# The targets.
	main="image-save-$MAIN_SIZE.pcap"
	awk -F'\t' -v main="$main" -v flat="$FLAT_SIZES" -v mainsize="$MAIN_SIZE" '
	{ key = $1 SUBSEP $4; wall[key] = $5; rss[key] = $6; to[key] = $7; by[$1] = $2 }
	function check(ok, text) { printf "%s  %s\n", ok ? "PASS" : "FAIL", text; if (!ok) failed = 1 }
	END {
		a = wall[main, "authflow (mermaid)"]; c = wall[main, "cat"]; t = wall[main, "tshark"]
		if (a > 0) {
			if (t > 0) check(t / a >= 30, sprintf("%s: authflow %s%.0f× faster than tshark (target ≥ 30×)", main, to[main, "tshark"] ? "> " : "", t / a))
			check(by[main] / a >= 1e9, sprintf("%s: authflow at %.0f MB/s (target ≥ 1000 MB/s)", main, by[main] / a / 1e6))
			check(a / c <= 2, sprintf("%s: authflow takes %.2f× the time of cat (target ≤ 2×)", main, a / c))
			check(rss[main, "authflow (mermaid)"] < 100 * 1024, sprintf("%s: authflow peak RSS %.1f MB (target < 100 MB)", main, rss[main, "authflow (mermaid)"] / 1024))
		}
		nf = split(flat, fs, " "); lo = -1; hi = -1; list = ""
		for (i = 1; i <= nf; i++) {
			r = rss["image-save-" fs[i] ".pcap", "authflow (mermaid)"]
			if (r == "") continue
			if (lo < 0 || r < lo) lo = r
			if (hi < 0 || r > hi) hi = r
			list = list sprintf("%s%s: %.1f MB", list == "" ? "" : ", ", fs[i], r / 1024)
		}
		if (hi >= 0) check((hi - lo) < 20 * 1024, sprintf("peak RSS by capture size (%s) differs by %.1f MB (target < 20 MB)", list, (hi - lo) / 1024))
	}' "$RESULTS"
	if [ -s "$MANY_LINES" ]; then
		grep '^many: ' "$MANY_LINES" | sed 's/^many: //'
		echo
	fi
	if [ -s "$LIVE_LINES" ]; then
		cat "$LIVE_LINES"
		echo
	fi
	cat "$CHECKS"
	[ -s "$MANY_LINES" ] && grep -E '^(PASS|FAIL)  ' "$MANY_LINES"
	true
}
report | tee "$OUT/results.txt"
log "bench: table saved in $OUT/results.txt, raw numbers in $RESULTS"
