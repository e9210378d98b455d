"""The t-SNE (Fig. 4) and loudness-correlation (§4, Fig. 6) analyzers of Lakomkin et al. (2017),
as functions and on a real finished run of a stand-in model whose representations are known
by construction: one unit is a linear function of the frame energy in dB, one layer
separates the classes, one is noise."""
import csv
import json
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from sertk import Corpus, Feature, Head, LabelSpace, Model, SertkError, TrainedRun, Utterance, hookimpl
from sertk_lakomkin.analyzers import (COMPONENTS, TSNE, LoudnessCorrelation, StreamingPearson, loudness_at_frames,
                                      embed, rms_db, segment_signal, separation)

SR = 8000
CLASSES = ("anger", "sadness")
PITCH = {"anger": 400.0, "sadness": 200.0}
HOP = 80  # samples per frame of the stand-in's "loud" layer (10 ms); "sep" and "rand" use 2 * HOP


# ----------------------------------------------------------------- functions
def test_rms_db_of_a_steady_tone_and_of_silence():
    t = np.arange(SR) / SR
    centres, db = rms_db(0.5 * np.sin(2 * np.pi * 200 * t), SR)
    assert len(centres) == 1 + (SR - 200) // 80 and centres[0] == pytest.approx(0.0125)
    assert np.allclose(db, 20 * np.log10(0.5 / np.sqrt(2)), atol=0.01)
    assert rms_db(np.zeros(400), SR)[1].tolist() == [-80.0] * 3
    centres, db = rms_db(np.full(50, 0.1), SR)  # shorter than a window: one frame
    assert centres.tolist() == [50 / 2 / SR] and db[0] == pytest.approx(-20.0)


def test_loudness_is_read_at_relative_frame_positions_and_segments_are_padded():
    centres, loud = np.array([0.0, 1.0]), np.array([0.0, 10.0])
    assert loudness_at_frames(centres, loud, 1.0, 4).tolist() == [1.25, 3.75, 6.25, 8.75]
    assert loudness_at_frames(centres, loud, 2.0, 2).tolist() == [5.0, 10.0]  # clamped past the curve
    piece = segment_signal(np.ones(10, np.float32), 10, 0.5, 1.0)
    assert piece.tolist() == [1.0] * 5 + [0.0] * 5


def test_streaming_pearson_matches_numpy_over_chunks():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(1000) + 1e4  # a large offset: the pairwise update stays exact
    x = np.column_stack([3 * y + rng.standard_normal(1000), rng.standard_normal(1000) - 1e5, np.ones(1000)])
    stats = StreamingPearson(3)
    for chunk in np.array_split(np.arange(1000), [1, 7, 300, 301, 999]):
        stats.update(x[chunk], y[chunk])
    r = stats.r()
    assert stats.n == 1000
    assert r[0] == pytest.approx(np.corrcoef(x[:, 0], y)[0, 1], abs=1e-10)
    assert r[1] == pytest.approx(np.corrcoef(x[:, 1], y)[0, 1], abs=1e-10)
    assert np.isnan(r[2])  # a constant unit has no correlation


def test_separation_scores_separable_above_random():
    rng = np.random.default_rng(0)
    labels = ["a"] * 20 + ["b"] * 20
    apart = np.vstack([rng.normal(0, 1, (20, 4)), rng.normal(6, 1, (20, 4))])
    mixed = rng.normal(0, 1, (40, 4))
    good, bad = separation(apart, labels), separation(mixed, labels)
    assert good["knn_accuracy"] == 1.0 and good["silhouette"] > 0.6 and good["knn_chance"] == 0.5
    assert bad["silhouette"] < 0.1 and bad["knn_accuracy"] < 0.8
    assert separation(apart, ["a"] * 40)["silhouette"] is None  # one class: nothing to separate


def test_identical_rows_share_one_embedded_point():
    rng = np.random.default_rng(0)
    x = np.repeat(rng.normal(size=(4, 3)), 5, axis=0)  # Barnes-Hut t-SNE crashes on coincident points
    xy, used = embed(x, 30.0, 0)
    assert xy.shape == (20, 2) and used == 1.0
    assert np.allclose(xy[:5], xy[0]) and not np.allclose(xy[0], xy[5])
    assert embed(np.ones((6, 2)), 30.0, 0)[0].tolist() == [[0.0, 0.0]] * 6
    assert np.array_equal(embed(x, 5.0, 3)[0], embed(x, 5.0, 3)[0])  # seeded: the same embedding


def test_params_resolve_for_the_recipe_checker():
    from sertk.registry import check_params

    assert [c.name for c in COMPONENTS] == ["tsne", "loudness_correlation"]
    for cls in COMPONENTS:
        typing.get_type_hints(cls.__init__)
    check_params(TSNE, {"layers": ["gru2"], "fold": 1, "part": "train", "perplexity": 5, "max_utterances": 3}, "a")
    check_params(TSNE, {"layers": "gru1,gru2"}, "a")
    check_params(LoudnessCorrelation, {"fold": "speakers-s2", "top": 3, "utterance": "u1"}, "a")
    check_params(LoudnessCorrelation, {"utterance": 3}, "a")  # `--param utterance=3` reads as an int
    with pytest.raises(ValueError):
        LoudnessCorrelation(top=0)
    with pytest.raises(ValueError, match="part must be one of train, validation, test"):
        TSNE(part="dev")


# ----------------------------------------------------------------- a finished run of a stand-in model
class LoudTones(Corpus):
    """Tones whose pitch gives the class and whose slowly varying envelope gives the loudness;
    half the utterances are WAV files, half in memory."""

    name = "loud_tones"

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def utterances(self):
        rng = np.random.default_rng(0)
        out = []
        for s in range(4):
            for k in range(6):
                cls, uid = CLASSES[k % 2], f"s{s}_{k}"
                t = np.arange(int(rng.choice([0.8, 1.0, 1.2]) * SR)) / SR
                envelope = 0.02 + 0.3 * (1 + np.sin(2 * np.pi * rng.uniform(1.5, 3) * t + rng.uniform(0, 6))) / 2
                audio = (envelope * np.sin(2 * np.pi * PITCH[cls] * t)).astype(np.float32)
                utt = Utterance(uid, f"s{s}", labels={"emotion": cls})
                if k < 3:
                    utt.path = str(self.root / f"{uid}.wav")
                    sf.write(utt.path, audio, SR, subtype="FLOAT")
                else:
                    utt.audio, utt.sample_rate = audio, SR
                out.append(utt)
        return out


def noise(frames: torch.Tensor, seed: int) -> torch.Tensor:
    """(B, T, hop) frames -> (B, T, 3) pseudo-random values in [-0.5, 0.5), a hash of the
    frame index and content (the same whatever the batching)."""
    t = torch.arange(frames.shape[1], dtype=torch.float64)[None, :, None] + 1000 * torch.arange(1, 4) + 7919 * seed
    value = torch.sin(12.9898 * t + 78.233 * frames.double().sum(-1, keepdim=True)) * 43758.5453
    return (value - value.floor() - 0.5).float()


def frame_db(x: torch.Tensor, hop: int) -> torch.Tensor:
    """(B, N) -> (B, N // hop) RMS energy in dB of consecutive frames, floored at -80 dB."""
    frames = x[:, :x.shape[1] // hop * hop].reshape(len(x), -1, hop)
    return 20 * torch.log10(frames.pow(2).mean(-1).sqrt().clamp_min(1e-4))


class Representations(Model):
    """layers: "loud" (10-ms frames; unit 1 = 2 * frame dB + 3, units 0 and 2 noise),
    "sep" (20-ms frames; unit 0 = zero-crossing rate, which the pitch and so the class sets)
    and "rand" (noise); the head reads the mean-pooled "sep" layer."""

    name = "loud_standin"

    def __init__(self, inputs, labels) -> None:
        super().__init__()
        self.heads = [Head("emotion", classes=labels.classes["emotion"])]
        self.out = nn.Linear(3, len(self.heads[0].classes))

    def representations(self, inputs, lengths=None):
        x = inputs["raw"][..., 0]
        n = lengths["raw"] if lengths else torch.full((len(x),), x.shape[1])
        loud, short = frame_db(x, HOP), x[:, :x.shape[1] // HOP * HOP].reshape(len(x), -1, HOP)
        frames = x[:, :x.shape[1] // (2 * HOP) * 2 * HOP].reshape(len(x), -1, 2 * HOP)
        crossings = (torch.sign(frames[..., 1:]) != torch.sign(frames[..., :-1])).float().mean(-1)
        sep = noise(frames, 1) * 0.01
        sep[..., 0] = crossings * 10
        loud_layer = noise(short, 2)
        loud_layer[..., 1] = 2 * loud + 3
        return {"loud": (loud_layer, n // HOP), "sep": (sep, n // (2 * HOP)),
                "rand": (noise(frames, 3), n // (2 * HOP))}

    def forward(self, inputs, lengths=None):
        sep, n = self.representations(inputs, lengths)["sep"]
        mask = (torch.arange(sep.shape[1])[None, :] < n[:, None]).float()[..., None]
        return {"emotion": self.out((sep * mask).sum(1) / n.clamp_min(1)[:, None])}


class NoRepresentations(Model):
    name = "plain_standin"

    def __init__(self, labels) -> None:
        super().__init__()
        self.heads = [Head("emotion", classes=labels.classes["emotion"])]
        self.out = nn.Linear(1, len(self.heads[0].classes))

    def forward(self, inputs, lengths=None):
        return {"emotion": self.out(inputs["raw"].mean(1))}


class Spectra(Feature):
    """log(1 + |FFT|²) of consecutive 10-ms frames, (frames, 41) at 8 kHz (numpy only)."""

    name = "test_spectra"

    def __call__(self, signal, sample_rate):
        frames = np.asarray(signal)[:len(signal) // HOP * HOP].reshape(-1, HOP)
        return np.log1p(np.abs(np.fft.rfft(frames, axis=1)) ** 2).astype(np.float32)

    def frame_rate(self, sample_rate):
        return sample_rate / HOP


class Plugin:
    @hookimpl
    def sertk_register_corpora(self, register):
        register(LoudTones)

    @hookimpl
    def sertk_register_features(self, register):
        register(Spectra)

    @hookimpl
    def sertk_register_models(self, register):
        register(Representations)


def finished_run(tmp: Path, model: Any = "loud_standin", features: Any = ("raw",), entry_points: bool = False):
    """Train ``model`` for one epoch on LoudTones (speakers s2 and s3 as the test set); the run
    reopened.  The analyzers are added to the registry unless an installed plugin registers them."""
    from sertk.engine.run import run_recipe
    from sertk.plugins import load_plugins
    from sertk.recipe import parse_recipe
    from sertk.registry import Registry

    loaded = load_plugins(entry_points=entry_points)
    loaded.pm.register(Plugin(), name="lakomkin-analyzers-test")
    registry = Registry.from_plugins(loaded)
    for cls in COMPONENTS:
        if cls.name not in registry.names("analyzers"):
            registry.add("analyzers", cls, "lakomkin-analyzers-test")
    (tmp / "audio").mkdir(exist_ok=True)
    recipe = parse_recipe({
        "corpus": {"name": "loud_tones", "params": {"root": str(tmp / "audio")}},
        "data": {"sample_rate": SR, "cache": False, "segment": {"policy": "slices", "seconds": 0.5, "min_last": 0.1}},
        "features": list(features), "model": model,
        "train": {"epochs": 1, "batch_size": 8, "device": "cpu", "threads": 1, "select": "last"},
        "protocol": {"name": "speakers", "params": {"test_speakers": ["s2", "s3"]}}, "metrics": ["ua"],
    }, "loud_tones.yaml", registry)
    return TrainedRun(run_recipe(recipe, registry, out_dir=str(tmp / "runs")).dir, registry)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("lakomkin"))


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_loudness_analyzer_ranks_the_energy_unit_first_with_r_near_one(run):
    summary = run.analyze({"name": "loudness_correlation", "params": {"top": 4}})
    out = run.dir / "analysis" / "loudness_correlation"
    assert summary["utterances"] == 12 and summary["fold"] == run.folds[0]
    top = read_csv(out / "top.csv")
    assert [(r["rank"], r["layer"], r["unit"]) for r in top[:1]] == [("1", "loud", "1")] and len(top) == 4
    assert float(top[0]["r"]) > 0.98
    assert summary["best"]["loud"]["unit"] == 1 and summary["best"]["loud"]["r"] == pytest.approx(float(top[0]["r"]))
    table = read_csv(out / "correlations.csv")
    assert len(table) == 9 and {r["layer"] for r in table} == {"loud", "sep", "rand"}
    built = {("loud", "1"), ("sep", "0")}  # the energy unit; the zero-crossing unit follows the padded silence
    noise = [abs(float(r["r"])) for r in table if (r["layer"], r["unit"]) not in built]
    assert len(noise) == 7 and max(noise) < 0.2

    # the same correlation, recomputed here over every valid frame of the test segments
    model, segments = run.model(run.folds[0]), {s.id: s for s in run.data.extracted.segments}
    loud, units = [], []
    for batch in run.batches(run.folds[0], "test"):
        x, n = model.representations(batch.inputs, batch.lengths)["loud"]
        for i, sid in enumerate(batch.ids):
            seg = segments[sid]
            utt = run.data.utterances[seg.utt_index]
            signal = utt.audio if utt.audio is not None else sf.read(utt.path, dtype="float32")[0]
            span = float(batch.lengths["raw"][i]) / SR
            centres, db = rms_db(segment_signal(signal, SR, seg.start_s, span), SR)
            loud.append(loudness_at_frames(centres, db, span, int(n[i])))
            units.append(x[i, :int(n[i])].numpy())
    loud, units = np.concatenate(loud), np.concatenate(units)
    assert summary["best"]["loud"]["frames"] == len(loud)
    for unit in range(3):
        r = float(next(row["r"] for row in table if row["layer"] == "loud" and row["unit"] == str(unit)))
        assert r == pytest.approx(np.corrcoef(units[:, unit], loud)[0, 1], abs=1e-6)

    first = run.data.utterances[segments[next(iter(run.batches(run.folds[0], "test"))).ids[0]].utt_index].id
    for name in (f"loudness_{first}.png", "r_histogram.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary["plots"] == [f"loudness_{first}.png", "r_histogram.png"]
    assert json.loads((out / "summary.json").read_text())["paper"]["unit"] == 840


def test_loudness_analyzer_limits_utterances_and_plots_the_one_asked_for(run):
    summary = LoudnessCorrelation(utterance="s3_4", max_utterances=12, top=2).analyze(run)
    assert summary["plots"][0] == "loudness_s3_4.png" and len(summary["top"]) == 2
    limited = LoudnessCorrelation(max_utterances=2).analyze(run)
    assert limited["utterances"] == 2 and limited["best"]["loud"]["frames"] < summary["best"]["loud"]["frames"]
    with pytest.raises(SertkError, match="utterance 's0_1' is not among"):
        LoudnessCorrelation(utterance="s0_1").analyze(run)
    with pytest.raises(SertkError, match="no fold 'nope'"):
        LoudnessCorrelation(fold="nope").analyze(run)


def test_tsne_separates_the_class_layer_better_than_the_noise_layer(run):
    summary = run.analyze({"name": "tsne", "params": {"perplexity": 30.0, "seed": 1}})
    out = run.dir / "analysis" / "tsne"
    scores = summary["separation"]
    assert summary["utterances"] == 12 and scores["sep"]["perplexity"] == pytest.approx(11 / 3)
    assert scores["sep"]["knn_accuracy"] == 1.0 and scores["sep"]["knn_chance"] == 0.5
    assert scores["sep"]["silhouette"] > 0.5 > scores["rand"]["silhouette"] + 0.3
    assert scores["rand"]["knn_accuracy"] < scores["sep"]["knn_accuracy"]
    assert scores["loud"]["units"] == 3 and scores["sep"]["utterances"] == 12
    rows = read_csv(out / "tsne.csv")
    assert list(rows[0]) == ["id", "layer", "x", "y", "class"] and len(rows) == 36
    assert {r["class"] for r in rows} == set(CLASSES)
    assert {r["class"] for r in rows if r["id"] == "s2_1"} == {"sadness"}
    assert summary["plots"] == ["tsne_loud.png", "tsne_sep.png", "tsne_rand.png", "tsne_layers.png"]
    for name in summary["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tsne_layers_and_limits(run):
    summary = TSNE(layers="sep", max_utterances=5, part="train").analyze(run)
    assert list(summary["separation"]) == ["sep"] and summary["utterances"] == 5
    assert summary["separation"]["sep"]["perplexity"] == pytest.approx(4 / 3) and summary["perplexity"] == 30.0
    with pytest.raises(SertkError, match=r"no layer 'gru2' \(layers: loud, sep, rand\)"):
        TSNE(layers=["gru2"]).analyze(run)
    with pytest.raises(SertkError, match="needs at least 3"):
        TSNE(max_utterances=2).analyze(run)


class PlainRun:
    """A run whose model has no representations (only what the analyzers touch first)."""

    dir, folds = Path("runs/plain"), ["speakers-s2"]

    def model(self, fold):
        return NoRepresentations(LabelSpace({"emotion": CLASSES}, ())).eval()


def test_models_without_representations_are_refused_in_one_line():
    for analyzer in COMPONENTS:
        with pytest.raises(SertkError) as info:
            analyzer().analyze(PlainRun())
        analyzer = analyzer.name
        message = str(info.value)
        assert analyzer in message and "NoRepresentations" in message and "sertk-lakomkin" in message
        assert "\n" not in message


def test_a_lakomkin_model_gives_both_analyzers_its_subsampled_layers(tmp_path):
    """MP-2 of sertk-lakomkin on a small, untrained recogniser: its convolutions halve the
    spectrogram's frame rate, and the analyzers take every layer's own valid frames."""
    model = {"name": "lakomkin_mp", "params": {"layer": 2, "asr_feature": "test_spectra", "asr_channels": [4, 4],
                                               "asr_hidden": 8, "asr_layers": 2}}
    run = finished_run(tmp_path, model, ["test_spectra"], entry_points=True)
    loud = run.analyze({"name": "loudness_correlation", "params": {"top": 3}})
    assert list(loud["best"]) == ["conv", "gru1", "gru2"] and loud["utterances"] == 12
    inputs = sum(int(b.lengths["test_spectra"].sum()) for b in run.batches(run.folds[0], "test"))
    frames = {layer: best["frames"] for layer, best in loud["best"].items()}
    assert frames["conv"] == frames["gru1"] == frames["gru2"] and 1.9 < inputs / frames["conv"] < 2.1
    assert all(-1 <= row["r"] <= 1 for row in loud["top"]) and len(loud["top"]) == 3
    tsne = run.analyze({"name": "tsne", "params": {"layers": ["conv", "gru2"]}})
    assert list(tsne["separation"]) == ["conv", "gru2"] and tsne["separation"]["gru2"]["units"] == 8
    assert (run.dir / "analysis" / "tsne" / "tsne_layers.png").is_file()
