#!/usr/bin/env bash
# demo-check.sh NODETLS...: smoke-test `nodetls demo` as a user would try it.
# NODETLS is the command that runs nodetls, with any prefix, e.g.
#   build/demo-check.sh bin/nodetls
#   build/demo-check.sh buildah run --isolation chroot CONTAINER -- /usr/local/bin/nodetls
# It starts `NODETLS demo --host 127.0.0.1 --port P` on a free port, waits for
# "server bound", connects with `openssl s_client` (from the machine running
# this script), and expects the server's "welcome!" and the echo of a line.
#
# Exit: 0 passed; 1 failed; 2 this nodetls has no demo verb (said loudly; the
# caller decides whether that is fatal).
set -uo pipefail

if [ "${1-}" = "--" ]; then shift; fi
if [ $# -eq 0 ]; then
  echo "usage: $0 NODETLS-COMMAND..." >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "demo-check: openssl (the CLI) is required" >&2; exit 1; }

# Is there a demo verb? The usage lists the verbs, one per line. The usage is
# read whole before grep looks at it: grep -q stops at the first match, and a
# command still writing to the pipe would then fail with EPIPE, which
# pipefail would report as "no demo verb".
usage=$("$@" help 2>&1)
if ! grep -Eq '^[[:space:]]+demo([[:space:]]|$)' <<<"$usage"; then
  echo "demo-check: !!! demo verb not present: demo check NOT run !!!" >&2
  exit 2
fi

tmp=$(mktemp -d)
pid=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  # Through `buildah run` the demo is not $pid but a process in the
  # container, which outlives it: end it by its command line.
  if [ -n "$port" ] && command -v pkill >/dev/null; then
    pkill -f -- "demo --host 127.0.0.1 --port $port\$" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A free port: one that nobody answers on.
port=
for p in $(shuf -i 20000-60000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "demo-check: no free port found" >&2; exit 1; }

"$@" demo --host 127.0.0.1 --port "$port" >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
for _ in $(seq 1 300); do
  grep -q 'server bound' "$tmp/server.out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q 'server bound' "$tmp/server.out"; then
  echo "demo-check: FAIL: the demo did not print 'server bound'" >&2
  cat "$tmp/server.out" "$tmp/server.err" >&2
  exit 1
fi

line="hello from s_client $$"
# s_client ends when its stdin ends; the sleeps give the handshake and the echo time.
{ sleep 2; printf '%s\n' "$line"; sleep 2; } |
  timeout 20 openssl s_client -connect "127.0.0.1:$port" -servername localhost >"$tmp/client.out" 2>"$tmp/client.err"
rc=$?

fail=
grep -qx 'welcome!' "$tmp/client.out" || fail="no 'welcome!' line from the server"
[ -z "$fail" ] && { grep -qxF "$line" "$tmp/client.out" || fail="the line sent was not echoed"; }
[ -z "$fail" ] && { grep -q 'server connected' "$tmp/server.out" || fail="the server did not print 'server connected ...'"; }
if [ -n "$fail" ]; then
  echo "demo-check: FAIL: $fail (s_client exit $rc)" >&2
  echo "--- server stdout/stderr" >&2; cat "$tmp/server.out" "$tmp/server.err" >&2
  echo "--- s_client stdout/stderr" >&2; cat "$tmp/client.out" "$tmp/client.err" >&2
  exit 1
fi
echo "demo-check: ok: openssl s_client got 'welcome!' and its echo from nodetls demo on 127.0.0.1:$port"
grep -E '^(Protocol|    Protocol|    Cipher|New, )' "$tmp/client.out" | head -3 | sed 's/^ */  /'
grep 'server connected' "$tmp/server.out" | head -1 | sed 's/^/  server: /'
exit 0
