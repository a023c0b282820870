"""The exported translation workload as ONNX, built from two traces instead of one.

The workload (`unrolled_greedy`) is `steps` source tokens encoded, then `steps` target tokens
decoded greedily, unrolled, with no data-dependent stop. Tracing it whole costs time in
proportion to its graph, which repeats the decoder `steps` times (4k to 18k nodes for the demo's
ends: 1.7 to 9.2 s of export). So the encoder and ONE decoder step (a prefix of any length in,
the prefix plus its greedy next token out) are traced once each, and the step's nodes are
copied `steps` times at the ONNX level under new value names, their weights shared. The
encoder's outputs are the decoder's memory (`TransformerNet.encode`): each decoder layer's
cross-attention keys and values of the source, projected once, which every step reads; each
step reruns the decoder over its prefix (no cache of the self-attention keys and values). The
file holds the same unrolled computation as the whole trace, and the same matrix products as
`transformer_cost` counts, and gives the same outputs; each copy's prefix length is fixed by the
chain, so onnxruntime resolves its shapes as it did for the traced graph. docs/transformer.md
gives the figures, and why an ONNX ``Loop`` over the step was not kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

from linas_host.export.onnx import trace
from linas_host.supernets.transformer.vocab import BOS


class _Encode(nn.Module):
    """Source ids -> the decoder's memory, flattened: per active decoder layer, its
    cross-attention keys, values and mask. Ids are clamped into the vocabulary, since an agent
    times a model on random inputs."""

    def __init__(self, model: nn.Module, vocab_size: int):
        super().__init__()
        self.model, self.vocab_size = model, vocab_size

    def forward(self, src: torch.Tensor) -> tuple[torch.Tensor, ...]:
        memory = self.model.encode(src.clamp(0, self.vocab_size - 1))
        return tuple(t for part in memory for t in part)


class _Step(nn.Module):
    """One greedy step of `unrolled_greedy`: (prefix, *flattened memory) -> (prefix and its next
    token, that token's logit as a column)."""

    def __init__(self, model: nn.Module, parts: int):
        super().__init__()
        self.model, self.parts = model, parts

    def forward(self, tokens: torch.Tensor, *flat: torch.Tensor):
        memory = [flat[i : i + self.parts] for i in range(0, len(flat), self.parts)]
        best, token = self.model.decode(tokens, memory, last=True)[:, -1].max(-1)
        return torch.cat([tokens, token[:, None]], dim=1), best[:, None]


def unrolled_greedy_onnx(
    model: nn.Module, src: torch.Tensor, *, steps: int, vocab_size: int,
    input_names: Sequence[str], output_names: Sequence[str], dynamic_batch: bool, opset: int,
    start: int = BOS,
) -> onnx.ModelProto:  # fmt: skip
    """`unrolled_greedy(model, src.clamp(...), steps)` as ONNX, for source ids shaped like `src`;
    `model` has ``encode``/``decode`` (`decode`), its decoder starting from `start`. Outputs,
    named by `output_names`: token ids (batch, steps) int64 and each step's winning logit
    (batch, steps) float32."""
    (source,), (tokens_out, scores_out) = input_names, output_names
    batch = {0: "batch"} if dynamic_batch else {}
    with torch.no_grad():
        memory = model.encode(src.clamp(0, vocab_size - 1))
    parts = len(memory[0])  # tensors per decoder layer
    memory = [t for part in memory for t in part]
    memory_names = [f"memory{i // parts}_{i % parts}" for i in range(len(memory))]
    encoder = trace(
        _Encode(model, vocab_size), (src,), input_names=[source], output_names=memory_names,
        dynamic_axes={n: batch for n in [source, *memory_names]}, opset=opset,
    )  # fmt: skip
    prefix = torch.full((src.shape[0], 2), start, dtype=torch.long)  # 2: no size-1 special case
    step = trace(
        _Step(model, parts), (prefix, *memory), input_names=["prefix", *memory_names],
        output_names=["next", "best"],
        dynamic_axes={"prefix": {**batch, 1: "time"}, "next": {**batch, 1: "time_1"},
                      "best": batch, **{n: batch for n in memory_names}},
        opset=opset,
    )  # fmt: skip
    graph = encoder.graph
    del graph.output[:]
    graph.initializer.append(helper.make_tensor("one", TensorProto.INT64, [1], [1]))
    graph.node.extend([
        helper.make_node("Shape", [source], ["rows"], start=0, end=1),
        helper.make_node("Concat", ["rows", "one"], ["bos_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["bos_shape"], ["tokens_0"],
                         value=helper.make_tensor("", TensorProto.INT64, [1], [start])),
    ])  # fmt: skip
    _append_steps(graph, step.graph, steps, keep=memory_names)
    graph.node.extend([
        helper.make_node("Slice", [f"tokens_{steps}", "one", "last", "one"], [tokens_out]),
        helper.make_node("Concat", [f"best_{i}" for i in range(steps)], [scores_out], axis=1),
    ])  # fmt: skip
    graph.initializer.append(helper.make_tensor("last", TensorProto.INT64, [1], [steps + 1]))
    rows = "batch" if dynamic_batch else src.shape[0]
    graph.output.extend([
        helper.make_tensor_value_info(tokens_out, TensorProto.INT64, [rows, steps]),
        helper.make_tensor_value_info(scores_out, TensorProto.FLOAT, [rows, steps]),
    ])  # fmt: skip
    return encoder


def _append_steps(
    graph: onnx.GraphProto, step: onnx.GraphProto, steps: int, *, keep: Sequence[str]
) -> None:
    """Append `steps` copies of `step`'s nodes to `graph`, chained: copy i reads the prefix
    ``tokens_i`` and writes ``tokens_{i+1}`` and ``best_i``, its values renamed
    ``step{i}/...``. The names in `keep` (the encoder's outputs), the weights and the nodes
    that do not depend on the prefix (constants) are added once, as ``step/...``, and shared,
    as tracing the whole workload has them; a weight the encoder holds already (a table
    shared by encoder and decoder) is not stored twice."""
    held: dict[tuple, list[onnx.TensorProto]] = {}
    for tensor in graph.initializer:
        held.setdefault(_kind(tensor), []).append(tensor)
    shared = {}
    for tensor in step.initializer:
        same = [t for t in held.get(_kind(tensor), []) if _same(t, tensor)]
        shared[tensor.name] = same[0].name if same else f"step/{tensor.name}"
        if not same:
            tensor.name = shared[tensor.name]
            graph.initializer.append(tensor)
    varying, per_step, once = {"prefix"}, [], []
    for node in step.node:
        if varying.intersection(node.input):
            varying.update(node.output)
            per_step.append(node)
        else:
            shared.update((name, f"step/{name}") for name in node.output)
            once.append(node)
    fixed = {**shared, **{name: name for name in keep}, "": ""}  # "": an omitted input
    _append_renamed(graph, once, fixed, "step/")
    for i in range(steps):
        names = {**fixed, "prefix": f"tokens_{i}", "next": f"tokens_{i + 1}", "best": f"best_{i}"}
        _append_renamed(graph, per_step, names, f"step{i}/")


def _kind(tensor: onnx.TensorProto) -> tuple:
    return tensor.data_type, tuple(tensor.dims)


def _same(a: onnx.TensorProto, b: onnx.TensorProto) -> bool:
    """Whether two initializers of one kind hold the same values (compared only when their
    type and shape agree, so most weights are never read twice)."""
    return (
        a.raw_data == b.raw_data
        and list(a.float_data) == list(b.float_data)
        and (list(a.int64_data) == list(b.int64_data))
    )


def _append_renamed(
    graph: onnx.GraphProto, nodes: Sequence[onnx.NodeProto], names: dict[str, str], prefix: str
) -> None:
    """Append copies of `nodes` to `graph`, each value renamed by `names`, else `prefix`+name."""
    start = len(graph.node)
    graph.node.extend(nodes)
    for node in graph.node[start:]:
        node.name = prefix + node.name
        for values in (node.input, node.output):
            for j, name in enumerate(values):
                values[j] = names.get(name, prefix + name)
