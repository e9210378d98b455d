"""Token-sequence targets: cut to the audio, trained with CTC end to end, decoded
greedily and scored better than a blank-only output; features that read the
transcript see it and key the cache with it."""
import numpy as np
import pytest

from sertk import Corpus, Feature, Utterance, Word, hookimpl
from sertk.data.cache import FeatureCache
from sertk.data.extract import extract_features
from sertk.data.targets import normalize_text, sequence_tokens, sequence_vocabularies
from sertk.engine.run import run_recipe
from sertk.plugins import load_plugins
from sertk.recipe import parse_recipe
from sertk.registry import Registry
from sertk.settings import SegmentPolicy

RATE = 8000
PITCH = {"a": 300.0, "b": 900.0, "c": 1800.0}


def tone_sequence(rng, n_units):
    """Tones of 0.12–0.2 s separated by short silences; the units are the tones' names."""
    pieces, units, t = [np.zeros(int(0.05 * RATE))], [], 0.05
    for _ in range(n_units):
        name = rng.choice(list(PITCH))
        seconds = rng.uniform(0.12, 0.2)
        n = int(seconds * RATE)
        pieces += [0.3 * np.sin(2 * np.pi * PITCH[name] * np.arange(n) / RATE), np.zeros(int(0.04 * RATE))]
        units.append(Word(t, t + seconds, str(name)))
        t += seconds + 0.04
    return np.concatenate(pieces).astype(np.float32), units


class Tones(Corpus):
    name = "tones"

    def utterances(self):
        rng = np.random.default_rng(1)
        out = []
        for s in range(4):
            for k in range(12):
                audio, units = tone_sequence(rng, int(rng.integers(3, 7)))
                out.append(Utterance(f"s{s}_{k}", f"s{s}", audio=audio, sample_rate=RATE,
                                     alignments={"notes": units}))
        return out


class Bands(Feature):
    """Log energy in three bands around the tone pitches, 100 frames/s."""

    name = "bands"

    def __call__(self, signal, sample_rate):
        hop, win = sample_rate // 100, sample_rate // 40
        padded = np.pad(signal, (0, win))
        frames = np.stack([padded[i:i + win] for i in range(0, len(signal), hop)])
        spectrum = np.abs(np.fft.rfft(frames * np.hanning(win), axis=1)) ** 2
        freqs = np.fft.rfftfreq(win, 1 / sample_rate)
        return np.log(np.stack([spectrum[:, abs(freqs - f) < 150].sum(1) for f in PITCH.values()], 1) + 1e-6)

    def frame_rate(self, sample_rate):
        return 100.0


class Plugin:
    @hookimpl
    def sertk_register_corpora(self, register):
        register(Tones)

    @hookimpl
    def sertk_register_features(self, register):
        register(Bands)


def test_ctc_learns_token_sequences_of_unseen_speakers(tmp_path):
    loaded = load_plugins(entry_points=False)
    loaded.pm.register(Plugin(), name="tones-test")
    registry = Registry.from_plugins(loaded)
    recipe = parse_recipe({
        "corpus": "tones", "data": {"sample_rate": RATE, "cache": False}, "features": ["bands"],
        "model": {"name": "blstm", "params": {"hidden": 32, "layers": 1, "targets": ["notes"]}},
        "train": {"epochs": 40, "batch_size": 4, "optimizer": {"name": "adam", "lr": 0.01}, "device": "cpu",
                  "threads": 1, "select": "last"},
        "protocol": {"name": "speakers", "params": {"test_speakers": ["s3"]}}, "metrics": ["per"],
    }, "tones.yaml", registry)
    result = run_recipe(recipe, registry, out_dir=str(tmp_path))
    head = result.metrics["heads"]["notes"]
    assert head["kind"] == "sequence" and head["n"] == 12
    assert head["blank_only"]["per"] == pytest.approx(1.0)
    assert head["pooled"]["per"] < 0.45, head["pooled"]  # blank-only: 1.0; after one epoch: about 0.8
    rows = (result.dir / "predictions.csv").read_text().splitlines()
    assert len(rows) == 13 and all(set(r.split(",")[4].split()) <= set(PITCH) for r in rows[1:])


def test_sequence_targets_are_cut_where_the_audio_ends():
    units = [Word(0.0, 0.5, "a"), Word(0.5, 1.9, "b"), Word(1.9, 2.3, "c"), Word(2.3, 2.6, "a")]
    utt = Utterance("u", "s", alignments={"phones": units}, transcript="Der Lappen, liegt!",
                    words=[Word(0.0, 0.6, "Der"), Word(0.6, 1.2, "Lappen"), Word(1.9, 2.5, "liegt")])
    assert sequence_tokens(utt, "phones", 0.0, 2.0) == ["a", "b"]  # c's midpoint 2.1 s lies past the end
    assert sequence_tokens(utt, "transcript", 0.0, 2.0) == list("der lappen")
    assert normalize_text("Was sind denn das für Tüten?") == "was sind denn das für tüten"
    vocab = sequence_vocabularies([utt])
    assert vocab["phones"] == ("a", "b", "c") and " " in vocab["transcript"] and "ü" not in vocab["transcript"]


class WordCount(Feature):
    """Reads the transcript: the number of words in the segment, as a 1-vector."""

    name = "word_count"
    level = "utterance"
    uses = ("words",)

    def extract(self, signal, sample_rate, context):
        return np.array([len(context.words)], dtype=np.float32)


def test_features_that_read_words_see_them_and_key_the_cache(tmp_path):
    audio = (0.1 * np.sin(2 * np.pi * 200 * np.arange(RATE * 2) / RATE)).astype(np.float32)
    words = [Word(0.1, 0.4, "a"), Word(0.5, 0.9, "b"), Word(1.2, 1.8, "c")]
    utt = Utterance("u", "s", audio=audio, sample_rate=RATE, words=words)
    cache = FeatureCache(tmp_path)
    sliced = extract_features([utt], [("wc", WordCount())], RATE, SegmentPolicy("slices", 1.0, 0.5), cache)
    assert [a[0] for a in sliced.arrays["wc"]] == [2, 1]
    fewer = Utterance("u", "s", audio=audio, sample_rate=RATE, words=words[:1])
    again = extract_features([fewer], [("wc", WordCount())], RATE, SegmentPolicy("slices", 1.0, 0.5), cache)
    assert [a[0] for a in again.arrays["wc"]] == [1, 0]  # same audio, other words: not served from the cache
