"""Hostile-but-realistic input: nothing sertk opens runs code, no name escapes its
folder, no bad recording or setting ends in a traceback or a silent wrong number."""
from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from sertk import Feature
from tests.fakes.cli import RATE, finished_run, invoke, manifest, one_line_error, recipe_file, tone
from sertk.data.cache import FeatureCache
from sertk.data.extract import extract_features
from sertk.data.segment import SegmentPolicy
from sertk.interfaces import Utterance
from sertk.plugins import load_plugins
from sertk.recipe import load_recipe, parse_recipe
from sertk.registry import Registry


@pytest.fixture(scope="module")
def svm_run(tmp_path_factory) -> Path:
    return finished_run(tmp_path_factory.mktemp("svm"), estimator=True)


class Pwn:
    """A pickle that creates a file when it is loaded."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


# ------------------------------------------------------------------ security
def test_estimator_runs_store_arrays_and_planted_pickles_are_never_loaded(svm_run, tmp_path):
    folds = sorted((svm_run / "folds").iterdir())
    assert all((f / "model.npz").is_file() and not list(f.glob("*.pkl")) for f in folds)
    pwned = tmp_path / "pwned"
    for fold in folds:
        (fold / "model.pkl").write_bytes(pickle.dumps(Pwn(pwned)))
    result = invoke("predict", svm_run, tone(tmp_path / "new.wav", 400.0))
    assert result.exit_code == 0, result.output
    assert ("high" in result.output or "low" in result.output) and "score" in result.output
    assert "probability" not in result.output
    assert not pwned.exists()


def test_a_model_file_holding_code_is_refused_with_one_line(svm_run, tmp_path):
    fold = sorted((svm_run / "folds").iterdir())[0]
    saved = (fold / "model.npz").read_bytes()
    try:
        with open(fold / "model.npz", "wb") as handle:
            np.savez(handle, coef=np.array([Pwn(tmp_path / "pwned")], dtype=object))
        one_line_error(invoke("predict", svm_run, tone(tmp_path / "new.wav", 400.0)), "model.npz")
    finally:
        (fold / "model.npz").write_bytes(saved)
    assert not (tmp_path / "pwned").exists()


def test_a_torch_model_file_holding_code_is_refused(tmp_path):
    run = finished_run(tmp_path)
    fold = sorted((run / "folds").iterdir())[0]
    (fold / "model.pt").write_bytes(pickle.dumps(Pwn(tmp_path / "pwned")))
    one_line_error(invoke("predict", run, tone(tmp_path / "new.wav", 400.0)), "model.pt", "cannot be loaded")
    assert not (tmp_path / "pwned").exists()


def test_tuning_never_unpickles_its_folder(tmp_path):
    corpus = manifest(tmp_path / "corpus")
    recipe = recipe_file(tmp_path, corpus, tune={"trials": 1, "space": {"train.optimizer.lr": {"choice": [0.01]}}})
    folder = tmp_path / "runs" / "recipe-tune"
    folder.mkdir(parents=True)
    (folder / "trials.pkl").write_bytes(pickle.dumps(Pwn(tmp_path / "pwned")))
    one_line_error(invoke("tune", recipe), "trials.pkl", "never loaded")
    assert not (tmp_path / "pwned").exists()


def test_tuning_state_round_trips_through_json_to_the_same_suggestion():
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe

    from sertk.engine.tune_state import load_trials, save_trials

    space = {"a": hp.uniform("a", 0, 1), "b": hp.choice("b", [1, 2, 3])}

    def objective(p):
        return {"status": STATUS_OK, "loss": (p["a"] - 0.3) ** 2 + p["b"]}

    def next_point(trials):
        fmin(objective, space, algo=tpe.suggest, max_evals=len(trials.trials) + 1, trials=trials,
             rstate=np.random.default_rng(7), show_progressbar=False)
        return trials.trials[-1]["misc"]["vals"]

    trials = Trials()
    fmin(objective, space, algo=tpe.suggest, max_evals=25, trials=trials, rstate=np.random.default_rng(0),
         show_progressbar=False)
    with __import__("tempfile").TemporaryDirectory() as folder:
        path = Path(folder) / "state.json"
        save_trials(path, trials)
        restored = load_trials(path)
        assert json.loads(path.read_text())  # plain JSON
    assert len(restored.trials) == 25
    assert next_point(restored) == next_point(trials)


def test_names_from_the_corpus_never_leave_the_run_folder(tmp_path):
    corpus = manifest(tmp_path / "corpus", speakers=("x/../../../../esc", "s2", "s3"))
    result = invoke("run", recipe_file(tmp_path, corpus))
    assert result.exit_code == 0, result.output
    run = next((tmp_path / "runs").iterdir())
    written = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    inside = {p for p in written if run.resolve() in p.parents or (tmp_path / "cache").resolve() in p.parents
              or (tmp_path / "corpus").resolve() in p.parents}
    assert written - {(tmp_path / "recipe.yaml").resolve()} == inside
    assert (run / "folds" / "speaker-x_.._.._.._.._esc").is_dir()


def test_two_speakers_that_would_share_a_fold_folder_are_an_error(tmp_path):
    corpus = manifest(tmp_path / "corpus", speakers=("a/b", "a_b", "s3"))
    one_line_error(invoke("run", recipe_file(tmp_path, corpus)), "a/b", "a_b")


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden/../x"])
def test_output_name_must_be_one_folder(name, tmp_path):
    corpus = manifest(tmp_path / "corpus", per_class=1)
    one_line_error(invoke("validate", recipe_file(tmp_path, corpus, output={"name": name})), "output.name")


def test_yaml_alias_bomb_and_huge_recipes_are_refused_quickly(tmp_path):
    levels = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\n")
    started = time.monotonic()
    one_line_error(invoke("validate", bomb), "aliases expand")
    assert time.monotonic() - started < 10
    huge = tmp_path / "huge.yaml"
    huge.write_text("corpus: {name: synthetic}\nx: [" + ",".join(["1"] * 600_000) + "]\n")
    one_line_error(invoke("validate", huge), "kB is more than a recipe can be")


def test_a_few_aliases_still_work_and_scientific_notation_is_a_number(tmp_path, registry):
    raw = yaml.safe_load((Path(__file__).parents[1] / "recipes" / "demo.yaml").read_text())
    text = yaml.safe_dump(raw).replace("lr: 0.003", "lr: 1e-3")
    assert "lr: 1e-3" in text
    path = tmp_path / "demo.yaml"
    path.write_text("base: &opt {name: adam, lr: 1e-3}\n".replace("base: &opt {name: adam, lr: 1e-3}\n", "") + text)
    recipe = load_recipe(path, ["train.schedule.min_lr=1e-5"], registry)
    assert recipe.train.optimizer.lr == pytest.approx(1e-3) and recipe.train.schedule.min_lr == pytest.approx(1e-5)
    aliased = tmp_path / "aliased.yaml"
    aliased.write_text(text.replace("metrics:", "x_unused: &m [ua, wa]\nmetrics:", 1)
                       .replace("x_unused: &m [ua, wa]\n", ""))
    assert load_recipe(aliased, registry=registry)


@pytest.fixture(scope="module")
def registry():
    return Registry.from_plugins(load_plugins())


# ------------------------------------------------------------------ data integrity
class SwallowsInterrupts(Feature):
    """Like openSMILE's callback: a Ctrl-C inside the computation is caught and NaN returned."""

    name = "swallows_interrupts"
    level = "utterance"

    def __init__(self, seconds: float = 0.05):
        self.seconds = seconds

    def __call__(self, signal_, sample_rate):
        try:
            time.sleep(self.seconds)
            return np.array([float(np.mean(signal_)), float(np.std(signal_))])
        except KeyboardInterrupt:
            return np.array([np.nan, np.nan])


def _utterances(folder: Path, n: int) -> list[Utterance]:
    return [Utterance(id=f"u{i}", speaker="s", path=str(tone(folder / f"u{i}.wav", 200.0 + 10 * i, 0.1, i)))
            for i in range(n)]


def _cache_entries(root: Path) -> list[Path]:
    """Every cache entry file, .npy (one array) or .npz (several); temporary files of
    interrupted writes are not entries."""
    return [p for p in root.rglob("*.np[yz]") if not p.name.startswith(".")]


def _cached_arrays(root: Path) -> list[np.ndarray]:
    """Every array of every cache entry."""
    arrays = []
    for path in _cache_entries(root):
        if path.suffix == ".npy":
            arrays.append(np.load(path, allow_pickle=False))
            continue
        with np.load(path, allow_pickle=False) as stored:
            arrays += [stored[k] for k in stored.files]
    return arrays


def test_ctrl_c_at_any_moment_never_leaves_a_non_finite_cache_entry(tmp_path):
    utterances = _utterances(tmp_path / "wav", 12)
    cache = FeatureCache(tmp_path / "cache")
    for delay in (0.03, 0.07, 0.12, 0.18, 0.26, 0.33):
        timer = threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            extract_features(utterances, [("f", SwallowsInterrupts())], RATE, SegmentPolicy(), cache)
            time.sleep(1.0)  # the interrupt came after extraction finished: still raise it here
        timer.cancel()
    cached = _cached_arrays(tmp_path / "cache")
    assert cached and all(np.isfinite(a).all() for a in cached)
    done = extract_features(utterances, [("f", SwallowsInterrupts())], RATE, SegmentPolicy(), cache)
    assert len(done.kept) == 12 and not done.skipped


class NaNFeature(Feature):
    name = "nan_feature"
    level = "utterance"

    def __call__(self, signal_, sample_rate):
        return np.array([np.nan if len(signal_) > 1800 else 1.0])


def test_non_finite_features_are_skipped_and_never_cached(tmp_path):
    utterances = _utterances(tmp_path / "wav", 2)
    utterances[1] = Utterance(id="long", speaker="s", path=str(tone(tmp_path / "long.wav", 300.0, 0.2)))
    cache = FeatureCache(tmp_path / "cache")
    done = extract_features(utterances, [("f", NaNFeature())], RATE, SegmentPolicy(), cache)
    assert done.kept == [0] and [s.kind for s in done.skipped] == ["non-finite feature values"]
    assert all(np.isfinite(a).all() for a in _cached_arrays(tmp_path / "cache"))


class Slow(Feature):
    """Writes its process id, then works slowly (for the orphan test)."""

    name = "slow"
    level = "utterance"

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, signal_, sample_rate):
        Path(self.folder, f"{os.getpid()}.pid").touch()
        time.sleep(30)
        return np.zeros(1)


def _children(parent: int) -> list[int]:
    """Process ids whose parent is ``parent`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find processes")
def test_kill_9_of_the_main_process_leaves_no_worker_behind(tmp_path):
    (tmp_path / "pids").mkdir()
    script = f"""
import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})
from pathlib import Path
from test_core_reliability import Slow, _utterances, RATE
from sertk.data.cache import FeatureCache
from sertk.data.extract import extract_features
from sertk.data.segment import SegmentPolicy
utts = _utterances(Path({str(tmp_path / 'wav')!r}), 4)
extract_features(utts, [("s", Slow({str(tmp_path / 'pids')!r}))], {RATE}, SegmentPolicy(),
                 FeatureCache(Path({str(tmp_path / 'cache')!r})), workers=2)
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while len(list((tmp_path / "pids").iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.2)
    workers = [int(p.stem) for p in (tmp_path / "pids").iterdir()]
    assert len(workers) >= 2, "the workers never started"
    workers += _children(proc.pid)  # the resource tracker too
    proc.kill()
    proc.wait()
    deadline = time.time() + 15
    while any(_alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def test_an_unfinished_run_is_refused_by_every_command_that_reads_runs(svm_run, tmp_path):
    marker = svm_run / "UNFINISHED"
    marker.write_text("x")
    try:
        for args in (("predict", svm_run, tone(tmp_path / "n.wav", 300.0)), ("compare", svm_run),
                     ("analyze", svm_run, "confusion")):
            one_line_error(invoke(*args), "unfinished run")
    finally:
        marker.unlink()


# ------------------------------------------------------------------ bad input
def bad_files(folder: Path) -> dict[str, Path]:
    """One file per kind of unusable recording, with the kind sertk reports."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(RATE // 2) / RATE
    voice = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    files = {}

    def write(name, data, rate=RATE, subtype="FLOAT"):
        files[name] = folder / f"{name}.wav"
        sf.write(files[name], data, rate, subtype=subtype)

    write("non-finite samples", np.where(t < 0.25, voice, np.nan).astype(np.float32))
    write("non-finite samples (inf)", np.where(t < 0.25, voice, np.inf).astype(np.float32))
    write("extreme amplitude", voice * 1e30)
    write("silent audio", np.zeros_like(voice))
    write("empty or too short audio", voice[:1])
    write("empty or too short audio (none)", voice[:0])
    write("silent audio (antiphase stereo)", np.stack([voice, -voice], axis=1))
    write("implausible sample rate", voice, rate=1, subtype="PCM_16")
    write("truncated audio", voice, subtype="PCM_16")
    data = files["truncated audio"].read_bytes()
    files["truncated audio"].write_bytes(data[:len(data) // 2])
    files["truncated audio (header only)"] = folder / "header_only.wav"
    files["truncated audio (header only)"].write_bytes(data[:44])
    return files


def test_every_kind_of_unusable_recording_is_named_and_skipped(tmp_path):
    files = bad_files(tmp_path / "bad")
    utterances = [Utterance(id=kind, speaker="s", path=str(path)) for kind, path in files.items()]
    utterances.append(Utterance(id="good", speaker="s", path=str(tone(tmp_path / "good.wav", 220.0))))
    done = extract_features(utterances, [("f", SwallowsInterrupts(0.0))], RATE, SegmentPolicy(), FeatureCache(None))
    assert done.kept == [len(files)]
    assert [s.kind for s in done.skipped] == [kind.split(" (")[0] for kind in files]
    assert all(str(files[utterances[s.utt_index].id]) in s.message for s in done.skipped)


def test_one_bad_file_changes_nothing_for_the_others_and_stop_is_one_line(tmp_path):
    clean = tmp_path / "clean"
    manifest(clean / "corpus")
    result = invoke("run", recipe_file(clean, clean / "corpus"))
    assert result.exit_code == 0, result.output
    dirty = tmp_path / "dirty"
    bad = bad_files(dirty / "corpus" / "bad")["extreme amplitude"]
    manifest(dirty / "corpus", extra_rows=[f"{bad.relative_to(dirty / 'corpus')},s2,high"])
    result = invoke("run", recipe_file(dirty, dirty / "corpus"))
    assert result.exit_code == 0, result.output
    assert "skipped 1 recording with extreme amplitude" in result.output.replace("\n", " ")
    metrics = [json.loads(next((d / "runs").iterdir()).joinpath("metrics.json").read_text()) for d in (clean, dirty)]
    assert metrics[0]["heads"] == metrics[1]["heads"]
    result = invoke("run", recipe_file(dirty, dirty / "corpus", data={"bad_audio": "stop"}))
    one_line_error(result, str(bad), "extreme amplitude", "data.bad_audio: skip")


def test_non_finite_numeric_labels_are_skipped_not_scored(tmp_path):
    root = tmp_path / "corpus"
    rows = ["path,speaker,emotion,arousal"]
    for i, value in enumerate(["0.1", "nan", "0.9", "inf", "-0.4", "0.5"]):
        tone(root / f"{i}.wav", 200.0 + 20 * i)
        rows.append(f"{i}.wav,s{i % 3},x,{value}")
    rows.append("6.wav,s1,x")  # a ragged row: missing the dimension field
    tone(root / "6.wav", 330.0)
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    from sertk.corpora.manifest import Manifest

    corpus = Manifest(str(root), dimensions=["arousal"])
    utterances = corpus.utterances()
    assert sorted(u.labels["arousal"] for u in utterances) == [-0.4, 0.1, 0.5, 0.9]
    assert "3 rows with missing, non-numeric or non-finite dimensions" in corpus.report


@pytest.mark.parametrize("content, words", [
    ("path,speaker,emotion\n".encode() + "a\xe9.wav,s,x\n".encode("latin-1"), ["not UTF-8", "save it as UTF-8"]),
    (b"path\nx.wav\n", ["lacks the columns"]),
    (b'path,speaker,emotion\n"x.wav,s,a\n', ["manifest.csv"]),
])
def test_broken_manifests_are_one_line(tmp_path, content, words):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "manifest.csv").write_bytes(content)
    one_line_error(invoke("run", recipe_file(tmp_path, tmp_path / "corpus")), *words)


@pytest.mark.parametrize("override, key", [
    ("model.params=[1, 2]", "model.params"),
    ("train.seed=-1", "train.seed"),
    ("train.threads=100000", "train.threads"),
    ("data.workers=1000", "data.workers"),
    ("data.segment={policy: fixed, seconds: 100000}", "data.segment.seconds"),
    ("train.device=cuda:7", "train.device"),
    ("model.params.hidden=[0]", "hidden"),
])
def test_bad_values_fail_validate_and_run_before_any_extraction(tmp_path, override, key):
    corpus = manifest(tmp_path / "corpus", per_class=2)
    recipe = recipe_file(tmp_path, corpus)
    one_line_error(invoke("validate", recipe, "--set", override), key)
    one_line_error(invoke("run", recipe, "--set", override), key)
    assert not (tmp_path / "cache").exists() or len(_cache_entries(tmp_path / "cache")) <= 1


def test_estimator_params_are_checked_before_extraction(tmp_path):
    corpus = manifest(tmp_path / "corpus", per_class=2)
    recipe = recipe_file(tmp_path, corpus, estimator=True)
    one_line_error(invoke("validate", recipe, "--set", "model.params.C=-1"), "model", "C must be positive")
    started = time.monotonic()
    one_line_error(invoke("run", recipe, "--set", "model.params.C=-1"), "C must be positive")
    assert len(_cache_entries(tmp_path / "cache")) <= 1, "the whole corpus was extracted first"


def test_paths_that_are_files_are_one_line(tmp_path):
    corpus = manifest(tmp_path / "corpus", per_class=2)
    (tmp_path / "afile").write_text("x")
    recipe = recipe_file(tmp_path, corpus)
    one_line_error(invoke("run", recipe, "--out", tmp_path / "afile"), "afile")
    one_line_error(invoke("run", recipe, "--set", f"data.cache_dir={tmp_path / 'afile'}"), "afile")


def test_saliency_on_an_svm_run_and_damaged_run_files_are_one_line(svm_run, tmp_path):
    one_line_error(invoke("analyze", svm_run, "saliency"), "neural network")
    for name, damage in (("metrics.json", "{not json"), ("metrics.json", "[]"), ("data.json", '{"heads": 3}'),
                         ("folds.json", "\x00\x01")):
        path = svm_run / name
        saved = path.read_bytes()
        path.write_text(damage)
        try:
            command = ("compare", svm_run) if name == "metrics.json" else ("predict", svm_run,
                                                                           tone(tmp_path / "n.wav", 300.0))
            one_line_error(invoke(*command), name)
        finally:
            path.write_bytes(saved)


def test_list_never_cuts_names_and_speaks_json():
    result = invoke("list")
    assert "activation_maximization" in result.output and "…" not in result.output.split("summary")[0]
    rows = json.loads(invoke("list", "--json").output)
    assert {"kind", "name", "plugin", "version", "summary"} <= set(rows[0])
    assert any(r["name"] == "linear_svm" for r in rows)


def test_corpus_info_reports_what_a_run_would_skip(tmp_path):
    bad = bad_files(tmp_path / "corpus" / "bad")
    rows = [f"{bad[k].relative_to(tmp_path / 'corpus')},s9,low" for k in ("silent audio", "extreme amplitude")]
    manifest(tmp_path / "corpus", per_class=1, extra_rows=rows)
    result = invoke("corpus", "info", "manifest", "--root", tmp_path / "corpus", "--check-audio")
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", " ")
    assert "skipped 1 recording with silent audio" in text and "skipped 1 recording with extreme amplitude" in text
