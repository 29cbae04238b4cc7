#!/bin/sh
# openssl-check.sh [--static]: is the system OpenSSL (libssl + libcrypto, 3.0 or
# newer, with headers) there for cgo? On success it prints the version and the
# pkg-config flags cgo will use and exits 0. Otherwise it names the package to
# install and exits 1.
#
# --static also requires the archives libssl.a and libcrypto.a (make build-static).
set -u

MIN=3.0.0
static=
case ${1-} in
  --static) static=1 ;;
  "") ;;
  *) echo "usage: $0 [--static]" >&2; exit 2 ;;
esac
PKG_CONFIG=${NODETLS_REAL_PKG_CONFIG:-pkg-config}

# install names the package(s) that provide what is missing, per distribution.
install() {
  echo "  Debian/Ubuntu: apt-get install $1" >&2
  echo "  Fedora/RHEL:   dnf install $2" >&2
  echo "  Alpine:        apk add $3" >&2
}

if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
  echo "openssl-check: pkg-config is not installed; nodetls finds OpenSSL with it. Install pkg-config and the OpenSSL headers:" >&2
  install "pkg-config libssl-dev" "pkgconf-pkg-config openssl-devel" "pkgconf openssl-dev"
  exit 1
fi

if ! "$PKG_CONFIG" --exists libssl libcrypto; then
  echo "openssl-check: OpenSSL development files (libssl.pc, libcrypto.pc, headers) not found by pkg-config. Install libssl-dev (OpenSSL >= $MIN):" >&2
  install libssl-dev openssl-devel openssl-dev
  exit 1
fi

version=$("$PKG_CONFIG" --modversion libssl)
if ! "$PKG_CONFIG" --atleast-version="$MIN" libssl libcrypto; then
  echo "openssl-check: OpenSSL $version found, nodetls needs $MIN or newer. Install libssl-dev from a release that ships OpenSSL 3 (Debian 12, Ubuntu 22.04 or newer):" >&2
  install libssl-dev openssl-devel openssl-dev
  exit 1
fi

if [ -n "$static" ]; then
  libdir=$("$PKG_CONFIG" --variable=libdir libssl)
  for a in libssl.a libcrypto.a; do
    if [ ! -f "$libdir/$a" ]; then
      echo "openssl-check: $libdir/$a not found; a static build needs OpenSSL's static archives:" >&2
      echo "  Debian/Ubuntu: apt-get install libssl-dev (it ships libssl.a and libcrypto.a)" >&2
      echo "  Alpine:        apk add openssl-libs-static" >&2
      exit 1
    fi
  done
fi

echo "OpenSSL $version (libssl, libcrypto >= $MIN)"
if [ -n "$static" ]; then
  echo "pkg-config --static --cflags --libs libssl libcrypto: $("$PKG_CONFIG" --static --cflags --libs libssl libcrypto)"
  echo "archives: $libdir/libssl.a $libdir/libcrypto.a"
else
  echo "pkg-config --cflags --libs libssl libcrypto: $("$PKG_CONFIG" --cflags --libs libssl libcrypto)"
fi
