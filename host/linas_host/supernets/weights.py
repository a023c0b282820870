"""Trained supernet weights on disk: a plain state dict (``.pt``, loaded with
``weights_only=True``) beside a JSON manifest holding its sha256, the command that made it, and
what is needed to rebuild the network. Loading refuses a file whose hash differs from the
manifest's, so a corrupted or swapped file is never used silently.

Weights trained by `linas train` go to a cache inside the working tree (``.cache/linas/`` under
the current directory, or ``$LINAS_CACHE``), never the home folder; the small demo weights are
committed under ``linas_host/supernets/weights/``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from linas_sdk.errors import ArtifactCorrupt, InvalidArgument

PACKAGED = Path(__file__).parent / "weights"
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(weights: Path) -> Path:
    return Path(weights).with_suffix(".json")


def save(path: Path, state_dict: dict[str, torch.Tensor], manifest: dict[str, Any]) -> dict:
    """Write the weights and their manifest (sha256 and size added); return the manifest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().clone().contiguous() for k, v in state_dict.items()}, path)
    manifest = {**manifest, "file": path.name, "sha256": sha256_file(path)}
    manifest["size_bytes"] = path.stat().st_size
    manifest_path(path).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict at `path` and its manifest, after checking the file's sha256."""
    path = Path(path)
    meta_path = manifest_path(path)
    if not path.is_file() or not meta_path.is_file():
        raise InvalidArgument(
            f"expected trained weights {path} and their manifest {meta_path}; "
            "train them with `linas train <supernet> --out PATH`"
        )
    manifest = json.loads(meta_path.read_text())
    actual = sha256_file(path)
    if actual != manifest.get("sha256"):
        raise ArtifactCorrupt(
            f"{path} has sha256 {actual}, but its manifest {meta_path.name} expects "
            f"{manifest.get('sha256')}: the file is corrupted or was replaced"
        )
    return torch.load(path, map_location="cpu", weights_only=True), manifest
