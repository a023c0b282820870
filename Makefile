# Two commands on a fresh clone: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTO := protos/linas/agent/v1/agent.proto

.PHONY: demo test lint protos agent-only agent-tflite-runtime agent-py310 test-arm64 arm64-agent \
	browser bench constraints clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/linas demo

test: $(STAMP) lint agent-only browser test-arm64
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Regenerate the gRPC stubs from the .proto (tests/test_protos.py checks they are current).
protos: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -Ilinas_sdk/proto=protos/linas \
		--python_out=. --pyi_out=. --grpc_python_out=. linas_sdk/proto/agent/v1/agent.proto

# The board profile installs and serves on its own: no torch, pymoo or lightgbm; a host command
# there says which extra it needs.
agent-only:
	rm -rf .venv-agent
	$(PYTHON) -m venv .venv-agent
	.venv-agent/bin/pip install -q -c constraints.txt '.[agent]'
	.venv-agent/bin/linas agent selftest
	! .venv-agent/bin/linas search examples/mobilenetv3-local.yaml 2> .venv-agent/search.err
	grep "needs the 'host' extra" .venv-agent/search.err

# The agent on arm64 (Raspberry Pi OS's Debian bookworm) under qemu-user emulation: a root built
# once under .cache/arm64 (needs root), the selftest inside, and the x86 host against the agent
# served from it. Latency under emulation means nothing; install, protocol and isolation do.
test-arm64: $(STAMP)
	deploy/arm64/test.sh

# Serve that agent on 127.0.0.1:$(PORT) in the foreground, for anyone to probe.
PORT ?= 50051
arm64-agent:
	deploy/arm64/root.sh
	deploy/arm64/chroot.sh linas agent serve --host 127.0.0.1 --port $(PORT) --name arm64 \
		--label board=arm64-emulated --cache-dir /var/cache/linas

# The end-to-end tests open the HTML report in Debian's headless Chromium.
browser:
	@command -v chromium >/dev/null || { \
		[ "$$(id -u)" = 0 ] || { echo "make test needs Debian's chromium: sudo apt-get install -y chromium"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

bench: $(STAMP)
	$(BIN)/python benchmarks/search_efficiency.py
	$(BIN)/python benchmarks/predictor_ranking.py
	$(BIN)/python benchmarks/agent_overhead.py
	$(BIN)/python benchmarks/agent_load.py
	$(BIN)/python benchmarks/transformer_ends.py
	$(BIN)/python benchmarks/mobilenetv3_ends.py
	$(BIN)/python benchmarks/supernet_efficiency.py

constraints: $(STAMP)
	$(BIN)/pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.new && mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) .venv-agent .venv-tflite .venv-py310 runs .cache
