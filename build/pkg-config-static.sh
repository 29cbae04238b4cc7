#!/bin/sh
# A pkg-config for static OpenSSL: `make build-static` runs the Go build with
# PKG_CONFIG pointing here. It answers as the real pkg-config with --static and
# names the archives, so the link takes libssl.a / libcrypto.a even where the
# shared libraries are installed next to them (Debian's libssl-dev ships both).
# glibc stays dynamic.
set -e
out=$("${NODETLS_REAL_PKG_CONFIG:-pkg-config}" --static "$@")
for arg; do
  case $arg in
    --libs)
      out=$(printf '%s\n' "$out" | sed -e 's/\(^\| \)-lssl\( \|$\)/\1-l:libssl.a\2/g' \
                                       -e 's/\(^\| \)-lcrypto\( \|$\)/\1-l:libcrypto.a\2/g') ;;
  esac
done
printf '%s\n' "$out"
