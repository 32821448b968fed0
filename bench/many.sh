#!/usr/bin/env bash
# Many validations: memory and CPU per message of `authflow analyze` on
# captures of N validations (bench/gen -kind validations), this build
# against the previous release, interleaved (A B A B …) over ROUNDS rounds;
# medians and spread of CPU time (user+sys), peak RSS, and whether the
# JSON holds every validation and its answer with the default flags.
# Called by bench.sh (its report includes these lines); runs alone too:
#
#   ./bench/many.sh                    # 20 000 and 200 000 validations, 9 rounds
#   BENCH_MANY="20000 200000 2000000" ./bench/many.sh   # 2 M: ~12.6 GB, deleted after
#
# Prints lines "many: …" and "PASS/FAIL  …" on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${BENCH_OUT:-bench/out}
MANY=${BENCH_MANY:-"20000 200000"}
ROUNDS=${BENCH_MANY_ROUNDS:-9}
# The previous release: main before the streaming work began.
PREV=${BENCH_PREV:-a3ba05f}
KEEP_BELOW=${BENCH_MANY_KEEP:-1000000} # captures of more validations are deleted after
GOCMD=${GO:-go}
log() { printf '%s\n' "$*" >&2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -x "$OUT/authflow" ] || CGO_ENABLED=0 "$GOCMD" build -o "$OUT/authflow" ./cmd/authflow
[ -x "$OUT/gen" ] || CGO_ENABLED=0 "$GOCMD" build -o "$OUT/gen" ./bench/gen
if [ ! -x "$OUT/authflow-prev" ] || [ "$(cat "$OUT/authflow-prev.rev" 2>/dev/null)" != "$PREV" ]; then
	log "bench: building the previous release ($PREV)"
	mkdir -p "$TMP/prev"
	git archive "$PREV" | tar -x -C "$TMP/prev"
	(cd "$TMP/prev" && CGO_ENABLED=0 "$GOCMD" build -o "$OUT/authflow-prev" ./cmd/authflow)
	echo "$PREV" >"$OUT/authflow-prev.rev"
fi

# one BIN FILE ARGS…: one run of `analyze -f json`; sets CPU (s), RSS (KB),
# RC, MSGS (messages in the JSON), VAL and ANS (validations and answers).
one() {
	local bin=$1 f=$2
	shift 2
	cat "$f" >/dev/null
	set +e
	/usr/bin/time -f '%U %S %M' -o "$TMP/time" "$bin" analyze -f json "$@" "$f" >"$TMP/out.json" 2>"$TMP/err"
	RC=$?
	set -e
	read -r u s RSS < <(tail -1 "$TMP/time")
	CPU=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
	MSGS=$(grep -c '^      "seq": ' "$TMP/out.json" || true)
	VAL=$(grep -c '"kind": "keystone.token.validate"' "$TMP/out.json" || true)
	ANS=$(grep -c '"kind": "keystone.token.valid"' "$TMP/out.json" || true)
	rm -f "$TMP/out.json"
}

median() { sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
spread() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "%s–%s", lo, hi}'; }

declare -A PERMSG
for n in $MANY; do
	f="$OUT/validations-$n.pcap"
	if [ ! -s "$f" ]; then
		log "bench: generating $f"
		"$OUT/gen" -kind validations -n "$n" -seed 1 -o "$f" >&2
	fi
	rounds=$ROUNDS
	[ "$n" -ge "$KEEP_BELOW" ] && rounds=1
	: >"$TMP/new.cpu"
	: >"$TMP/prev.cpu"
	rss=0 prss=0
	for ((i = 0; i < rounds; i++)); do
		one "$OUT/authflow" "$f"
		[ "$RC" = 0 ] || { cat "$TMP/err" >&2; log "bench: authflow exited $RC on $f"; }
		echo "$CPU" >>"$TMP/new.cpu"
		[ "$RSS" -gt "$rss" ] && rss=$RSS
		nmsgs=$MSGS nval=$VAL nans=$ANS nrc=$RC
		# The previous release with a bound high enough to keep every
		# message (its default dropped three quarters of 200 000).
		if [ "$n" -lt "$KEEP_BELOW" ]; then
			one "$OUT/authflow-prev" "$f" --max-memory 16GiB
			echo "$CPU" >>"$TMP/prev.cpu"
			[ "$RSS" -gt "$prss" ] && prss=$RSS
			pmsgs=$MSGS
		fi
		log "bench:   $n validations round $((i + 1))/$rounds: $(tail -1 "$TMP/new.cpu") s (previous: $(tail -1 "$TMP/prev.cpu" 2>/dev/null || echo -) s)"
	done
	med=$(median <"$TMP/new.cpu")
	per=$(awk -v c="$med" -v m="$nmsgs" 'BEGIN{ if (m > 0) printf "%.2f", c / m * 1e6; else print "nan" }')
	PERMSG[$n]=$per
	echo "many: $n validations: $nmsgs messages in the JSON with default flags, exit $nrc; CPU median $med s (spread $(spread <"$TMP/new.cpu"), $rounds runs) = $per µs/message; peak RSS $((rss / 1024)) MB"
	if [ -s "$TMP/prev.cpu" ]; then
		pmed=$(median <"$TMP/prev.cpu")
		pper=$(awk -v c="$pmed" -v m="$pmsgs" 'BEGIN{ if (m > 0) printf "%.2f", c / m * 1e6; else print "nan" }')
		echo "many: $n validations, previous release ($PREV, --max-memory 16GiB): $pmsgs messages; CPU median $pmed s (spread $(spread <"$TMP/prev.cpu")) = $pper µs/message; peak RSS $((prss / 1024)) MB"
		r=$(awk -v a="$pper" -v b="$per" 'BEGIN{printf "%.2f", a / b}')
		v=$(awk -v r="$r" 'BEGIN{print (r >= 3) ? "PASS" : "FAIL"}')
		echo "$v  $n validations: $r× less CPU per message than the previous release (target ≥ 3×)"
	fi
	if [ "$nval" = "$n" ] && [ "$nans" = "$n" ] && [ "$nrc" = 0 ]; then v=PASS; else v=FAIL; fi
	echo "$v  $n validations: the JSON with default flags holds $nval validations and $nans answers (want $n of each, exit 0)"
	if [ "$n" -ge 200000 ]; then
		v=$(awk -v r="$rss" 'BEGIN{print (r < 256 * 1024) ? "PASS" : "FAIL"}')
		echo "$v  $n validations: peak RSS $((rss / 1024)) MB (target < 256 MB)"
	fi
	[ "$n" -ge "$KEEP_BELOW" ] && rm -f "$f"
done
set -- $MANY
if [ $# -ge 2 ] && [ -n "${PERMSG[$1]:-}" ] && [ -n "${PERMSG[$2]:-}" ]; then
	r=$(awk -v a="${PERMSG[$2]}" -v b="${PERMSG[$1]}" 'BEGIN{printf "%.2f", a / b}')
	v=$(awk -v r="$r" 'BEGIN{print (r <= 1.2) ? "PASS" : "FAIL"}')
	echo "$v  CPU per message at $2 validations is $r× the figure at $1 (target ≤ 1.2×)"
fi
