"""Late fusion of runs (mean, weighted, stacking), its fold checks, ``sertk fuse`` and the
recipe ``fusion`` section."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from sertk.cli import main
from sertk.engine.fusion import (check_members, distribution, fuse_head, read_member, unweighted_accuracy,
                                 weight_grid, write_fused)
from sertk.engine.layout import RunLayout
from sertk.errors import ConfigError, SertkError
from sertk.plugins import load_plugins
from sertk.recipe import load_recipe
from sertk.registry import Registry

CLASSES = ("anger", "neutral", "sadness")
METRICS = [{"name": "ua", "params": {}}, {"name": "wa", "params": {}}]


@pytest.fixture(scope="module")
def registry():
    return Registry.from_plugins(load_plugins(entry_points=False))


def fake_run(folder: Path, folds: dict, scores: dict, labels: dict) -> Path:
    """A finished run: ``folds`` maps fold names to test ids (speaker = fold), ``scores`` and
    ``labels`` map ids to class scores and class names; training ids are the other folds'."""
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(yaml.safe_dump({"corpus": {"name": "emodb"}, "protocol": {"name": "loso"},
                                                        "metrics": METRICS}))
    split = {f: {"train": [u for g, ids in folds.items() if g != f for u in ids], "validation": [], "test": ids}
             for f, ids in folds.items()}
    (folder / "folds.json").write_text(json.dumps(split))
    head = {"kind": "classification", "level": "utterance", "classes": list(CLASSES)}
    (folder / "metrics.json").write_text(json.dumps({"folds": list(folds), "heads": {"emotion": head}}))
    with open(folder / "predictions.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["fold", "id", "speaker", "head", "true", "pred", "score_0", "score_1", "score_2"])
        for f, ids in folds.items():
            for u in ids:
                s = np.asarray(scores[u], dtype=float)
                writer.writerow([f, u, f, "emotion", labels[u], CLASSES[int(s.argmax())], *[f"{v:.6g}" for v in s]])
    return folder


def fuse(tmp_path, registry, runs, method, name, weights=None):
    layout = RunLayout(tmp_path / name)
    layout.dir.mkdir()
    return write_fused(layout, [read_member(r) for r in runs], method, METRICS, registry, weights)


def outputs(runs, method, weights=None) -> dict:
    """Fused test scores per fold, without writing a run."""
    members = [read_member(r) for r in runs]
    head = check_members(members)[0]
    return {f: fs.scores for f, fs in fuse_head(members, head, method, weights)[0].items()}


def random_problem(seed=0, n_folds=4, per_fold=12):
    """Folds of ids with labels cycling over the classes, and two members' noisy probabilities."""
    rng = np.random.default_rng(seed)
    folds = {f"s{k}": [f"s{k}_{i}" for i in range(per_fold)] for k in range(n_folds)}
    labels = {u: CLASSES[i % 3] for ids in folds.values() for i, u in enumerate(ids)}
    members = []
    for _ in range(2):
        scores = {}
        for u, c in labels.items():
            logits = rng.normal(0, 1, 3)
            logits[CLASSES.index(c)] += 1.0
            scores[u] = np.exp(logits) / np.exp(logits).sum()
        members.append(scores)
    return folds, labels, members


# ------------------------------------------------------------------ methods
def test_softmax_turns_scores_into_distributions_and_keeps_probabilities():
    votes = np.array([[2.1, 0.2, 1.0]])
    e = np.exp(votes - 2.1)
    assert np.allclose(distribution(votes), e / e.sum())
    probs = np.array([[0.2, 0.5, 0.3]])
    assert np.array_equal(distribution(probs), probs)


def test_weight_grid_holds_every_tenth_split_nearest_equal_first():
    grid = weight_grid(2)
    assert len(grid) == 11 and np.allclose(grid[0], [0.5, 0.5]) and np.allclose(grid.sum(1), 1)
    assert len(weight_grid(3)) == 66  # C(12, 2)


def test_mean_of_two_identical_runs_is_the_run(tmp_path, registry):
    folds, labels, (scores, _) = random_problem()
    a = fake_run(tmp_path / "a", folds, scores, labels)
    result = fuse(tmp_path, registry, [a, a], "mean", "fused")
    for fold, out in {o.name: o.outputs["emotion"] for o in result.folds}.items():
        assert np.allclose(out, [scores[u] for u in folds[fold]], atol=1e-5)
    run = json.loads((tmp_path / "fused" / "metrics.json").read_text())["heads"]["emotion"]
    hand_ua = np.mean([np.mean([np.argmax(scores[u]) == CLASSES.index(c) for u, c in labels.items() if c == k])
                       for k in CLASSES])
    assert run["pooled"]["ua"] == pytest.approx(hand_ua)
    assert (tmp_path / "fused" / "confusion.png").is_file() and (tmp_path / "fused" / "predictions.csv").is_file()
    fusion = json.loads((tmp_path / "fused" / "fusion.json").read_text())
    assert fusion["method"] == "mean" and fusion["members"] == [str(a), str(a)]


def test_complementary_errors_fuse_to_better_than_either(tmp_path):
    # each run is right with confidence on its half and wrong but unsure on the other half
    folds = {f"s{k}": [f"s{k}_{i}" for i in range(6)] for k in range(3)}
    labels = {u: CLASSES[i % 3] for ids in folds.values() for i, u in enumerate(ids)}
    runs = []
    for half in (0, 1):
        scores = {}
        for ids in folds.values():
            for i, u in enumerate(ids):
                right = CLASSES.index(labels[u])
                s = np.full(3, 0.05)
                if (i < 3) == (half == 0):
                    s[right] = 0.9
                else:
                    s[(right + 1) % 3], s[right] = 0.5, 0.45
                scores[u] = s
        runs.append(fake_run(tmp_path / f"r{half}", folds, scores, labels))
    y = np.array([i % 3 for _ in folds for i in range(6)])
    for r in runs:
        alone = np.concatenate([read_member(r).units[f, "emotion"].scores for f in folds])
        assert unweighted_accuracy(y, alone, 3) == pytest.approx(0.5)
    for method in ("mean", "weighted", "stack"):
        fused = np.concatenate(list(outputs(runs, method).values()))
        assert unweighted_accuracy(y, fused, 3) == pytest.approx(1.0), method


def test_learned_fusion_never_uses_the_test_folds_labels(tmp_path):
    folds, labels, members = random_problem(seed=1)
    runs = [fake_run(tmp_path / f"m{i}", folds, s, labels) for i, s in enumerate(members)]
    before = {m: outputs(runs, m) for m in ("stack", "weighted")}
    rng = np.random.default_rng(5)
    shuffled = dict(labels)
    ids = folds["s0"]
    for u, v in zip(ids, rng.permutation([labels[u] for u in ids])):
        shuffled[u] = CLASSES[(CLASSES.index(v) + 1) % 3]  # every label of the test fold changed
    permuted = [fake_run(tmp_path / f"p{i}", folds, s, shuffled) for i, s in enumerate(members)]
    for method in ("stack", "weighted"):
        after = outputs(permuted, method)
        assert np.allclose(after["s0"], before[method]["s0"]), method  # the test fold's own labels never matter
    assert not np.allclose(outputs(permuted, "stack")["s1"], before["stack"]["s1"])  # other folds' labels do


def test_given_weights_are_a_weighted_average(tmp_path):
    folds, labels, members = random_problem(seed=2)
    runs = [fake_run(tmp_path / f"m{i}", folds, s, labels) for i, s in enumerate(members)]
    out = outputs(runs, "weighted", [3, 1])
    u = folds["s2"][4]
    assert np.allclose(out["s2"][4], 0.75 * members[0][u] + 0.25 * members[1][u], atol=1e-5)


def test_runs_on_other_folds_are_a_one_line_error(tmp_path):
    folds, labels, (scores, _) = random_problem()
    a = fake_run(tmp_path / "a", folds, scores, labels)
    moved = {**folds, "s1": folds["s1"][:-1], "s2": folds["s2"] + folds["s1"][-1:]}
    b = fake_run(tmp_path / "b", moved, scores, labels)
    with pytest.raises(SertkError, match=r"/b: fold 's1' tests other utterances than in .*/a \(e.g. 's1_11'\)"):
        outputs([a, b], "mean")
    renamed = {("t" + f[1:]): ids for f, ids in folds.items()}
    c = fake_run(tmp_path / "c", renamed, scores, labels)
    with pytest.raises(SertkError, match=r"/c: its folds differ from those of .*/a \(fold 's0'\)"):
        outputs([a, c], "mean")


# ------------------------------------------------------------------ end to end on the synthetic corpus
SYNTHETIC = {"name": "synthetic", "params": {"n_speakers": 3, "n_per_class": 4}}
SVM = {"features": [{"name": "opensmile", "params": {"feature_set": "eGeMAPSv02", "level": "func"}}],
       "model": {"name": "linear_svm"}}
MLP = {"features": [{"name": "mfcc", "params": {"n_mfcc": 8}}], "model": {"name": "mlp", "params": {"hidden": [8]}},
       "train": {"epochs": 3, "threads": 1}}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fusion")
    mp = pytest.MonkeyPatch()
    mp.setenv("SERTK_CACHE", str(folder / "cache"))
    recipes = {}
    for name, sections in (("svm", SVM), ("mlp", MLP)):
        recipes[name] = folder / f"{name}.yaml"
        recipes[name].write_text(yaml.safe_dump({"corpus": SYNTHETIC, "protocol": "loso", "metrics": ["ua", "wa"],
                                                 **sections}))
        result = invoke("run", recipes[name], "--out", folder / "runs", "--set", f"output.name={name}")
        assert result.exit_code == 0, result.output
    yield folder, recipes
    mp.undo()


def test_fuse_command_writes_a_run_and_prints_the_table(synthetic):
    folder, _ = synthetic
    result = invoke("fuse", folder / "runs" / "svm", folder / "runs" / "mlp", "--method", "stack",
                    "--out", folder / "fused", "--name", "both")
    assert result.exit_code == 0, result.output
    assert "Results over 3 fold(s)" in result.output and "ua" in result.output
    fused = folder / "fused" / "both"
    for name in ("metrics.json", "predictions.csv", "confusion.png", "recipe.yaml", "folds.json"):
        assert (fused / name).is_file(), name
    assert not (fused / "UNFINISHED").exists()
    assert json.loads((fused / "fusion.json").read_text())["members"] == [str(folder / "runs" / r)
                                                                          for r in ("svm", "mlp")]
    rows = list(csv.DictReader((fused / "predictions.csv").open()))
    svm_folds = json.loads((folder / "runs" / "svm" / "metrics.json").read_text())["folds"]
    assert len(rows) == 3 * 4 * 4 and {r["fold"] for r in rows} == set(svm_folds)
    bad = invoke("fuse", folder / "runs" / "svm", "--method", "weighted", "--weights", "1,x")
    assert bad.exit_code == 2 and bad.output.count("\n") == 1 and "--weights 1,x" in bad.output


def test_recipe_fusion_section_runs_every_system_then_fuses(synthetic):
    folder, recipes = synthetic
    recipe = folder / "fused.yaml"
    recipe.write_text(yaml.safe_dump({
        "corpus": SYNTHETIC, "protocol": "loso", "metrics": ["ua", "wa"],
        "fusion": {"method": "weighted", "systems": [str(recipes["svm"]),
                                                     {"name": "mlp16", **MLP, "set": ["model.params.hidden=[16]"]}]},
    }))
    result = invoke("run", recipe, "--out", folder / "rec", "--set", "output.name=fused")
    assert result.exit_code == 0, result.output
    fused = folder / "rec" / "fused"
    assert sorted(p.name for p in (fused / "systems").iterdir()) == ["mlp16", "svm"]
    assert yaml.safe_load((fused / "systems" / "mlp16" / "recipe.yaml").read_text())["model"]["params"]["hidden"] \
        == [16]
    fusion = json.loads((fused / "fusion.json").read_text())
    assert len(fusion["fold_weights"]["emotion"]) == 3  # weights chosen for each test fold
    metrics = json.loads((fused / "metrics.json").read_text())
    assert set(metrics["heads"]["emotion"]["pooled"]) == {"ua", "wa"}
    saved = yaml.safe_load((fused / "recipe.yaml").read_text())
    assert [s["name"] for s in saved["fusion"]["systems"]] == ["svm", "mlp16"]
    checked = invoke("validate", recipe, "--set", "fusion.systems.1.set.0=model.params.hidden=[0]")
    assert checked.exit_code == 2 and "hidden" in checked.output  # each system is built before any work


@pytest.mark.parametrize("fusion, problem", [
    ({"systems": ["a.yaml"]}, r"fusion.systems: fuses at least two systems"),
    ({"method": "vote", "systems": [{}, {}]}, r"fusion.method: expected one of"),
    ({"method": "mean", "weights": [1, 1], "systems": [{}, {}]}, r"fusion.weights: apply to method weighted"),
    ({"systems": [{"recipe": "nowhere.yaml"}, {}]}, r"fusion.systems.0.recipe: no recipe file 'nowhere.yaml'"),
    ({"systems": [{"modle": "mlp"}, {}]}, r"fusion.systems.0.modle: unknown key 'modle'; did you mean 'model'"),
    ({"systems": [{**MLP, "model": {"name": "nope"}}, MLP]}, r"fusion.systems.0: model.name: unknown model 'nope'"),
])
def test_fusion_section_errors_name_the_key(tmp_path, registry, fusion, problem):
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"corpus": SYNTHETIC, "fusion": fusion}))
    with pytest.raises(ConfigError, match=problem):
        load_recipe(path, registry=registry)


def test_a_fusion_recipe_names_models_only_per_system(tmp_path, registry):
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"corpus": SYNTHETIC, "model": "mlp", "fusion": {"systems": [MLP, SVM]}}))
    with pytest.raises(ConfigError, match="f.yaml: model: a fusion recipe names features and models per system"):
        load_recipe(path, registry=registry)
    ok = load_recipe(path, ["model=null"], registry)  # --set removes it again
    assert [m.model["name"] for _, m in ok.members] == ["mlp", "linear_svm"] and ok.members[0][0] == "system1"
    moved = load_recipe(path, ["model=null", "corpus.params.n_speakers=4"], registry)
    assert all(m.corpus[0]["params"]["n_speakers"] == 4 for _, m in moved.members)  # shared sections reach systems


# ------------------------------------------------------------------ the shipped best recipe on EmoDB
ROOT = Path(__file__).resolve().parents[1]
EMODB = ROOT.parent / "shared" / "corpora" / "emodb"


@pytest.mark.emodb
@pytest.mark.slow
@pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason=f"EmoDB copy not found at {EMODB}")
def test_emodb_best_reaches_its_measured_ua_and_says_it_is_transductive(tmp_path, registry):
    from sertk.engine.run import run_recipe

    recipe = load_recipe(ROOT / "recipes" / "emodb_best.yaml", [f"corpus.params.root={EMODB}"], registry)
    result = run_recipe(recipe, registry, out_dir=str(tmp_path))
    emotion = result.metrics["heads"]["emotion"]
    assert len(result.metrics["folds"]) == 10 and emotion["n"] == 535
    assert emotion["pooled"]["ua"] >= 0.82, emotion["pooled"]  # 0.836 measured on this copy
    assert sorted(p.name for p in (result.dir / "systems").iterdir()) == ["svm_compare", "svm_concat", "svm_is10"]
    labels = result.metrics["protocol"]
    assert labels["speaker_independent"] and labels["transductive"]
