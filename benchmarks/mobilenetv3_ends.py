"""The two ends of the MobileNetV3 supernet side by side: top-1 accuracy (host, after
batch-norm recalibration), MACs, parameters, ONNX file size, export time (median of
--exports, as a search exports), and onnxruntime latency of one image, measured in-process.
`--tflite` adds each end's TFLite file size, the wall and CPU time of one conversion as a search
converts, and LiteRT latency.

    python benchmarks/mobilenetv3_ends.py [--weights PATH] [--threads 1] [--runs 50] [--exports 3]
                                          [--tflite]

Run it on a quiet machine: latency and export time are wall-clock figures.
"""

from __future__ import annotations

from ends import arguments, compare


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    from linas_host.supernets.mobilenetv3 import supernet as mobilenetv3

    supernet = mobilenetv3.load(weights=args.weights)  # extract recalibrates batch norm

    def top1(module) -> str:
        return f"{supernet.evaluate(module)['accuracy'] * 100:8.1f}"

    compare(supernet, args, "top-1(%)", top1)


if __name__ == "__main__":
    main()
