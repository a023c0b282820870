"""The elastic Transformer (HAT space) for translation: its space (`space`), layers (`layers`),
the supernet (`supernet.load`), the English-German numbers corpus (`corpus`, `vocab`), greedy
decoding (`decode`), the exported workload (`onnx`), BLEU (`bleu`), cost model (`cost`) and its
trainer (`training`); ``variant: hat`` loads HAT's published SuperTransformers (`hat`: its
network `hat_layers`, files `hat_file`, text `hat_text`, configs `hat_configs`,
`hat_published`)."""
