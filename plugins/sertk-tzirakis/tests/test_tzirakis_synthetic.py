"""Acceptance: the fusion model (its paralinguistic stream, one LSTM layer) learns arousal on the
core's synthetic time-continuous corpus, whose arousal follows the speaker-relative loudness and
F0 of its audio, to a test CCC of at least 0.4 with the 1 - CCC loss (eq. 8)."""
from __future__ import annotations

import pytest

RECIPE = """
corpus:
  name: synthetic_continuous
  params: {{n_speakers: 4, n_per_speaker: 5, min_seconds: 3.0, max_seconds: 4.0, cache_dir: {cache}}}
data: {{sample_rate: 16000, segment: {{policy: whole}}, cache: false}}
features:
  - {{name: raw, normalize: speaker}}   # each speaker's samples scaled to unit variance: its level baseline
model:
  name: tzirakis_fusion
  params: {{targets: [arousal], semantic: none, fusion: concat, hidden: 32, dropout: 0.0, lstm_dropout: 0.0}}
loss: ccc
train:
  epochs: 10
  batch_size: 4
  optimizer: {{name: adam, lr: 0.003}}
  clip_norm: 5.0
  select: last
  threads: 1
protocol: {{name: partition, params: {{validation: dev}}}}
metrics: [ccc]
"""


@pytest.mark.slow
def test_fusion_model_learns_arousal_on_the_synthetic_corpus(registry, run_file, tmp_path):
    path = tmp_path / "synthetic_tzirakis.yaml"
    path.write_text(RECIPE.format(cache=tmp_path / "corpus"))
    result = run_file(path, registry, tmp_path / "runs", [])
    head = result.metrics["heads"]["arousal"]
    assert head["level"] == "frame"
    assert head["pooled"]["ccc"] >= 0.4, head["pooled"]
