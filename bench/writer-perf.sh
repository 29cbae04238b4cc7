#!/usr/bin/env bash
# writer-perf.sh — where a bulk transfer's writing end spends its CPU, nodetls
# against crypto/tls, with the reading end crypto/tls in both (README,
# "Benchmarks"). Needs perf (and the right to use it) and what the bench needs
# to build (Go, cgo, libssl-dev); run from bench/. Samples per run at 2,000 Hz,
# TLS 1.3 client→server.
#
#   ./writer-perf.sh [BYTES] [RUNS]      (defaults: 2GiB 2)
set -euo pipefail
bytes=${1:-2GiB}
runs=${2:-2}
command -v perf >/dev/null || { echo "writer-perf.sh: perf is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bench" .

# pct FILE MODE PATTERN: the percentage perf gives the first symbol (MODE
# children or self) or DSO (MODE dso) matching PATTERN, 0 if none.
pct() {
	local f=$1 mode=$2 pat=$3 out
	case $mode in
	dso) out=$(perf report -i "$f" --no-children --sort dso -g none 2>/dev/null) ;;
	*) out=$(perf report -i "$f" --children --sort sym -g none 2>/dev/null) ;;
	esac
	echo "$out" | awk -v pat="$pat" '$0 ~ pat && /%/ { sub("%", "", $1); print $1; found=1; exit } END { if (!found) print 0 }'
}

samples() { perf script -i "$1" -F period 2>/dev/null | wc -l; }

printf '%-20s %8s %8s %8s %8s %8s %8s %8s\n' writer samples write seal record libssl libc engine
for r in $(seq "$runs"); do
	for c in crypto/tls nodetls+crypto/tls; do
		f="$tmp/perf.data"
		perf record -q -o "$f" -F 2000 -g -- "$tmp/bench" -runs 1 -bytes "$bytes" -handshakes 0 \
			-jobs c2s -versions 1.3 -contenders "$c" >/dev/null 2>&1
		n=$(samples "$f")
		w=$(pct "$f" sym '\\] syscall\\.write$')
		if [ "$c" = crypto/tls ]; then
			wr=$(pct "$f" sym '\\] crypto/tls\\.\\(\\*Conn\\)\\.Write$')
			seal=$(pct "$f" sym '\\] crypto/internal/fips140/aes/gcm\\.seal$')
			awk -v n="$n" -v w="$w" -v wr="$wr" -v s="$seal" 'BEGIN {
				printf "%-20s %8d %8.0f %8.0f %8.0f %8s %8s %8s\n", "crypto/tls", n, n*w/100, n*s/100, n*(wr-w-s)/100, "-", "-", "-" }'
		else
			wr=$(pct "$f" sym '\\] github\\.com/nodetls/nodetls/openssl\\.\\(\\*Conn\\)\\.Write$')
			crypto=$(pct "$f" dso 'libcrypto\\.so')
			ssl=$(pct "$f" dso 'libssl\\.so')
			libc=$(pct "$f" dso 'libc\\.so')
			awk -v n="$n" -v w="$w" -v wr="$wr" -v cr="$crypto" -v ss="$ssl" -v lc="$libc" 'BEGIN {
				printf "%-20s %8d %8.0f %8.0f %8s %8.0f %8.0f %8.0f\n", "nodetls", n, n*w/100, n*cr/100, "-", n*ss/100, n*lc/100, n*(wr-w)/100 }'
		fi
	done
done
cat <<'EOF'
write: the writer's write system calls (kernel); seal: Go's gcm.seal, or all of
libcrypto; record: crypto/tls's other record code; libssl, libc (copies,
OpenSSL's parameter lookups, malloc): the writer's, as the reader is Go;
engine: nodetls's own Go code (cgo step, locks, pools, flush).
EOF
