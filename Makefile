# nodetls — Node's node:tls API for Go, on the system OpenSSL.
GO        ?= go
BIN       ?= bin
PKGS      ?= ./...
TESTFLAGS ?= -race -timeout 40m
FUZZTIME  ?= 30s

.PHONY: all build test vet demo bench fuzz lint clean

all: build

build:
	$(GO) build -o $(BIN)/nodetls ./cmd/nodetls

vet:
	$(GO) vet $(PKGS)

# The README's test command: vet, then every test with the race detector.
test: vet
	$(GO) test $(TESTFLAGS) $(PKGS)

demo: build
	$(BIN)/nodetls demo

bench:
	cd bench && $(GO) run . $(BENCHFLAGS)

fuzz:
	@for f in $$($(GO) test -list 'Fuzz.*' ./openssl | grep ^Fuzz); do \
		echo "== $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./openssl || exit 1; done

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@bad=$$(git grep -l '^import "C"' -- '*.go' | grep -v '^cbridge/' || true); if [ -n "$$bad" ]; then echo "import \"C\" outside cbridge/: $$bad"; exit 1; fi
	@bad=$$(git grep -l '"unsafe"' -- '*.go' | grep -v '^cbridge/' || true); if [ -n "$$bad" ]; then echo "unsafe outside cbridge/: $$bad"; exit 1; fi

clean:
	rm -rf $(BIN)
