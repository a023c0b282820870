"""The runtime's top-1 against PyTorch's, image by image (issue 26).

    .venv/bin/python benchmarks/scoring_agreement.py [--random 10] [--formats onnx,tflite]

A search scores a candidate's accuracy on its exported file with the file's runtime (FP32
here). For the bundled MobileNetV3 supernet's two ends and `--random` seeded random
sub-networks, prints per sub-network and format the share of the 450 validation images whose
predicted class is the same in the runtime (onnxruntime, LiteRT) as in the PyTorch module the
file was exported from, and both top-1 figures. Target: at least 99.5 % agreement. No
assertions.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random", type=int, default=10)
    parser.add_argument("--formats", default="onnx,tflite")
    args = parser.parse_args()

    import torch
    from linas_host.export.subnet import Exporter
    from linas_host.supernets import create

    from linas_sdk import scoring
    from linas_sdk.formats import format_named
    from linas_sdk.runtimes import RUNTIMES

    supernet = create("mobilenetv3")
    valid = supernet.validation_arrays(450)
    configs = {"smallest": supernet.smallest, "largest": supernet.largest}
    for i, config in enumerate(supernet.space.sample(np.random.default_rng(0), args.random)):
        configs[f"random {i}"] = config
    worst = 100.0
    print(f"{'sub-network':<12} {'format':<7} {'agree %':>8} {'runtime top-1':>14} "
          f"{'torch top-1':>12}")
    for fmt_name in args.formats.split(","):
        fmt = format_named(fmt_name)
        engine = RUNTIMES[fmt.runtime]()
        export = Exporter(supernet, fmt.name)
        for name, config in configs.items():
            module = supernet.extract(config)
            with torch.no_grad():
                torch_classes = module(torch.from_numpy(valid["input"])).argmax(1).numpy()
            session = engine.load(export(module, config), provider=engine.info().providers[0],
                                  options={}, threads=2, inputs=())
            top1, outputs = scoring.run_validation(session, valid, "top1")
            agree = 100 * float(np.mean(outputs.argmax(1) == torch_classes))
            worst = min(worst, agree)
            print(f"{name:<12} {fmt.name:<7} {agree:>8.2f} {100 * top1:>14.2f} "
                  f"{100 * float(np.mean(torch_classes == valid['y'])):>12.2f}", flush=True)
    print(f"worst agreement {worst:.2f} % (target >= 99.5 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
