"""Models bundled with the agent: the tiny MLP as ONNX and TFLite and its validation set, for
`linas agent selftest` and the worker's warm-up; both quantized static and dynamic, which the
worker runs to find the runtimes' int8 kernels (linas_agent.int8). Made by
tests/agent/models/make_models.py."""
