"""The two ends of the Transformer supernet side by side: BLEU (host, greedy and beam 4),
MACs, parameters, ONNX file size, export time, and onnxruntime latency of the exported workload
(12 tokens encoded, 12 decoded greedily), measured in-process.

    python benchmarks/transformer_ends.py [--weights PATH] [--threads 1] [--runs 50]

Run it on a quiet machine: latency and export time are wall-clock figures.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default=None, help="weights file (default: committed)")
    parser.add_argument("--threads", type=int, default=1, help="torch and onnxruntime threads")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per model")
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from linas_host.export import export_onnx
    from linas_host.supernets import transformer

    torch.set_num_threads(args.threads)
    supernet = transformer.load(weights=args.weights)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = args.threads
    print("end       BLEU  BLEU(b4)  MACs(M) params(k) ONNX(kB) export(s) latency(ms)")
    for end, config in (("smallest", supernet.smallest), ("largest", supernet.largest)):
        module = supernet.extract(config)
        greedy = supernet.evaluate(module)["bleu"]
        beam = supernet.evaluate(module, beam_size=4)["bleu"]
        started = time.perf_counter()
        data = export_onnx(module, supernet.example_input(config),
                           input_names=supernet.input_names, output_names=supernet.output_names)
        export_s = time.perf_counter() - started
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        feed = {"src": supernet.example_input(config)[0].numpy()}
        for _ in range(5):
            session.run(None, feed)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            session.run(None, feed)
            times.append((time.perf_counter() - started) * 1e3)
        print(f"{end:8} {greedy:5.1f} {beam:8.1f} {supernet.macs(config) / 1e6:8.1f} "
              f"{supernet.params(config) / 1e3:9.0f} {len(data) / 1e3:8.0f} {export_s:9.2f} "
              f"{statistics.median(times):11.2f}")


if __name__ == "__main__":
    main()
