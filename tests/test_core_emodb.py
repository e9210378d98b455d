"""Integration on the real EmoDB copy: eGeMAPS functionals + linear SVM, leave-one-speaker-out."""
import json
import pathlib

import pytest

from sertk.engine.run import run_recipe
from sertk.plugins import load_plugins
from sertk.recipe import parse_recipe
from sertk.registry import Registry

EMODB = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "emodb"


@pytest.mark.emodb
@pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason=f"EmoDB copy not found at {EMODB}")
def test_emodb_loso_egemaps_svm_is_far_above_chance(tmp_path, monkeypatch):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    registry = Registry.from_plugins(load_plugins(entry_points=False))
    recipe = parse_recipe({
        "corpus": {"name": "emodb", "params": {"root": str(EMODB)}},
        "data": {"workers": 2, "expect": {"utterances": 535, "segments": 535}},
        "features": [{"name": "opensmile", "params": {"feature_set": "eGeMAPSv02"}}],
        "model": {"name": "linear_svm", "params": {"C": 0.01}},
        "protocol": "loso",
        "metrics": ["ua", "wa"],
    }, "emodb-test", registry)
    result = run_recipe(recipe, registry, out_dir=str(tmp_path / "runs"))
    emotion = result.metrics["heads"]["emotion"]
    assert len(result.metrics["folds"]) == 10 and emotion["n"] == 535
    assert len(emotion["classes"]) == 7
    assert emotion["pooled"]["ua"] >= 0.55, emotion["pooled"]  # 0.62 measured on this copy
    assert emotion["pooled"]["ua"] > emotion["baselines"]["most_frequent"]["ua"] + 0.4
    assert emotion["baselines"]["chance"]["ua"] == pytest.approx(1 / 7)
    assert emotion["baselines"]["most_frequent"]["wa"] == pytest.approx(127 / 535)  # anger, the test sets' majority
    counts = json.loads((result.dir / "data.json").read_text())["expected_counts"]
    assert counts["utterances"] == {"expected": 535, "found": 535, "held": True} and counts["segments"]["held"]


@pytest.mark.emodb
@pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason=f"EmoDB copy not found at {EMODB}")
def test_emodb_alignment_tiers_on_the_real_copy():
    from collections import Counter

    from sertk.corpora.emodb import EmoDB

    utts = EmoDB(str(EMODB)).utterances()
    assert len(utts) == 535
    tiers = Counter(name for u in utts for name in u.alignments)
    # lablaut/ of 08a01Ab and 08a01Wa hold no marks; silb/ (labsilb/ for 13a01Wb) covers all
    assert tiers == {"phones": 533, "syllables": 535}
    assert sum(bool(u.words) for u in utts) == 535
    for u in utts:
        for name, tier in [*u.alignments.items(), ("words", u.words)]:
            assert all(w.start < w.end for w in tier), (u.id, name)
            assert all(a.end <= b.start for a, b in zip(tier, tier[1:])), (u.id, name)
    # times are the original ones: many tiers run past the 2.0 s of this copy's audio
    assert sum(u.alignments["phones"][-1].end > 2.0 for u in utts if "phones" in u.alignments) > 300
    phones = Counter(w.text for u in utts for w in u.alignments.get("phones", []))
    print(f"EmoDB phone vocabulary: {len(phones)} symbols: {' '.join(sorted(phones))}")
    assert 45 <= len(phones) <= 80
    assert not {"(", "(gef", ".", "!t", "tasp", "_d", "NN"} & set(phones)  # pauses, phases, doubled letters
    assert {"a", "I", "t", "d", "n", "?", "6", "aI", "OY", "C", "x"} <= set(phones)
    words = {u.id: [w.text for w in u.words] for u in utts}
    assert words["03a01Fa"] == ["Der", "Lappen", "liegt", "auf", "dem", "Eisschrank"]
