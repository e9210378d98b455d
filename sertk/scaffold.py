"""``sertk new-plugin``: write a working third-party plugin package to start from.

The package ``sertk-NAME/`` holds a pyproject with the ``sertk`` entry point,
``sertk_NAME/plugin.py`` registering one example component per requested kind
lazily (``"module:Class"``), one module per kind, a test file that checks every
component on generated data, and a README.  It is written into a temporary
folder beside the target and renamed into place, so it appears whole or not at
all; an existing target is never overwritten.
"""
from __future__ import annotations

import keyword
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Sequence

from .errors import SertkError, unknown
from .plugins import BUILTIN
from .registry import SINGULAR

DEFAULT_KINDS = ("feature", "model")
_PLURAL = {singular: kind for kind, singular in SINGULAR.items()}  # "feature" -> "features" (the hook's name)
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CITE = '''Cite the paper here: authors (year), "title", venue, and the section and table this
    reproduces; name every deviation from it.'''


@dataclass(frozen=True)
class KindTemplate:
    """What the scaffold writes for one component kind."""

    module: str  # the module in sertk_NAME/ holding the class
    cls: str
    component: str  # the recipe name after the plugin-name prefix
    source: str
    test: str


PARTS: dict[str, KindTemplate] = {}


def _part(kind: str, module: str, cls: str, component: str, source: str, test: str) -> None:
    PARTS[kind] = KindTemplate(module, cls, component, source.replace("$cite", _CITE), test)


# ----------------------------------------------------------------- feature
_part("feature", "features", "Energy", "energy", '''"""Features of the $name plugin."""
import numpy as np

from sertk import Feature


class Energy(Feature):
    """Frame log-energy (dB) and zero-crossing rate: (frames, 2).

    $cite
    """

    name = "${name}_energy"
    summary = "frame log-energy (dB) and zero-crossing rate (scaffold example)"

    def __init__(self, win_ms: float = 25.0, hop_ms: float = 10.0):
        if win_ms <= 0 or hop_ms <= 0:
            raise ValueError(f"win_ms and hop_ms must be positive, got {win_ms} and {hop_ms}")
        self.win_ms, self.hop_ms = win_ms, hop_ms

    def _samples(self, ms, sample_rate):
        return max(1, round(sample_rate * ms / 1000))

    def __call__(self, signal, sample_rate):
        win, hop = self._samples(self.win_ms, sample_rate), self._samples(self.hop_ms, sample_rate)
        signal = np.asarray(signal, dtype=np.float64)
        signal = np.pad(signal, (0, max(0, win - len(signal))))
        starts = np.arange(0, len(signal) - win + 1, hop)
        # running sums keep memory linear in the samples, whatever the window
        power = np.concatenate([[0.0], np.cumsum(signal ** 2)])
        changes = np.concatenate([[0], np.cumsum(np.signbit(signal[1:]) != np.signbit(signal[:-1]))])
        energy = 10 * np.log10((power[starts + win] - power[starts]) / win + 1e-10)
        crossings = (changes[starts + win - 1] - changes[starts]) / max(win - 1, 1)
        return np.stack([energy, crossings], axis=1).astype(np.float32)

    def frame_rate(self, sample_rate):
        return sample_rate / self._samples(self.hop_ms, sample_rate)
''', '''

def test_energy_on_a_sine():
    from sertk_$name.features import Energy

    sr, t = 16000, np.arange(16000) / 16000
    out = Energy()(0.5 * np.sin(2 * np.pi * 200 * t).astype(np.float32), sr)
    assert out.shape == (1 + (16000 - 400) // 160, 2) and out.dtype == np.float32
    assert np.allclose(out[:, 0], 10 * np.log10(0.125), atol=0.05)  # mean of (0.5 sin)^2 over whole periods
    assert np.allclose(out[:, 1], 400 / sr, atol=0.003)  # 400 sign changes per second
    assert Energy().frame_rate(sr) == 100.0
    noise = np.random.default_rng(0).standard_normal(3000).astype(np.float32)
    frames = [noise[s:s + 400].astype(np.float64) for s in range(0, 3000 - 400 + 1, 160)]
    direct = [[10 * np.log10(np.mean(f ** 2) + 1e-10), np.mean(np.signbit(f[1:]) != np.signbit(f[:-1]))]
              for f in frames]
    assert np.allclose(Energy()(noise, sr), direct, atol=1e-4)  # frame by frame, by hand
    with pytest.raises(ValueError):
        Energy(hop_ms=0)
''')

# ----------------------------------------------------------------- model
_part("model", "models", "Probe", "probe", '''"""Models of the $name plugin."""
from typing import Optional

import torch

from sertk import Model
from sertk.nn import mean_std_pool, target_head


class Probe(Model):
    """The mean and standard deviation of every frame-level input over its valid frames,
    concatenated with the utterance-level inputs, then one linear layer.

    $cite
    """

    name = "${name}_probe"
    summary = "mean/std-pooled inputs and one linear layer (scaffold example)"

    def __init__(self, inputs, labels, target: Optional[str] = None, dropout: float = 0.0):
        super().__init__()
        if not inputs:
            raise ValueError(f"{self.name} needs at least one feature stream")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.heads = [target_head(labels, target, self.name)]
        self.keys = list(inputs)
        self.frame_keys = {k for k, info in inputs.items() if info.level == "frame"}
        head = self.heads[0]
        self.dropout = torch.nn.Dropout(dropout)
        width = sum(2 * info.dim if k in self.frame_keys else info.dim for k, info in inputs.items())
        self.out = torch.nn.Linear(width, len(head.classes) if head.kind == "classification" else 1)

    def forward(self, inputs, lengths=None):
        lengths = lengths or {}
        parts = [mean_std_pool(inputs[k], lengths.get(k)) if k in self.frame_keys else inputs[k] for k in self.keys]
        out = self.out(self.dropout(torch.cat(parts, dim=-1)))
        head = self.heads[0]
        return {head.name: out if head.kind == "classification" else out.squeeze(-1)}
''', '''

def test_probe_output_shape_ignores_padding():
    import torch

    from sertk import FeatureInfo, LabelSpace
    from sertk_$name.models import Probe

    torch.manual_seed(0)
    inputs = {"frames": FeatureInfo("frames", 2, "frame", 100.0), "stats": FeatureInfo("stats", 3, "utterance")}
    model = Probe(inputs, LabelSpace(classes={"emotion": ("anger", "joy", "neutral")})).eval()
    x = {"frames": torch.randn(4, 50, 2), "stats": torch.randn(4, 3)}
    lengths = {"frames": torch.tensor([50, 30, 20, 10])}
    out = model(x, lengths)["emotion"]
    assert out.shape == (4, 3)
    x["frames"][1, 30:] = 99.0  # padding must not change the output
    assert torch.allclose(model(x, lengths)["emotion"], out)
    valid = x["frames"][3, :10]
    pooled = torch.cat([valid.mean(0), valid.std(0, unbiased=False), x["stats"][3]])
    assert torch.allclose(out[3], model.out(pooled), atol=1e-6)
    regression = Probe(inputs, LabelSpace(dimensions=("arousal",)))
    assert regression(x, lengths)["arousal"].shape == (4,)
''')

# ----------------------------------------------------------------- loss
_part("loss", "losses", "SmoothedCrossEntropy", "smoothed_ce", '''"""Losses of the $name plugin."""
from sertk import Loss


class SmoothedCrossEntropy(Loss):
    """Cross-entropy with label smoothing, over utterances or over the valid frames of a mask.

    $cite
    """

    name = "${name}_smoothed_ce"
    summary = "cross-entropy with label smoothing (scaffold example)"
    kinds = ("classification",)

    def __init__(self, smoothing: float = 0.1):
        if not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        self.smoothing = smoothing

    def __call__(self, output, target, mask=None, **lengths):
        import torch

        logp = torch.log_softmax(output, dim=-1)
        nll = -logp.gather(-1, target.long().clamp_min(0).unsqueeze(-1)).squeeze(-1)
        loss = (1 - self.smoothing) * nll - self.smoothing * logp.mean(-1)
        if mask is None:
            return loss.mean()
        mask = mask.to(loss.dtype)
        return (loss * mask).sum() / mask.sum().clamp_min(1)
''', '''

def test_smoothed_ce_matches_torch():
    import torch

    from sertk_$name.losses import SmoothedCrossEntropy

    torch.manual_seed(0)
    logits, target = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1])
    reference = torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.2)
    assert torch.allclose(SmoothedCrossEntropy(0.2)(logits, target), reference)
    frames, labels = torch.randn(2, 5, 4), torch.randint(0, 4, (2, 5))
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    valid = torch.nn.functional.cross_entropy(frames[mask], labels[mask], label_smoothing=0.1)
    assert torch.allclose(SmoothedCrossEntropy()(frames, labels, mask), valid)
''')

# ----------------------------------------------------------------- metric
_part("metric", "metrics", "Accuracy", "accuracy", '''"""Metrics of the $name plugin."""
import numpy as np

from sertk import Metric


class Accuracy(Metric):
    """The fraction of utterances whose predicted class is the true one.

    $cite
    """

    name = "${name}_accuracy"
    summary = "fraction of correct classes (scaffold example)"
    kind = "classification"

    def __call__(self, y_true, y_pred, classes=()):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")

    def chance(self, n_classes):
        return 1.0 / n_classes
''', '''

def test_accuracy_by_hand():
    from sertk_$name.metrics import Accuracy

    assert Accuracy()([0, 1, 2, 2], [0, 2, 2, 1], ("a", "b", "c")) == 0.5
    assert Accuracy().chance(4) == 0.25
    assert np.isnan(Accuracy()([], []))
''')

# ----------------------------------------------------------------- protocol
_part("protocol", "protocols", "SpeakerFolds", "speaker_folds", '''"""Evaluation protocols of the $name plugin."""
from sertk import Fold, Protocol, SertkError


class SpeakerFolds(Protocol):
    """Speaker-independent k-fold cross-validation: the sorted speakers are dealt round-robin
    into ``n_folds`` groups; each fold tests on one group and trains on the others.

    $cite
    """

    name = "${name}_speaker_folds"
    summary = "speaker-independent k-fold over speaker groups (scaffold example)"
    speaker_independent = True

    def __init__(self, n_folds: int = 5):
        if n_folds < 2:
            raise ValueError(f"n_folds must be at least 2, got {n_folds}")
        self.n_folds = n_folds

    def folds(self, utterances):
        speakers = sorted({u.speaker for u in utterances})
        if len(speakers) < self.n_folds:
            raise SertkError(f"protocol {self.name}: n_folds {self.n_folds} needs at least as many speakers, "
                             f"the corpus has {len(speakers)}; lower protocol.params.n_folds")
        group = {s: i % self.n_folds for i, s in enumerate(speakers)}
        return [Fold(f"group-{k}", train=[i for i, u in enumerate(utterances) if group[u.speaker] != k],
                     test=[i for i, u in enumerate(utterances) if group[u.speaker] == k])
                for k in range(self.n_folds)]
''', '''

def test_speaker_folds_never_share_a_speaker():
    from sertk import SertkError, Utterance
    from sertk_$name.protocols import SpeakerFolds

    utterances = [Utterance(id=f"{s}-{i}", speaker=s) for s in "abcde" for i in range(3)]
    folds = SpeakerFolds(n_folds=2).folds(utterances)
    assert len(folds) == 2
    assert sorted(i for f in folds for i in f.test) == list(range(len(utterances)))
    for fold in folds:
        assert not {utterances[i].speaker for i in fold.train} & {utterances[i].speaker for i in fold.test}
        assert sorted(fold.train + fold.test) == list(range(len(utterances)))
    assert {utterances[i].speaker for i in folds[0].test} == {"a", "c", "e"}
    with pytest.raises(SertkError, match="n_folds"):
        SpeakerFolds(n_folds=6).folds(utterances)
''')

# ----------------------------------------------------------------- corpus
_part("corpus", "corpora", "FolderCorpus", "folders", '''"""Corpora of the $name plugin."""
from pathlib import Path

from sertk import Corpus, SertkError, Utterance


class FolderCorpus(Corpus):
    """Recordings laid out as ``root/<speaker>/<emotion>/<id>.wav``.

    $cite
    """

    name = "${name}_folders"
    summary = "wav files under root/<speaker>/<emotion>/ (scaffold example)"

    def __init__(self, root: str):
        self.root = Path(root).expanduser()

    def utterances(self):
        files = sorted(self.root.glob("*/*/*.wav"))
        if not files:
            raise SertkError(f"corpus {self.name}: no recordings under {self.root}; expected "
                             f"{self.root}/<speaker>/<emotion>/<id>.wav (set corpus.params.root)")
        return [Utterance(id=f"{p.parts[-3]}/{p.parts[-2]}/{p.stem}", speaker=p.parts[-3], path=str(p),
                          corpus=self.name, labels={"emotion": p.parts[-2]}) for p in files]
''', '''

def test_folder_corpus_reads_its_layout(tmp_path):
    from sertk import SertkError, load_audio, write_audio
    from sertk_$name.corpora import FolderCorpus

    tone = 0.1 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000).astype(np.float32)
    for speaker, emotion in [("s1", "anger"), ("s1", "joy"), ("s2", "anger")]:
        (tmp_path / speaker / emotion).mkdir(parents=True)
        write_audio(tmp_path / speaker / emotion / "001.wav", tone, 16000)
    utterances = FolderCorpus(str(tmp_path)).utterances()
    assert [(u.speaker, u.labels["emotion"]) for u in utterances] == [("s1", "anger"), ("s1", "joy"),
                                                                     ("s2", "anger")]
    assert len({u.id for u in utterances}) == 3
    signal, rate = load_audio(utterances[0].path)
    assert rate == 16000 and len(signal) == 8000
    with pytest.raises(SertkError, match="expected"):
        FolderCorpus(str(tmp_path / "missing")).utterances()
''')

# ----------------------------------------------------------------- augmentation
_part("augmentation", "augmentations", "RandomGain", "gain", '''"""Augmentations of the $name plugin."""
import numpy as np

from sertk import Augmentation


class RandomGain(Augmentation):
    """Scale the signal by a gain drawn uniformly from -max_db..max_db dB.

    $cite
    """

    name = "${name}_gain"
    summary = "random gain within +-max_db dB (scaffold example)"

    def __init__(self, max_db: float = 6.0):
        if max_db < 0:
            raise ValueError(f"max_db must not be negative, got {max_db}")
        self.max_db = max_db

    def __call__(self, signal, sample_rate, rng):
        gain_db = rng.uniform(-self.max_db, self.max_db)
        return (np.asarray(signal) * 10 ** (gain_db / 20)).astype(np.float32)
''', '''

def test_random_gain_is_seeded_and_bounded():
    from sertk_$name.augmentations import RandomGain

    signal = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
    out = RandomGain(max_db=6.0)(signal, 16000, np.random.default_rng(7))
    gain_db = np.random.default_rng(7).uniform(-6.0, 6.0)
    assert out.shape == signal.shape and out.dtype == np.float32
    assert np.allclose(out, signal * 10 ** (gain_db / 20), rtol=1e-6)
    assert np.array_equal(RandomGain(0.0)(signal, 16000, np.random.default_rng(1)), signal)
''')

# ----------------------------------------------------------------- analyzer
_part("analyzer", "analyzers", "Confidence", "confidence", '''"""Analyzers of the $name plugin."""
import numpy as np

from sertk import Analyzer, SertkError, write_csv


class Confidence(Analyzer):
    """The mean top-class probability of each fold's model on its test utterances
    (first utterance-level classification head; torch models), in ``confidence.csv``.

    $cite
    """

    name = "${name}_confidence"
    summary = "mean top-class probability per fold (scaffold example)"

    def analyze(self, run):
        import torch

        head = next((h for h in run.heads if h.kind == "classification" and h.level == "utterance"), None)
        if head is None:
            raise SertkError(f"analyzer {self.name} needs an utterance-level classification head; "
                             f"the run has {[h.name for h in run.heads]}")
        rows = []
        for fold in run.folds:
            model = run.model(fold)
            if not isinstance(model, torch.nn.Module):
                raise SertkError(f"analyzer {self.name} needs a torch model, the run's is {type(model).__name__}")
            with torch.no_grad():
                top = [torch.softmax(model(b.inputs, b.lengths)[head.name], -1).max(-1).values
                       for b in run.batches(fold, "test")]
            if top:
                values = torch.cat(top).numpy()
                rows.append({"fold": fold, "n": len(values), "mean_confidence": float(np.mean(values))})
        write_csv(run.analysis_dir(self.name) / "confidence.csv", rows)
        return {"head": head.name, "mean_confidence": {r["fold"]: r["mean_confidence"] for r in rows}}
''', '''

def test_confidence_on_a_stub_run(tmp_path):
    import csv
    from types import SimpleNamespace

    import torch

    from sertk import Head
    from sertk_$name.analyzers import Confidence

    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])

    class Fixed(torch.nn.Module):
        def forward(self, inputs, lengths=None):
            return {"emotion": logits}

    run = SimpleNamespace(
        heads=[Head("emotion", classes=("a", "b", "c"))], folds=["f1", "f2"], model=lambda fold: Fixed(),
        batches=lambda fold, split: iter([SimpleNamespace(inputs={}, lengths={})]),
        analysis_dir=lambda name: tmp_path)
    summary = Confidence().analyze(run)
    expected = (np.exp(2) / (np.exp(2) + 2) + 1 / 3) / 2
    assert summary["mean_confidence"] == pytest.approx({"f1": expected, "f2": expected})
    rows = list(csv.DictReader((tmp_path / "confidence.csv").open()))
    assert [r["fold"] for r in rows] == ["f1", "f2"] and rows[0]["n"] == "2"
''')

# ----------------------------------------------------------------- strategy
_part("strategy", "strategies", "Combined", "combined", '''"""Training strategies of the $name plugin."""
from sertk import Strategy


class Combined(Strategy):
    """One model trained on the training and validation parts together, without model
    selection (all epochs of the recipe are run).

    $cite
    """

    name = "${name}_combined"
    summary = "train on training + validation parts, no selection (scaffold example)"

    def fit(self, session):
        model = session.new_model()
        session.fit(model, train=session.train + session.validation, validation=session.validation.subset([]))
        return model
''', '''

def test_combined_trains_on_both_parts():
    from types import SimpleNamespace

    from sertk import Part
    from sertk_$name.strategies import Combined

    calls = []
    session = SimpleNamespace(train=Part([0, 1, 2], {"emotion": [0, 1, 0]}), validation=Part([5], {"emotion": [1]}),
                              new_model=lambda: "model", fit=lambda model, train, validation: calls.append(
                                  (model, train, validation)))
    assert Combined().fit(session) == "model"
    (model, train, validation), = calls
    assert train.segments == [0, 1, 2, 5] and train.targets == {"emotion": [0, 1, 0, 1]}
    assert len(validation) == 0
''')


# ----------------------------------------------------------------- the package
_PYPROJECT = '''[build-system]
requires = ["setuptools>=77", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "sertk plugin $name: (one line on the paper it reproduces)"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["sertk"]

[project.entry-points.sertk]
$name = "sertk_$name.plugin"

[tool.setuptools.packages.find]
include = ["sertk_$name*"]
'''

_PLUGIN = '''"""Entry point of the $dist plugin: registers its components.

They are registered as lazy ``"module:Class"`` references, so that ``sertk list`` and
``sertk show`` read them from the source without importing them (nor torch); each class
is imported when a recipe first uses it.
"""
from sertk import hookimpl
'''

_HOOK = '''

@hookimpl
def sertk_register_$kinds(register):
$lines
'''

_TESTS = '''"""Tests of the $dist plugin: every component built and checked on generated data."""
import importlib

import numpy as np
import pytest

from sertk_$name import plugin


def test_every_registration_names_its_class():
    registered = []
    for hook in [getattr(plugin, n) for n in dir(plugin) if n.startswith("sertk_register_")]:
        hook(register=lambda target, name, **meta: registered.append((target, name)))
    assert registered
    for target, name in registered:
        module, _, cls = target.partition(":")
        assert getattr(importlib.import_module(module), cls).name == name
'''

_README = '''# $dist

A sertk plugin: (what it implements, and the paper: authors, year, title, venue).
Written by `sertk new-plugin $name`; rename the components and replace the examples.

| kind | name | class |
|---|---|---|
$table

Cite the paper (section and table) in each component's docstring and name every deviation.

## Install and use

    pip install -e .          # again after changing entry points
    sertk list                # the components above, plugin "$name"
    sertk show $showkind $showname

In a recipe, name a component like any built-in one:

$recipe

## Tests

    python -m pytest tests/test_$name.py

Report here every figure you measure, with the exact command and its protocol.
'''


def check_name(name: str) -> str:
    """``name`` if it is a lower-case Python identifier that can name a plugin."""
    if not _NAME.fullmatch(name or "") or keyword.iskeyword(name) or name == BUILTIN:
        raise SertkError(f"new-plugin NAME {name!r}: use a lower-case Python identifier (letters, digits and "
                         f"underscores, starting with a letter, not '{BUILTIN}'), e.g. 'my_paper'")
    return name


def parse_kinds(text: str) -> list[str]:
    """Component kinds from ``"feature,model"`` (singular or plural names, or ``all``), in order, once each."""
    kinds: list[str] = []
    for word in filter(None, (w.strip() for w in text.split(","))):
        if word == "all":
            kinds += list(PARTS)
            continue
        kind = SINGULAR.get(word, word)
        if kind not in _PLURAL:
            raise SertkError(f"--kinds: {unknown('component kind', word, [*PARTS, 'all'])}")
        kinds.append(kind)
    if not kinds:
        raise SertkError(f"--kinds: name at least one of {', '.join(PARTS)}")
    return list(dict.fromkeys(kinds))


def files(name: str, kinds: Sequence[str]) -> dict[str, str]:
    """Relative path → text of every file of plugin ``name`` with one component per kind."""
    fill = {"name": name, "dist": f"sertk-{name.replace('_', '-')}"}
    out = {"pyproject.toml": _PYPROJECT, f"sertk_{name}/__init__.py": '"""The $dist plugin for sertk."""\n'}
    plugin, tests, rows = _PLUGIN, _TESTS, []
    for kind in kinds:
        part = PARTS[kind]
        component = f"{name}_{part.component}"
        out[f"sertk_{name}/{part.module}.py"] = part.source
        lines = f'    register("sertk_{name}.{part.module}:{part.cls}", name="{component}")'
        plugin += Template(_HOOK).substitute(kinds=_PLURAL[kind], lines=lines)
        tests += part.test
        rows.append(f"| {kind} | `{component}` | `sertk_{name}.{part.module}.{part.cls}` |")
    out[f"sertk_{name}/plugin.py"] = plugin
    out[f"tests/test_{name}.py"] = tests
    first = kinds[0]
    out["README.md"] = Template(_README).safe_substitute(
        table="\n".join(rows), showkind=_PLURAL[first], showname=f"{name}_{PARTS[first].component}",
        recipe=_recipe(name, kinds))
    return {path: Template(text).safe_substitute(fill) for path, text in out.items()}


def _recipe(name: str, kinds: Sequence[str]) -> str:
    """A recipe fragment (indented as a Markdown code block) using the scaffold's components."""
    use = {"corpus": f"corpus: {{name: {name}_folders, params: {{root: /path/to/recordings}}}}",
           "feature": f"features: [{{name: {name}_energy, params: {{hop_ms: 10}}}}]",
           "augmentation": f"augment: [{{name: {name}_gain, params: {{max_db: 6}}}}]",
           "model": f"model: {name}_probe",
           "loss": f"loss: {name}_smoothed_ce",
           "protocol": f"protocol: {{name: {name}_speaker_folds, params: {{n_folds: 5}}}}",
           "metric": f"metrics: [ua, {name}_accuracy]",
           "strategy": f"strategy: {name}_combined",
           "analyzer": f"analyzers: [{name}_confidence]"}
    return "\n".join(f"    {line}" for kind, line in use.items() if kind in kinds)


def scaffold(name: str, directory: str | os.PathLike = ".", kinds: Sequence[str] = DEFAULT_KINDS) -> Path:
    """Write ``directory/sertk-NAME/`` and return it; an existing target is an error."""
    check_name(name)
    kinds = parse_kinds(",".join(kinds))
    parent = Path(directory).expanduser()
    target = parent / f"sertk-{name}"
    if target.exists() or target.is_symlink():
        raise SertkError(f"{target} already exists; choose another NAME or --dir (new-plugin never overwrites)")
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".sertk-{name}-{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir()
    try:
        for relative, text in files(name, kinds).items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if target.exists():
            raise SertkError(f"{target} appeared while it was written; nothing was changed there")
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target
