"""The log-mel front end of the 2-D network (Zhao et al. 2019, §3.5) through sertk's built-in `logmel` feature."""
import numpy as np
import torch

from sertk import FeatureInfo, LabelSpace
from sertk.plugins import load_plugins
from sertk.registry import Registry

PAPER_LOGMEL = {"name": "logmel", "params": {"n_fft": 2048, "hop_length": 512, "n_mels": 128}}


def test_8_s_at_16_khz_gives_128_by_251_and_reaches_the_lstm_as_one_step():
    registry = Registry.from_plugins(load_plugins())
    logmel = registry.build("features", PAPER_LOGMEL)
    t = np.arange(8 * 16000) / 16000.0
    signal = (0.3 * np.sin(2 * np.pi * 220.0 * t) + 0.01 * np.random.default_rng(0).standard_normal(t.size))
    frames = logmel(signal.astype(np.float32), 16000)
    assert frames.shape == (251, 128)
    assert logmel.frame_rate(16000) == 16000 / 512

    info = FeatureInfo("logmel", frames.shape[1], "frame", logmel.frame_rate(16000))
    model = registry.build("models", {"name": "cnn2d_lstm"}, inputs={"logmel": info},
                           labels=LabelSpace(classes={"emotion": ("anger", "neutral")})).eval()
    with torch.no_grad():
        sequence = model.sequence(torch.from_numpy(frames)[None])
    assert sequence.shape == (1, 1, 128)
