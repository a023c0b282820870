"""Models bundled with the agent: tiny_mlp.onnx and its validation set, for `linas agent selftest`
(made by tests/agent/models/make_models.py)."""
