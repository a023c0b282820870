"""The elastic Transformer (HAT space) for translation: its space (`space`), layers (`layers`),
the supernet (`supernet.load`), the English-German numbers corpus (`corpus`, `vocab`), greedy
decoding (`decode`), the exported workload (`onnx`), BLEU (`bleu`), cost model (`cost`) and its
trainer (`training`)."""
