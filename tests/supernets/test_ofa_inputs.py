"""Bad input to an OFA supernet is refused when it is loaded, before any measurement, naming
what was wrong and what was expected; and an image folder is decoded batch by batch."""

from __future__ import annotations

import io

import numpy as np
import pytest
from linas_host.supernets import create
from linas_host.supernets.images import open_images
from ofa_helpers import image_folder, random_checkpoint
from PIL import Image

from linas_sdk.errors import ArtifactCorrupt, InvalidArgument


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("ofa") / "ofa_mbv3_d234_e346_k357_w1.0")


def _load(checkpoint, **data):
    return create("mobilenetv3", variant="ofa-w1.0", checkpoint=checkpoint, data=data)


def test_a_checkpoint_of_another_variant_or_a_truncated_one_is_refused(checkpoint, tmp_path):
    wide = random_checkpoint(tmp_path / "ofa_mbv3_d234_e346_k357_w1.2", width=1.2)
    with pytest.raises(InvalidArgument, match=r"is the ofa-w1.2 supernet .*, not ofa-w1.0"):
        _load(wide)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])
    with pytest.raises(ArtifactCorrupt, match="truncated or not a torch file; expected ofa_mbv3"):
        _load(truncated)


def test_image_folders_without_a_readable_image_are_refused(checkpoint, tmp_path):
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    with pytest.raises(InvalidArgument, match=r"no image \(.jpg, .jpeg, .png\) in the class"):
        _load(checkpoint, val=tmp_path / "empty")
    (tmp_path / "broken" / "cat").mkdir(parents=True)
    (tmp_path / "broken" / "cat" / "a.jpg").write_text("not an image")
    with pytest.raises(InvalidArgument, match=r"1 of 1 files .* not readable images: cat/a.jpg"):
        _load(checkpoint, calibration=tmp_path / "broken")


def test_more_classes_than_the_checkpoints_head_are_refused(checkpoint, tmp_path):
    pixel = Image.new("RGB", (1, 1))
    for c in range(1001):
        (tmp_path / f"n{c:04d}").mkdir()
        pixel.save(tmp_path / f"n{c:04d}" / "a.png")
    with pytest.raises(InvalidArgument, match=r"1001 classes, more than the checkpoint's head"):
        _load(checkpoint, val=tmp_path)


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"x": np.zeros((2, 1, 224, 224), np.float32), "y": [0, 1]}, r"expected float32 of shape"),
        ({"x": np.zeros((2, 3, 224), np.float32), "y": [0, 1]}, r"expected float32 of shape"),
        ({"x": np.zeros((2, 3, 224, 224), np.float32)}, r"holds \['x'\]: expected 'x' .* 'y'"),
        ({"x": np.zeros((2, 3, 224, 224), np.float32), "y": [0]}, r"expected 2 integer labels"),
        ({"x": np.zeros((2, 3, 160, 160), np.float32), "y": [0, 1]}, r"needs 224x224"),
    ],
)
def test_an_npz_of_the_wrong_shape_is_refused(arrays, expected, checkpoint, tmp_path):
    np.savez(tmp_path / "val.npz", **arrays)
    with pytest.raises(InvalidArgument, match=expected):
        _load(checkpoint, val=tmp_path / "val.npz")


def test_an_image_folder_is_decoded_batch_by_batch(tmp_path):
    images = open_images(image_folder(tmp_path, classes=2, per_class=3))
    last = images.files[-1][0]
    batches = images.batches(64, batch_size=4)
    x, y = next(batches)  # the first batch is decoded without the last image
    assert x.shape == (4, 3, 64, 64) and x.dtype == np.float32 and y.shape == (4,)
    last.unlink()
    with pytest.raises(InvalidArgument, match=f"image {last} could not be decoded"):
        next(batches)


def test_a_searched_resolution_gets_its_own_validation_npz(checkpoint, tmp_path):
    from linas_host.evaluate.validation import ValidationSets

    supernet = create(
        "mobilenetv3", variant="ofa-w1.0", checkpoint=checkpoint, resolutions=[160, 224],
        data={"val": image_folder(tmp_path, classes=2, per_class=2)},
    )  # fmt: skip
    sets = ValidationSets(supernet)
    small = sets({**supernet.smallest, "resolution": 160})
    assert sets({**supernet.largest, "resolution": 160}) is small  # made once
    large = sets({**supernet.largest, "resolution": 224})
    with np.load(io.BytesIO(small.data)) as a, np.load(io.BytesIO(large.data)) as b:
        assert a["input"].shape == (4, 3, 160, 160) and b["input"].shape == (4, 3, 224, 224)
        np.testing.assert_array_equal(a["y"], b["y"])
