"""HAT's smallest and largest published WMT'14 En-De SubTransformers (the Raspberry Pi's 3.5 s
one and the Xeon's 450.9 ms one), cut from a random-weight SuperTransformer at space0's full
size and HAT's vocabulary (32,768): ONNX export as a search exports it (median of `--exports`,
wall and CPU seconds; target at most 3 s each), file size, parameters against HAT's published
figures (target: within 1 %), and the latency of one sentence of 30 tokens through a local
agent (one thread, the agent's timing protocol): greedy, the exported workload (30 tokens in,
30 decoded, unrolled), and beam 4 (`decode.unrolled_beam`: 4 hypotheses, 30 steps, traced
whole). No file is downloaded or written outside a temporary folder.

    python benchmarks/hat_ends.py [--exports 3] [--min-seconds 2] [--no-beam]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
from linas_host.devices import DevicePool, LocalAgent
from linas_host.export import export_onnx
from linas_host.export.onnx import trace
from linas_host.supernets.transformer.decode import unrolled_beam
from linas_host.supernets.transformer.hat import FAIRSEQ, HatSupernet
from linas_host.supernets.transformer.hat_configs import config_from_hat
from linas_host.supernets.transformer.hat_file import HatFile
from linas_host.supernets.transformer.hat_layers import HatNet
from linas_host.supernets.transformer.hat_published import LARGEST, SMALLEST
from linas_host.supernets.transformer.layers import Arch

from linas_sdk.measurement import MeasureRequest

VOCAB = 32768  # fairseq's joint dictionary of the WMT'16 En-De data HAT trained on
EXPORT_TARGET_S, PARAMS_TARGET = 3.0, 0.01


def supernet(steps: int) -> HatSupernet:
    """space0 at full size with random weights (biases and norms too), as `hat_file.read`
    gives a published file's."""
    torch.manual_seed(0)
    largest = Arch(encoder_embed=640, encoder_ffn=(3072,) * 6, encoder_heads=(8,) * 6,
                   decoder_embed=640, decoder_ffn=(3072,) * 6, decoder_self_heads=(8,) * 6,
                   decoder_cross_heads=(8,) * 6, decoder_ende=(1,) * 6)  # fmt: skip
    net = HatNet(VOCAB, largest, qkv_dim=512, position_dim=640)
    with torch.no_grad():
        for name, tensor in net.named_parameters():
            if "norm.weight" in name:
                tensor.copy_(0.5 + torch.rand_like(tensor))
            else:  # every weight distinct: equal ones would be stored once in the file
                tensor.copy_(torch.randn_like(tensor) * tensor.shape[-1] ** -0.5)
    file = HatFile(
        path=Path("random-weights"), largest=largest, qkv_dim=512,
        decoder_layers=(1, 2, 3, 4, 5, 6),
        embed=(512, 640), ffn=(1024, 2048, 3072), heads=(4, 8), ende=(1, 2, 3), vocab_size=VOCAB,
        state=net.state_dict(), source_lang="en", target_lang="de",
    )  # fmt: skip
    return HatSupernet(file, pipeline=None, steps=steps)


class Beam(torch.nn.Module):
    """The beam-4 workload of one sentence, for a whole trace."""

    def __init__(self, module: torch.nn.Module, steps: int):
        super().__init__()
        self.module, self.steps = module, steps

    def forward(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        src = src.clamp(0, self.module.net.vocab_size - 1)
        return unrolled_beam(self.module, src, self.steps, size=4, start=FAIRSEQ.start)


def export(hat: HatSupernet, config: dict) -> tuple[bytes, float, float]:
    """ONNX bytes as a search makes them, with wall and CPU seconds of extraction + export."""
    wall, cpu = time.perf_counter(), time.process_time()
    module = hat.extract(config)
    data = export_onnx(module, hat.example_input(config), input_names=hat.input_names,
                       output_names=hat.output_names)  # fmt: skip
    return data, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exports", type=int, default=3, help="timed exports per end")
    parser.add_argument("--min-seconds", type=float, default=2.0, help="agent's timed seconds")
    parser.add_argument("--steps", type=int, default=30, help="sentence length in tokens")
    parser.add_argument("--no-beam", action="store_true", help="skip the beam-4 latency")
    args = parser.parse_args()
    torch.set_num_threads(1)
    hat = supernet(args.steps)
    request = MeasureRequest(threads=1, settings={
        "warmup_runs": 3, "warmup_seconds": 0.5, "min_runs": 10, "min_seconds": args.min_seconds,
        "max_seconds": 4 * args.min_seconds, "timeout_seconds": 600,
    })  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.2f}; vocabulary {VOCAB}, {args.steps} tokens")
    print("end                params(M) HAT(M) diff    export wall/CPU(s)  ONNX(MB) "
          "greedy(ms) beam-4 export(s) beam-4 ONNX(MB) beam-4(ms)")  # fmt: skip
    with LocalAgent(name="local") as agent, DevicePool([agent.spec()]) as pool:
        for published in (SMALLEST, LARGEST):
            config = config_from_hat(published.description, space=hat.space)
            params = hat.hat_params(config) / 1e6
            runs = [export(hat, config) for _ in range(args.exports)]
            data = runs[0][0]
            wall = statistics.median(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            greedy = pool.measure(data, request).median_ms
            beam = ("-", "-", "-")
            if not args.no_beam:
                started = time.perf_counter()
                model = trace(Beam(hat.extract(config), args.steps), hat.example_input(config),
                              input_names=["src"], output_names=["tokens", "score"],
                              dynamic_axes=None)  # fmt: skip
                beam_data = model.SerializeToString()
                beam_s = time.perf_counter() - started
                beam_ms = pool.measure(beam_data, request).median_ms
                beam = (f"{beam_s:.1f}", f"{len(beam_data) / 1e6:.0f}", f"{beam_ms:.0f}")
            print(f"{published.name:18} {params:9.2f} {published.params_m:6.2f} "
                  f"{(params - published.params_m) / published.params_m:+.2%} "
                  f"{wall:8.2f} / {cpu:5.2f} {len(data) / 1e6:9.0f} {greedy:10.0f} "
                  f"{beam[0]:>16} {beam[1]:>15} {beam[2]:>10}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"targets: export <= {EXPORT_TARGET_S} s per end; parameters within "
          f"{PARAMS_TARGET:.0%} of HAT's figures")


if __name__ == "__main__":
    main()
