# Two commands on a fresh clone: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTO := protos/linas/agent/v1/agent.proto

.PHONY: demo test lint protos agent-only agent-tflite-runtime agent-py310 agent-onnxruntime-gpu \
	test-arm64 arm64-agent \
	browser bench constraints clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/linas demo

test: $(STAMP) lint agent-only agent-tflite-runtime agent-py310 agent-onnxruntime-gpu browser \
	test-arm64
	$(BIN)/python -m pytest -n 2 --dist worksteal

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

# The LiteRT fallback for real: tflite-runtime 2.14 and no ai-edge-litert, named in the manifest
# and measuring the selftest's .tflite. Its wheels are built against numpy 1.x, so this venv's
# constraints swap the numpy pin for 1.26.4. (There is no aarch64 wheel of it for Python 3.11, so
# the arm64 root cannot have it: docs/raspberry-pi-5.md.)
TFLITE_RUNTIME_PINS := numpy==1.26.4 tflite-runtime==2.14.0
agent-tflite-runtime:
	rm -rf .venv-tflite
	$(PYTHON) -m venv .venv-tflite
	{ grep -v '^numpy==' constraints.txt; printf '%s\n' $(TFLITE_RUNTIME_PINS); } \
		> .venv-tflite/constraints.txt
	.venv-tflite/bin/pip install -q -c .venv-tflite/constraints.txt '.[agent,tflite-runtime]'
	! .venv-tflite/bin/python -c 'import ai_edge_litert' 2>/dev/null
	.venv-tflite/bin/linas agent selftest | tee .venv-tflite/selftest.out
	grep -q "selftest passed" .venv-tflite/selftest.out
	grep -q "litert 2.14.0 (tflite_runtime.interpreter)" .venv-tflite/selftest.out
	grep -q "tiny MLP on litert" .venv-tflite/selftest.out

# JetPack 6's Python: an .[agent] venv on 3.10 runs the selftest. Where a pin's release dropped
# 3.10, constraints.txt holds a second pin for it under a python_version marker.
# pyenv's 3.10 where there is one (its shim on PATH runs only when 3.10 is selected), else PATH's.
PYTHON310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) python3.10)
agent-py310:
	@$(PYTHON310) -c '' 2>/dev/null || { echo "agent-py310 needs Python 3.10 ($(PYTHON310)): pyenv install 3.10"; exit 1; }
	rm -rf .venv-py310
	$(PYTHON310) -m venv .venv-py310
	.venv-py310/bin/pip install -q -c constraints.txt '.[agent]'
	.venv-py310/bin/linas agent selftest | tee .venv-py310/selftest.out
	grep -q "selftest passed" .venv-py310/selftest.out
	.venv-py310/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'

# A Jetson's install (docs/jetson-orin.md): the core and onnxruntime-gpu, not the agent extra.
# Here, without CUDA's libraries, that build lists CUDA and TensorRT but runs on the CPU: the
# selftest asks each of them and the agent must say the CPU ran the model instead.
ONNXRUNTIME_GPU_PIN := onnxruntime-gpu==1.31.1
agent-onnxruntime-gpu:
	rm -rf .venv-ort-gpu
	$(PYTHON) -m venv .venv-ort-gpu
	.venv-ort-gpu/bin/pip install -q -c constraints.txt . $(ONNXRUNTIME_GPU_PIN)
	.venv-ort-gpu/bin/linas agent selftest 2>/dev/null | tee .venv-ort-gpu/selftest.out
	grep -q "selftest passed" .venv-ort-gpu/selftest.out
	grep -q "tiny MLP asked of CUDAExecutionProvider: CPUExecutionProvider ran it" \
		.venv-ort-gpu/selftest.out
	grep -q "warning: CUDAExecutionProvider could not start, so CPUExecutionProvider ran" \
		.venv-ort-gpu/selftest.out

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

# Freeze the pins, keeping the header comments and each package's Python 3.10 pin
# (python_version < "3.11").
constraints: $(STAMP)
	$(BIN)/pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.new
	awk -F'==' 'NR == FNR { if (/^#/) print; if (/python_version < "3.11"/) old[$$1] = $$0; next } \
		$$1 in old { print $$0 "; python_version >= \"3.11\""; print old[$$1]; next } 1' \
		constraints.txt constraints.new > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm constraints.new

clean:
	rm -rf $(VENV) .venv-agent .venv-tflite .venv-py310 runs .cache
