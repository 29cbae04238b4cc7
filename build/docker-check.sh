#!/usr/bin/env bash
# docker-check.sh: prove Dockerfile.build on a machine without a Docker engine
# (shared/reference/dockerfile-check.md), with Debian's buildah and stand-in
# base images made here (no registry is needed):
#
#   1. debian:bookworm-slim and golang:GO_VERSION-bookworm stand-ins, made with
#      debootstrap from the apt mirror this machine uses and the host's Go tree;
#   2. build/openssl-check.sh in the stand-ins, before libssl-dev is installed:
#      it must fail and name the package to install;
#   3. the image build, unchanged: Dockerfile.build's `make test` runs the
#      whole test suite inside it, so a failing test fails this check;
#   4. the image: entry point `nodetls`, libssl3 linked, `nodetls ciphers -v`
#      prints what `openssl ciphers -v` prints;
#   5. `make build-static` (on this machine): no libssl/libcrypto in `ldd`, and
#      in the slim stand-in with libssl3 removed it runs `ciphers -v` and
#      `demo` (build/demo-check.sh, answered by `openssl s_client`).
#
# Exit: 0 proved; 1 a check failed; 3 not enough free disk.
# Needs root (debootstrap, buildah), about 6 GB of disk and 5-6 minutes.
# Everything is made in one temporary directory and removed at the end.
#
# Environment:
#   NODETLS_REQUIRE_DEMO=1   a binary without the demo verb fails the check
#                            (otherwise: a loud "demo check NOT run" and exit 0)
#   NODETLS_DOCKER_CHECK_DIR where to make the temporary directory (/var/tmp)
#   NODETLS_DOCKER_CHECK_GB  free disk required, in GB (6)
#   NODETLS_DOCKER_CHECK_LOG where the image build's full log is kept
#                            (${TMPDIR:-/tmp}/nodetls-docker-check-bud.log)
set -euo pipefail
cd "$(dirname "$0")/.."

need_gb=${NODETLS_DOCKER_CHECK_GB:-6}
parent=${NODETLS_DOCKER_CHECK_DIR:-/var/tmp}
log=${NODETLS_DOCKER_CHECK_LOG:-${TMPDIR:-/tmp}/nodetls-docker-check-bud.log}
start=$SECONDS

say() { printf '\n== %s  [%ds]\n' "$*" $((SECONDS - start)); }
die() { printf 'docker-check: FAIL: %s\n' "$*" >&2; exit 1; }

# --- 0. preconditions ------------------------------------------------------
mkdir -p "$parent"
avail_kb=$(df -Pk "$parent" | awk 'NR==2 {print $4}')
if [ "$avail_kb" -lt $((need_gb * 1024 * 1024)) ]; then
  echo "docker-check: only $((avail_kb / 1024 / 1024)) GB free under $parent, need $need_gb GB (NODETLS_DOCKER_CHECK_DIR picks another place)" >&2
  exit 3
fi
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap and buildah's chroot isolation)"

go_version=$(sed -n 's/^ARG GO_VERSION=//p' Dockerfile.build)
host_go=$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')
[ -n "$go_version" ] || die "Dockerfile.build has no 'ARG GO_VERSION=' default"
[ "$host_go" = "$go_version" ] || die "the golang stand-in is made from this machine's Go ($host_go), but Dockerfile.build wants $go_version"
command -v openssl >/dev/null || die "openssl (the CLI) is needed on this machine"

missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

work=$(mktemp -d "$parent/nodetls-docker-check.XXXXXX")
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
cleanup() {
  rc=$?
  if [ -d "$work" ]; then
    "${B[@]}" rm -a >/dev/null 2>&1 || true
    "${B[@]}" rmi -a -f >/dev/null 2>&1 || true
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "docker-check: working in $work ($((avail_kb / 1024 / 1024)) GB free)"

# run IMAGE CMD...: run CMD in a new container of IMAGE.
run() {
  local c rc=0
  c=$("${B[@]}" from --pull=never -q "$1")
  shift
  "${B[@]}" run --isolation chroot "$c" -- "$@" || rc=$?
  "${B[@]}" rm "$c" >/dev/null
  return $rc
}

# --- 1. stand-in base images -------------------------------------------------
say "stand-in debian:bookworm-slim (debootstrap minbase)"
# The mirror apt uses here (never a written host name).
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
# apt inside the images sees what apt here sees (-updates, -security).
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  rm -f "$work/rootfs/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$work/rootfs/etc/apt/sources.list.d/"
fi
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
mkdir -p "$work/ctx"
tar -C "$work/rootfs" -cf "$work/ctx/rootfs.tar" .
rm -rf "$work/rootfs"
printf 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n' >"$work/ctx/Containerfile"
"${B[@]}" bud -q --isolation chroot -f "$work/ctx/Containerfile" \
  -t docker.io/library/debian:bookworm-slim "$work/ctx" >/dev/null
rm -rf "$work/ctx"

golang=docker.io/library/golang:$go_version-bookworm
say "stand-in $golang (the slim stand-in + Go $(go env GOVERSION) from $(go env GOROOT) + gcc, make, pkg-config, git, curl)"
c=$("${B[@]}" from --pull=never -q docker.io/library/debian:bookworm-slim)
# The host's local CAs, so that HTTPS (the Go module proxy, npm) works inside;
# they belong to the stand-in, never to Dockerfile.build.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  "${B[@]}" copy "$c" /usr/local/share/ca-certificates/ /usr/local/share/ca-certificates/ >/dev/null
fi
"${B[@]}" run --isolation chroot "$c" -- sh -c 'apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends gcc g++ libc6-dev make pkg-config git ca-certificates curl wget netbase >/dev/null && rm -rf /var/lib/apt/lists/*' ||
  die "installing the golang stand-in's packages failed"
"${B[@]}" copy "$c" "$(go env GOROOT)" /usr/local/go >/dev/null
"${B[@]}" config --env GOTOOLCHAIN=local --env GOPATH=/go \
  --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --workingdir /go "$c"
"${B[@]}" commit -q --rm "$c" "$golang" >/dev/null
"${B[@]}" images

# --- 2. openssl-check.sh before libssl-dev -----------------------------------
for img in docker.io/library/debian:bookworm-slim "$golang"; do
  say "build/openssl-check.sh in $img, before libssl-dev is installed (must fail and name the package)"
  c=$("${B[@]}" from --pull=never -q "$img")
  "${B[@]}" copy "$c" build/openssl-check.sh /openssl-check.sh >/dev/null
  rc=0
  out=$("${B[@]}" run --isolation chroot "$c" -- /openssl-check.sh 2>&1) || rc=$?
  "${B[@]}" rm "$c" >/dev/null
  printf '%s\n(exit %d)\n' "$out" "$rc"
  [ "$rc" -ne 0 ] || die "openssl-check.sh passed in $img without libssl-dev"
  grep -q 'apt-get install .*libssl-dev' <<<"$out" || die "openssl-check.sh did not name libssl-dev"
done

# --- 3. the image build ----------------------------------------------------
say "buildah bud -f Dockerfile.build (builds, runs make test inside, makes the runtime image)"
t0=$SECONDS
rc=0
"${B[@]}" bud --isolation chroot --pull=never -f Dockerfile.build -t localhost/nodetls:check . \
  >"$log" 2>&1 || rc=$?
bud_time=$((SECONDS - t0))
echo "--- the tests inside the image:"
grep -E '^(ok|FAIL|---|\?) ' "$log" || true
echo "--- last lines of the image build (exit $rc, $((bud_time / 60))m$((bud_time % 60))s; full log: $log):"
tail -25 "$log"
if [ "$rc" -ne 0 ]; then
  echo "--- failures in the build log:"
  grep -E -e '--- FAIL|^FAIL|panic:|error:' "$log" | head -40 || true
  die "the image build failed (exit $rc)"
fi

# --- 4. the image ----------------------------------------------------------
say "the image: entry point, libraries, nodetls ciphers -v"
entry=$("${B[@]}" inspect --format '{{.OCIv1.Config.Entrypoint}}' localhost/nodetls:check)
echo "entrypoint: $entry"
[ "$entry" = '[nodetls]' ] || die "the entry point is $entry, want [nodetls]"
"${B[@]}" images localhost/nodetls:check
run localhost/nodetls:check ldd /usr/local/bin/nodetls | tee "$work/ldd-image.txt"
grep -q 'libssl.so.3 => /' "$work/ldd-image.txt" || die "the image's nodetls is not linked with libssl3"
! grep -q 'not found' "$work/ldd-image.txt" || die "the image lacks a library"
# The oracle is `openssl ciphers -v` on the same libssl3: the openssl CLI is
# added to a throwaway container of the image (the image itself has none).
# shellcheck disable=SC2016 # expanded inside the container
run localhost/nodetls:check sh -c 'apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends openssl >/dev/null 2>&1 &&
  openssl version && openssl ciphers -v >/tmp/want && nodetls ciphers -v >/tmp/got &&
  diff /tmp/want /tmp/got && echo "nodetls ciphers -v in the image = openssl ciphers -v on its libssl3 ($(wc -l </tmp/got) lines)"' ||
  die "the image's 'nodetls ciphers -v' does not print what 'openssl ciphers -v' prints"

# --- 5. the static binary in the slim stand-in without libssl3 ---------------
say "make build-static; run it in the slim stand-in with libssl3 removed"
make --no-print-directory build-static BIN="$work/bin"
ldd "$work/bin/static/nodetls" >"$work/ldd-static.txt"
! grep -Eq 'libssl|libcrypto' "$work/ldd-static.txt" || die "the static binary still links libssl/libcrypto dynamically"
c=$("${B[@]}" from --pull=never -q docker.io/library/debian:bookworm-slim)
"${B[@]}" copy --chmod 0755 "$c" "$work/bin/static/nodetls" /usr/local/bin/nodetls >/dev/null
# shellcheck disable=SC2016 # expanded inside the container
"${B[@]}" run --isolation chroot "$c" -- sh -c '
  if dpkg-query -W -f="\${Status}" libssl3 2>/dev/null | grep -q "ok installed"; then
    dpkg --purge --force-depends libssl3 >/dev/null 2>&1
    echo "libssl3 removed"
  else
    echo "libssl3 is not installed in the slim stand-in"
  fi
  if ls /usr/lib/*/libssl.so* /usr/lib/*/libcrypto.so* 2>/dev/null; then exit 1; fi
  echo "no libssl.so / libcrypto.so in the image"; ldd /usr/local/bin/nodetls' ||
  die "libssl3 is still present in the slim stand-in"
"${B[@]}" run --isolation chroot "$c" -- nodetls ciphers -v >"$work/ciphers-static.txt" ||
  die "the static nodetls ciphers -v failed in the slim stand-in"
openssl ciphers -v >"$work/ciphers-host.txt"
diff "$work/ciphers-host.txt" "$work/ciphers-static.txt" ||
  die "the static 'nodetls ciphers -v' differs from 'openssl ciphers -v'"
echo "static nodetls ciphers -v without libssl3 = openssl ciphers -v here, $(openssl version | cut -d' ' -f1-2) ($(wc -l <"$work/ciphers-static.txt") lines)"

say "demo: the static binary in the slim stand-in, answered by openssl s_client"
demo=ran
rc=0
# timeout: the server in the container ends even if a signal does not reach it.
build/demo-check.sh "${B[@]}" run --isolation chroot "$c" -- timeout 60 nodetls || rc=$?
case $rc in
  0) ;;
  2)
    demo="NOT run (this nodetls has no demo verb)"
    if [ "${NODETLS_REQUIRE_DEMO:-}" = 1 ]; then die "NODETLS_REQUIRE_DEMO=1 and the demo verb is not present"; fi
    echo "docker-check: !!! demo verb not present: demo check NOT run (NODETLS_REQUIRE_DEMO=1 makes this fatal) !!!" >&2 ;;
  *) die "the demo check failed" ;;
esac
"${B[@]}" rm "$c" >/dev/null

say "docker-check: Dockerfile.build proved (image build ${bud_time}s, demo check: $demo)"
