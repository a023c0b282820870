"""Models bundled with the agent: the tiny MLP as ONNX and TFLite and its validation set, for
`linas agent selftest` and the worker's warm-up; the TFLite one quantized to full integer and to
dynamic range, which the worker runs to find LiteRT's int8 kernels (linas_agent.int8). Made by
tests/agent/models/make_models.py."""
