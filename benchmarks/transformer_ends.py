"""The two ends of the Transformer supernet side by side: BLEU (host, greedy and beam 4),
MACs, parameters, ONNX file size, export time (median of --exports, as a search exports), and
onnxruntime latency of the exported workload (12 tokens encoded, 12 decoded greedily),
measured in-process. `--tflite` adds each end's TFLite file size, the wall and CPU time of one
conversion as a search converts (over a minute for the largest), and LiteRT latency.

    python benchmarks/transformer_ends.py [--weights PATH] [--threads 1] [--runs 50] [--exports 3]
                                          [--tflite]

Run it on a quiet machine: latency and export time are wall-clock figures.
"""

from __future__ import annotations

from ends import arguments, compare


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    from linas_host.supernets.transformer import supernet as transformer

    supernet = transformer.load(weights=args.weights)

    def bleu(module) -> str:
        greedy = supernet.evaluate(module)["bleu"]
        return f"{greedy:5.1f} {supernet.evaluate(module, beam_size=4)['bleu']:8.1f}"

    compare(supernet, args, " BLEU BLEU(b4)", bleu)


if __name__ == "__main__":
    main()
