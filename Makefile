# vigil — the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
BIN     ?= bin
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Smaller binaries for the gateways: no symbol table or DWARF.
LDFLAGS := -s -w -X main.version=$(VERSION)
# Every shipped binary is static: no cgo. Only the -race test run uses cgo.
export CGO_ENABLED := 0
# The agent leaves HTTP/2 out (tools/release.AgentTags says why).
AGENT_TAGS := nethttpomithttp2

.PHONY: all build cross demo demo-modbus test test-arm vet generate-check deps bench bce fuzz clean release deb budgets

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/vigil ./tools/cmd/vigil
	$(GO) build -trimpath -tags $(AGENT_TAGS) -ldflags '$(LDFLAGS)' -o $(BIN)/vigil-agent ./agent/cmd/vigil-agent

# Static binaries for the gateways: Pi Zero/1 (armv6), Pi 2/3 (armv7),
# 64-bit Pi OS (arm64).
cross:
	GOOS=linux GOARCH=arm GOARM=6 $(GO) build -trimpath -tags $(AGENT_TAGS) -ldflags '$(LDFLAGS)' -o $(BIN)/linux-armv6/ ./agent/cmd/vigil-agent
	GOOS=linux GOARCH=arm GOARM=6 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-armv6/ ./tools/cmd/vigil
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -tags $(AGENT_TAGS) -ldflags '$(LDFLAGS)' -o $(BIN)/linux-armv7/ ./agent/cmd/vigil-agent
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-armv7/ ./tools/cmd/vigil
	GOOS=linux GOARCH=arm64 $(GO) build -trimpath -tags $(AGENT_TAGS) -ldflags '$(LDFLAGS)' -o $(BIN)/linux-arm64/ ./agent/cmd/vigil-agent
	GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-arm64/ ./tools/cmd/vigil

# Release binaries in $(DIST)/ (tools/release/cmd/release): vigil-agent and
# vigil for linux armv6/armv7/arm64/amd64, vigil also for darwin/arm64 and
# windows/amd64, static, -trimpath, stripped, named
# <program>_<version>_<os>_<arch>, and SHA256SUMS.
DIST ?= dist
release:
	$(GO) run ./tools/release/cmd/release -version '$(VERSION)' -out $(DIST)

# The vigil-agent Debian packages in $(DIST)/, made with nfpm as a library
# (tools/release/cmd/mkdeb, tools/release/packaging/): armhf (the ARMv6
# build: Raspberry Pi OS's armhf is ARMv6), arm64, amd64. SHA256SUMS is
# rewritten to cover them.
deb: release
	$(GO) run ./tools/release/cmd/mkdeb -version '$(VERSION)' -dist $(DIST)

# The agent's budgets: stripped size per ARM target (6 MB), peak RSS at
# 100 Hz with the demo model (10 MB), start to first score (1 s), the armv6
# build on an emulated ARM1176. Prints a table; fails if one is missed.
budgets:
	$(GO) run ./tools/release/cmd/budgets

# Trains a model on simulated pump data, starts an embedded broker, the
# simulator on a pseudo-terminal, the agent on that terminal and a watcher;
# faults are injected from 20 s on. Ctrl-C stops everything.
demo: build
	BIN=$(BIN) ./examples/demo/demo.sh

# The same demo with the pump read over Modbus RTU on a pseudo-terminal
# (the simulator is the slave, the agent polls its registers);
# DEMO_MODBUS=tcp for Modbus TCP.
DEMO_MODBUS ?= rtu
demo-modbus: build
	DEMO_MODBUS=$(DEMO_MODBUS) BIN=$(BIN) ./examples/demo/demo.sh

# Installs (as root) or names the Debian packages the tests need, then vets,
# checks generated code and runs every test under the race detector.
test: deps vet generate-check cross test-arm
	$(GO) test -count=1 -tags purego ./infer/... ./firmware/...
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) fuzz FUZZTIME=5000x

# The model path's tests (golden scores included) on the gateways' CPUs,
# under qemu user emulation. qemu's default ARM CPU accepts ARMv7
# instructions, so armv6 runs as an ARM1176 (the Pi Zero's core).
ARM_PKGS := ./infer/... ./firmware/...
test-arm:
	VIGIL_TEST_EXEC=qemu-aarch64-static GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static $(ARM_PKGS)
	VIGIL_TEST_EXEC=qemu-arm-static GOARCH=arm GOARM=7 $(GO) test -count=1 -exec qemu-arm-static $(ARM_PKGS)
	VIGIL_TEST_EXEC=qemu-arm-static QEMU_CPU=arm1176 GOARCH=arm GOARM=6 $(GO) test -count=1 -exec qemu-arm-static $(ARM_PKGS)

deps:
	./.ci/deps

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

# `go generate` must reproduce the committed generated code byte for byte.
generate-check:
	@tmp=$$(mktemp -d) && cp firmware/schema_gen.go firmware/schema_gen_test.go $$tmp/ && \
	$(GO) generate ./firmware/ && \
	if ! cmp -s $$tmp/schema_gen.go firmware/schema_gen.go || ! cmp -s $$tmp/schema_gen_test.go firmware/schema_gen_test.go; then \
		echo "firmware: go generate changed the generated code; commit the regenerated files"; \
		cp $$tmp/* firmware/; rm -rf $$tmp; exit 1; fi; rm -rf $$tmp

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./infer/... ./sensors/... ./agent/...

# Build-time check that the Go kernels' bounds checks are hoisted out of
# their loops (prints any check the compiler leaves in).
bce:
	$(GO) build -gcflags=-d=ssa/check_bce ./infer/ 2>&1 | grep -E 'kernel.go|dense.go|quant.go|half.go' || true

# Runs each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./firmware/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./sensors/csvline/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./sensors/kvline/
	$(GO) test -run '^$$' -fuzz FuzzDense -fuzztime $(FUZZTIME) ./infer/
	$(GO) test -run '^$$' -fuzz FuzzConv -fuzztime $(FUZZTIME) ./infer/
	$(GO) test -run '^$$' -fuzz FuzzDecider -fuzztime $(FUZZTIME) ./infer/decide/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./agent/config/
	$(GO) test -run '^$$' -fuzz FuzzDecodeRecord -fuzzminimizetime 5s -fuzztime $(FUZZTIME) ./agent/outbox/
	$(GO) test -run '^$$' -fuzz FuzzPrintMessage -fuzztime $(FUZZTIME) ./tools/cli/
	$(GO) test -run '^$$' -fuzz FuzzDecodeResponse -fuzztime $(FUZZTIME) ./sensors/modbus/
	$(GO) test -run '^$$' -fuzz FuzzRTUFrame -fuzztime $(FUZZTIME) ./sensors/modbus/
	$(GO) test -run '^$$' -fuzz FuzzAppendLine -fuzztime $(FUZZTIME) ./sensors/csvline/
	$(GO) test -run '^$$' -fuzz FuzzNAB -fuzztime $(FUZZTIME) ./tools/eval/

clean:
	rm -rf $(BIN) .demo $(DIST)
