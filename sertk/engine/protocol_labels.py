"""Honest protocol labels of a run, decided from its resolved recipe: the protocol, whether
it is speaker-independent, and what in it is transductive (uses the test speakers'
unlabelled audio or features).

Transductive are speaker-level feature normalisation (``features.N.normalize: speaker``,
or a feature whose default is ``speaker``: each test speaker is z-scored with statistics
of its own unlabelled audio) and strategies that declare ``transductive = True`` (fitted
on the test corpus's unlabelled features), e.g. ``cca_align`` and ``sae_transfer``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from ..errors import SertkError
from ..registry import Registry


def _spec(section: Any, default: str = "") -> dict:
    if isinstance(section, dict):
        return section
    return {"name": section or default}


def protocol_labels(recipe: dict, registry: Registry) -> dict[str, Any]:
    """``{"name", "speaker_independent", "transductive": [reasons]}`` of a resolved recipe."""
    protocol = _spec(recipe.get("protocol"))
    independent = bool(getattr(registry.get("protocols", protocol.get("name")), "speaker_independent", False))
    reasons = []
    for i, feature in enumerate(recipe.get("features") or []):
        feature = _spec(feature)
        mode = feature.get("normalize") or getattr(registry.get("features", feature.get("name")), "normalize", None)
        if mode == "speaker":
            reasons.append(f"features.{i} ({feature.get('name')}): speaker-level normalisation uses each test "
                           f"speaker's unlabelled audio")
    strategy = _spec(recipe.get("strategy"), "supervised")
    entry = registry.entry("strategies", strategy.get("name"), "strategy.name")
    if entry.cls.transductive:
        reasons.append(f"strategy {strategy.get('name')}: {entry.summary}")
    return {"name": protocol.get("name"), "speaker_independent": independent, "transductive": reasons}


def recorded_labels(metrics: dict, recipe: dict, registry: Optional[Registry] = None) -> Optional[dict]:
    """A run's labels: from its metrics.json, else (runs made before sertk recorded them)
    derived from its recipe.yaml when a registry is given; None when neither works (a fused
    run's recipe does not name its members' features)."""
    if isinstance(metrics.get("protocol"), dict):
        return metrics["protocol"]
    if registry is None or "fusion" in recipe:
        return None
    try:
        return protocol_labels(recipe, registry)
    except SertkError:  # a component no longer registered: the labels stay unknown
        return None


def fused_labels(members: Sequence[Optional[dict]], names: Sequence[str]) -> Optional[dict]:
    """Labels of a late fusion of runs (``members``: their labels, ``names``: their folders):
    speaker-independent only if every member is, transductive with every member's reasons;
    None when a member's labels are unknown."""
    if any(m is None for m in members):
        return None
    return {"name": "+".join(dict.fromkeys(m["name"] for m in members)),
            "speaker_independent": all(m["speaker_independent"] for m in members),
            "transductive": [f"{name}: {why}" for m, name in zip(members, names) for why in m["transductive"]]}


def label_line(labels: Optional[dict]) -> str:
    """One line for tables and reports, e.g. ``protocol loso: speaker-independent; transductive
    (features.0 (mfcc): speaker-level normalisation ...)``."""
    if not labels:
        return "protocol labels not recorded (a run made before sertk recorded them)"
    independent = "speaker-independent" if labels["speaker_independent"] else "NOT speaker-independent"
    reasons = labels["transductive"]
    transductive = f"transductive ({'; '.join(reasons)})" if reasons else "not transductive"
    return f"protocol {labels['name']}: {independent}; {transductive}"


def short_label(labels: Optional[dict]) -> str:
    """A few words for a table cell: ``speaker-indep., transductive``."""
    if not labels:
        return "not recorded"
    words = ["speaker-indep." if labels["speaker_independent"] else "speaker-dependent"]
    if labels["transductive"]:
        words.append("transductive")
    return ", ".join(words)
