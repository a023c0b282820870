"""Run by `hat_helpers.reference_outputs` under LINAS_HAT_PYTHON, never by pytest itself: HAT's
own `TransformerSuperModel`, built from a checkpoint's args, loads its state dict strictly (so
the file's layout is HAT's), then gives, per sub-network config, the teacher-forced
log-probabilities and those of HAT's incremental decoding (cached keys and values).

    python hat_reference.py CHECKPOINT INPUTS.npz OUTPUTS.npz
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch

np.float, np.int = float, int  # HAT's vendored fairseq predates numpy's removal of these

from fairseq.data import Dictionary  # noqa: E402
from fairseq.models.transformer_super import TransformerSuperModel  # noqa: E402


class _Task:
    def __init__(self, size: int):
        self.source_dictionary = self.target_dictionary = Dictionary()
        for i in range(size - 4):
            self.source_dictionary.add_symbol(f"w{i}")


def main(checkpoint: str, inputs: str, outputs: str) -> None:
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state = saved["model"]
    model = TransformerSuperModel.build_model(
        saved["args"], _Task(state["encoder.embed_tokens.weight"].shape[0])
    )
    model.load_state_dict(state, strict=True)
    model.eval()
    data = np.load(inputs)
    src, prev = torch.from_numpy(data["src"]), torch.from_numpy(data["prev"])
    lengths = (src != 1).sum(1)
    out = {}
    with torch.no_grad():
        for n, config in enumerate(json.loads(str(data["configs"]))):
            model.set_sample_config(config)
            logits = model(src, lengths, prev)
            out[f"teacher{n}"] = model.get_normalized_probs(logits, log_probs=True).numpy()
            encoder_out = model.encoder(src, lengths)
            incremental: dict = {}
            steps = []
            for t in range(prev.shape[1]):
                step = model.decoder(prev[:, : t + 1], encoder_out, incremental_state=incremental)
                steps.append(model.get_normalized_probs(step, log_probs=True)[:, -1])
            out[f"incremental{n}"] = torch.stack(steps, dim=1).numpy()
    np.savez(outputs, **out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
