# nodetls — Node's node:tls API for Go, on the system OpenSSL.
GO        ?= go
BIN       ?= bin
PKGS      ?= ./...
TESTFLAGS ?= -race -timeout 40m
FUZZTIME  ?= 30s

.PHONY: all build build-static docker-build test vet demo bench fuzz lint clean

all: build

build:
	$(GO) build -o $(BIN)/nodetls ./cmd/nodetls

# nodetls with libssl and libcrypto linked statically (glibc stays dynamic):
# it runs where libssl3 is not installed. build/pkg-config-static.sh hands cgo
# the archives; the -D only gives the cgo packages their own build-cache
# entries (the cache key does not include pkg-config's answer).
# FULLY_STATIC=1 links glibc statically too (see README: getaddrinfo/NSS).
STATIC_LDFLAGS = $(if $(FULLY_STATIC),-linkmode external -extldflags -static)
STATIC_TAGS    = $(if $(FULLY_STATIC),netgo osusergo)
build-static:
	@build/openssl-check.sh --static
	CGO_CFLAGS="$$($(GO) env CGO_CFLAGS) -DNODETLS_STATIC_OPENSSL" PKG_CONFIG=$(CURDIR)/build/pkg-config-static.sh \
		$(GO) build -tags '$(STATIC_TAGS)' -ldflags '$(STATIC_LDFLAGS)' -o $(BIN)/static/nodetls ./cmd/nodetls
	@ldd $(BIN)/static/nodetls || true

# The build image: docker when an engine answers, else the proof without one.
docker-build:
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
		echo "docker build -f Dockerfile.build -t nodetls ."; docker build -f Dockerfile.build -t nodetls .; \
	else \
		echo "no Docker engine answers: proving Dockerfile.build with build/docker-check.sh"; build/docker-check.sh; \
	fi

vet:
	$(GO) vet $(PKGS)

# The README's test command: vet, then every test with the race detector.
test: vet
	$(GO) test $(TESTFLAGS) $(PKGS)

demo: build
	$(BIN)/nodetls demo

bench:
	cd bench && $(GO) run . $(BENCHFLAGS)

# Every fuzz target of FUZZPKGS, FUZZTIME each (their seeds also run in make test).
FUZZPKGS ?= ./openssl ./tls
fuzz:
	@n=0; for p in $(FUZZPKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do n=$$((n+1)); \
			echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; done; \
	done; if [ $$n -eq 0 ]; then echo "no fuzz targets in $(FUZZPKGS)"; exit 1; fi

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@bad=$$(git grep -l '^import "C"' -- '*.go' | grep -v '^cbridge/' || true); if [ -n "$$bad" ]; then echo "import \"C\" outside cbridge/: $$bad"; exit 1; fi
	@bad=$$(git grep -l '"unsafe"' -- '*.go' | grep -v '^cbridge/' || true); if [ -n "$$bad" ]; then echo "unsafe outside cbridge/: $$bad"; exit 1; fi

clean:
	rm -rf $(BIN)
