"""The cell/gate analysis of D4.2 §5.4 (Figure 6.2): the LSTM replay against torch's LSTM, the
prosodic descriptors and correlations by hand, and the analyzer on a trained synthetic run of the
end-to-end network."""
import csv

import numpy as np
import pytest
import torch

from sertk import SertkError
from sertk_mixedemotions.cells import (DESCRIPTORS, QUANTITIES, CellCorrelation, LSTMRecorder, correlations,
                                       frame_descriptors, lstm_trace)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_replay_reproduces_torch_lstm_outputs_and_states(bidirectional):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 4, num_layers=2, batch_first=True, bidirectional=bidirectional)
    x = torch.randn(1, 11, 5)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x)
    traces = lstm_trace(lstm, x[0])
    assert [(t["layer"], t["direction"]) for t in traces] == [
        (layer, d) for layer in range(2) for d in (("forward", "backward") if bidirectional else ("forward",))]
    top = [t for t in traces if t["layer"] == 1]
    replayed = np.concatenate([t["h"] for t in top], axis=1)
    np.testing.assert_allclose(replayed, out[0].numpy(), atol=1e-5)
    last = top[0]
    np.testing.assert_allclose(last["c"][-1], c_n[2 if bidirectional else 1, 0].numpy(), atol=1e-5)
    # h = o * tanh(c), gates in (0, 1), cell input in (-1, 1)
    np.testing.assert_allclose(last["h"], last["o"] * np.tanh(last["c"]), atol=1e-12)
    assert all(((t[g] > 0) & (t[g] < 1)).all() for t in traces for g in "ifo")
    assert all((np.abs(t["g"]) < 1).all() for t in traces)


def test_the_recorder_unpacks_packed_inputs():
    from sertk.nn import RecurrentEncoder

    encoder = RecurrentEncoder(3, 2, layers=1)
    recorder = LSTMRecorder(encoder)
    x = torch.randn(2, 6, 3)
    encoder(x, torch.tensor([4, 6]))
    recorder.close()
    rows = recorder.inputs["rnn"]
    assert [len(r) for r in rows] == [4, 6] and torch.equal(rows[0], x[0, :4])


def test_descriptors_and_correlations_by_hand():
    centres = np.arange(20) * 0.01 + 0.01
    llds = {"rms": (centres, np.arange(20, dtype=float)), "loudness": (centres + 0.005, np.full(20, 2.0)),
            "f0": (centres, np.where(np.arange(20) < 10, 0.0, 100.0 + np.arange(20)))}
    out = frame_descriptors(llds, np.array([0.05, 0.15]), window_s=0.05)
    # frame at 0.05 s: LLD frames centred at 0.03 .. 0.07 -> rms 2..6 (range 4), unvoiced
    assert out["rms_energy_range"].tolist() == [4.0, 4.0] and out["loudness"].tolist() == [2.0, 2.0]
    assert np.isnan(out["f0_mean"][0]) and out["f0_mean"][1] == pytest.approx(100 + 14)
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    units = np.column_stack([2 * y + 1, -y, rng.normal(size=50), np.ones(50)])
    y_gaps = y.copy()
    y_gaps[:5] = np.nan
    r = correlations(units, y_gaps)
    assert r[0] == pytest.approx(1.0) and r[1] == pytest.approx(-1.0) and abs(r[2]) < 0.4 and np.isnan(r[3])


@pytest.fixture(scope="module")
def e2e_run(registry, tiny_synthetic, tmp_path_factory):
    """A tiny end-to-end network trained for one epoch on the synthetic corpus."""
    from sertk import TrainedRun
    from sertk.engine.run import run_recipe
    from sertk.recipe import parse_recipe

    tmp = tmp_path_factory.mktemp("cells")
    recipe = parse_recipe({
        "corpus": {"name": "synthetic_continuous", "params": tiny_synthetic},
        "data": {"sample_rate": 16000, "cache": False},
        "features": [{"name": "raw", "normalize": "none"}],
        "model": {"name": "e2e_crnn", "params": {"targets": ["arousal"], "filters": [4, 4], "kernel_ms": [5.0, 50.0],
                                                 "channel_pool": 2, "hidden": 6, "layers": 2}},
        "loss": "ccc", "metrics": ["ccc"],
        "train": {"epochs": 1, "batch_size": 4, "device": "cpu", "threads": 1, "select": "last"},
        "protocol": {"name": "partition", "params": {"train": "train", "validation": "dev", "test": "test"}},
    }, "cells.yaml", registry)
    return TrainedRun(run_recipe(recipe, registry, out_dir=str(tmp)).dir, registry)


def test_analyzer_writes_every_cell_and_the_figure(e2e_run):
    summary = e2e_run.analyze({"name": "cell_correlation", "params": {"top": 3}})
    out = e2e_run.dir / "analysis" / "cell_correlation"
    rows = list(csv.DictReader(open(out / "cells.csv")))
    # 2 layers x 2 directions x 6 quantities x 6 cells x 3 descriptors
    assert len(rows) == 2 * 2 * len(QUANTITIES) * 6 * len(DESCRIPTORS)
    assert {r["module"] for r in rows} == {"encoder.rnn"} and {r["descriptor"] for r in rows} == set(DESCRIPTORS)
    assert all(-1 <= float(r["r"]) <= 1 for r in rows if r["r"] != "nan")
    top = list(csv.DictReader(open(out / "top.csv")))
    assert len(top) == 3 * len(DESCRIPTORS) and top[0]["rank"] == "1"
    recording = summary["recordings"][0]
    assert recording.startswith(e2e_run.data.utterances[-1].speaker)  # the test speaker's first recording
    assert summary["frames"] > 70 and set(summary["best"]) == set(DESCRIPTORS)
    assert (out / f"cells_{recording}.png").read_bytes()[:4] == b"\x89PNG"
    assert summary["paper"]["rho"]["rms_energy_range"] == 0.81


def test_analyzer_options(e2e_run):
    two = CellCorrelation(recordings=2, quantities=["h"], top=1).analyze(e2e_run)
    assert len(two["recordings"]) == 2 and len(two["top"]) == len(DESCRIPTORS)
    named = CellCorrelation(utterance=two["recordings"][1], quantities=["c"]).analyze(e2e_run)
    assert named["recordings"] == [two["recordings"][1]]
    with pytest.raises(SertkError, match="utterance 'nope' is not among"):
        CellCorrelation(utterance="nope").analyze(e2e_run)
    with pytest.raises(ValueError, match="quantities"):
        CellCorrelation(quantities=["z"])
