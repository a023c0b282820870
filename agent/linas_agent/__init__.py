"""linas_agent: the on-device profiling agent (`linas agent serve`).

It serves the wire contract of protos/linas/agent/v1/agent.proto: describes the board,
holds uploaded artifacts by hash, and measures one model at a time, each in a process forked
from a warm worker. `launch.start()` assembles one; docs/agent.md describes it. Only the
`agent` extra is needed (numpy, grpcio, onnxruntime; LiteRT optional): never torch or the host.
"""
