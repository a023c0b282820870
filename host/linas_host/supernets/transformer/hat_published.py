"""HAT's 17 published WMT'14 En-De SubTransformers (6 for a Raspberry Pi 4, 6 for a Xeon, 5 for
a Titan Xp), as the numbers of their descriptions in HAT's repository
(``configs/wmt14.en-de/subtransformer/HAT_wmt14ende_<hardware>@<latency>_bleu@<bleu>.yml``) and
the parameter counts HAT's README lists for them (millions, without the embedding table and the
output projection). `config_from_hat` turns each into a linas config.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Published(NamedTuple):
    name: str  # <hardware>@<latency>, as in HAT's file names
    params_m: float  # HAT's README: millions, embeddings and output layer excluded
    description: dict[str, Any]  # HAT's *-subtransformer keys


def _row(
    name: str, params_m: float, embed: int, encoder_ffn: list[int], encoder_heads: list[int],
    decoder_ffn: list[int], decoder_self: list[int], decoder_cross: list[int], ende: list[int],
) -> Published:  # fmt: skip
    return Published(name, params_m, {
        "encoder-embed-dim-subtransformer": embed,
        "decoder-embed-dim-subtransformer": embed,
        "encoder-layer-num-subtransformer": len(encoder_ffn),
        "decoder-layer-num-subtransformer": len(decoder_ffn),
        "encoder-ffn-embed-dim-all-subtransformer": encoder_ffn,
        "encoder-self-attention-heads-all-subtransformer": encoder_heads,
        "decoder-ffn-embed-dim-all-subtransformer": decoder_ffn,
        "decoder-self-attention-heads-all-subtransformer": decoder_self,
        "decoder-ende-attention-heads-all-subtransformer": decoder_cross,
        "decoder-arbitrary-ende-attn-all-subtransformer": ende,
    })  # fmt: skip


# fmt: off
WMT14_EN_DE = (
    _row("raspberrypi@3.5s", 25.22, 512, [1024, 3072, 3072, 2048, 2048, 2048], [4, 8, 4, 4, 4, 8],
         [3072], [8], [8],
         [-1]),
    _row("raspberrypi@4.0s", 29.42, 512, [3072, 2048, 3072, 2048, 3072, 2048], [8, 8, 8, 4, 8, 8],
         [1024, 2048], [4, 4], [8, 8],
         [-1, -1]),
    _row("raspberrypi@4.5s", 35.72, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 8, 8, 4, 8, 8],
         [3072, 3072], [8, 8], [8, 8],
         [-1, 1]),
    _row("raspberrypi@5.0s", 36.77, 512, [3072, 3072, 3072, 2048, 3072, 3072], [8, 8, 8, 8, 8, 4],
         [1024, 2048, 3072], [4, 8, 8], [4, 8, 8],
         [-1, 1, -1]),
    _row("raspberrypi@6.0s", 44.13, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 4, 4, 8, 8, 4],
         [2048, 2048, 3072, 3072], [4, 8, 8, 4], [4, 8, 8, 8],
         [-1, -1, 1, -1]),
    _row("raspberrypi@6.9s", 48.33, 512, [3072, 3072, 3072, 3072, 3072, 3072], [8, 4, 8, 8, 8, 8],
         [2048, 2048, 3072, 3072, 2048], [8, 8, 8, 4, 8], [4, 8, 8, 8, 8],
         [-1, 1, 1, 1, -1]),
    _row("xeon@137.9ms", 30.47, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 8, 8, 8, 8, 8],
         [3072], [8], [8],
         [1]),
    _row("xeon@204.2ms", 35.72, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 8, 8, 4, 8, 8],
         [3072, 3072], [8, 8], [8, 8],
         [-1, 1]),
    _row("xeon@278.7ms", 40.97, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 4, 8, 8, 8, 4],
         [3072, 3072, 3072], [8, 8, 8], [4, 8, 8],
         [-1, 1, 1]),
    _row("xeon@340.2ms", 46.23, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 4, 8, 8, 8, 4],
         [3072, 3072, 3072, 3072], [8, 8, 8, 4], [4, 8, 8, 8],
         [-1, 1, 1, -1]),
    _row("xeon@369.6ms", 51.48, 512, [3072, 3072, 3072, 3072, 3072, 3072], [8, 4, 8, 8, 8, 4],
         [3072, 3072, 3072, 3072, 3072], [8, 8, 8, 4, 8], [4, 8, 8, 8, 8],
         [-1, 1, 1, 1, -1]),
    _row("xeon@450.9ms", 56.73, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 4, 8, 8, 8, 4],
         [3072, 3072, 3072, 3072, 3072, 3072], [8, 8, 8, 4, 4, 4], [4, 8, 8, 8, 8, 8],
         [-1, 1, 1, 1, -1, -1]),
    _row("titanxp@57.1ms", 30.47, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 8, 8, 8, 8, 8],
         [3072], [8], [8],
         [1]),
    _row("titanxp@91.2ms", 35.72, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 8, 8, 4, 8, 8],
         [3072, 3072], [8, 8], [8, 8],
         [-1, 1]),
    _row("titanxp@126.0ms", 40.97, 512, [3072, 3072, 3072, 3072, 3072, 3072], [4, 4, 8, 8, 8, 4],
         [3072, 3072, 3072], [8, 8, 8], [4, 8, 8],
         [-1, 1, 1]),
    _row("titanxp@146.7ms", 51.20, 640, [3072, 3072, 3072, 3072, 3072, 3072], [4, 8, 8, 8, 4, 4],
         [3072, 3072, 3072], [8, 8, 8], [4, 8, 8],
         [-1, 1, 1]),
    _row("titanxp@208.1ms", 49.38, 512, [3072, 3072, 3072, 3072, 3072, 3072], [8, 4, 8, 8, 8, 4],
         [2048, 2048, 3072, 3072, 3072], [8, 8, 8, 4, 8], [4, 8, 8, 8, 8],
         [-1, 1, 1, 1, -1]),
)
# fmt: on
SMALLEST, LARGEST = WMT14_EN_DE[0], WMT14_EN_DE[11]  # 25.22 M (Pi, 3.5 s) and 56.73 M (Xeon)
