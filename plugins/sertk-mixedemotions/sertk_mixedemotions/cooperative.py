"""Cooperative learning (MixedEmotions D4.2 §2.3, after Z. Zhang, E. Coutinho, J. Deng, B. Schuller,
"Cooperative learning and its application to emotion recognition from speech", IEEE/ACM TASLP
23(1), 2015): a recogniser grows from a few human labels by active learning (the least confident
items go to a human annotator), semi-supervised self-training (confident items are labelled by the
machine) or both (label it yourself if confident, else ask), compared with random sampling by
learning curves of test UA against the number of human labels.

For evaluation the fold's training labels are held back and play the annotator; the pool is the
fold's training part plus its unlabelled audio, and never holds a test speaker's item."""
from __future__ import annotations

import zlib
from typing import Any, Literal, Optional

import numpy as np

from sertk import SertkError, Strategy

from .confidence import MEASURES, Confidence, agreement_values, auroc, margin, max_posterior, posteriors

MODES = ("random", "active", "self_training", "cooperative")
ASKS = {"random": "random", "active": "least confident", "self_training": "random",
        "cooperative": "least confident below threshold"}
SELF_LABELS = {"self_training", "cooperative"}
RESULTS: dict[tuple[str, int], dict[str, Any]] = {}
"""Per (fold, seed), what the strategy found in this process; the analyzer ``cooperative_curves``
writes it into the run directory and removes it (the core gives a strategy no path inside the run)."""


def least_confident(confidence: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` least confident items (uncertainty sampling; ties by position)."""
    return np.argsort(np.asarray(confidence, dtype=np.float64), kind="stable")[:k]


def confident(confidence: np.ndarray, threshold: float) -> np.ndarray:
    """Positions of the items the machine labels itself: confidence at or above ``threshold``."""
    return np.flatnonzero(np.asarray(confidence, dtype=np.float64) >= threshold)


def cooperative_split(confidence: np.ndarray, k: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Zhang et al. 2015's division of labour: (asked, machine-labelled) positions — at most ``k``
    of the least confident items below ``threshold`` go to the annotator, the rest below it wait,
    those at or above it are labelled by the machine."""
    confidence = np.asarray(confidence, dtype=np.float64)
    below = np.flatnonzero(confidence < threshold)
    return below[least_confident(confidence[below], k)], confident(confidence, threshold)


def unweighted_accuracy(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the classes present in ``gold``."""
    gold, predicted = np.asarray(gold, dtype=int), np.asarray(predicted, dtype=int)
    return float(np.mean([np.mean(predicted[gold == c] == c) for c in np.unique(gold)]))


class Pool:
    """The fold's candidates: training segments (their held-back labels in ``gold``) and
    unlabelled segments (gold −1, never asked), test speakers' segments removed."""

    def __init__(self, session: Any, head: str):
        test_speakers = {session.speakers[s] for s in session.test.segments}
        part = session.train.labelled({}) + session.unlabelled
        gold = list(session.train.targets[head]) + [-1] * len(session.unlabelled)
        keep = [i for i, s in enumerate(part.segments) if session.speakers[s] not in test_speakers]
        self.part, self.gold, self.head = part.subset(keep), np.asarray([gold[i] for i in keep], dtype=int), head

    def labelled(self, human: list[int], machine: Optional[np.ndarray] = None, guesses: Optional[np.ndarray] = None):
        """A training part: the human-labelled positions with their gold labels, plus the
        machine-labelled positions with the machine's guesses."""
        positions = list(human) + ([] if machine is None else [int(i) for i in machine])
        labels = [int(self.gold[i]) for i in human] + ([] if guesses is None else [int(g) for g in guesses])
        return self.part.subset(positions).labelled({self.head: labels})

    def seed(self, per_class: int, rng: np.random.Generator) -> list[int]:
        """``per_class`` random labelled positions of every class (all of a smaller class)."""
        chosen = []
        for c in np.unique(self.gold[self.gold >= 0]):
            members = np.flatnonzero(self.gold == c)
            chosen += rng.choice(members, min(per_class, len(members)), replace=False).tolist()
        return sorted(chosen)


class CooperativeLearning(Strategy):
    """Learning curves of random sampling, active learning, self-training and cooperative learning
    (D4.2 §2.3; Zhang et al., TASLP 2015), on one utterance-level classification head.  Every mode
    starts from the same ``seed_per_class`` random human labels per class and asks ``batch`` more
    per round for ``rounds`` rounds: random items (``random``; ``self_training`` too, our choice),
    the least confident (``active``) or the least confident below ``threshold`` (``cooperative``).  In
    ``self_training`` and ``cooperative`` the model trained on the human labels labels every
    remaining pool item at or above ``threshold``, and a second model is trained on both; the
    machine labels are recomputed each round, not accumulated (our choice).  Confidence is one of
    the §2.4 measures (``margin`` by default).  D4.2 gives neither seed size, batch nor threshold:
    2 per class, 10 per round and a margin of 0.5 are ours.  Models are fitted without a validation
    part (its labels would be human labels not counted on the curve).  The fold's model is the last
    round's model of ``mode``; the curves, the asked items and the test AUROC of each confidence
    measure are written by the analyzer ``cooperative_curves``."""

    name = "cooperative_learning"
    summary = "learning curves: random, active, self-training, cooperative learning (MixedEmotions D4.2 §2.3)"

    def __init__(self, mode: Literal["random", "active", "self_training", "cooperative"] = "cooperative",
                 compare: list[str] = list(MODES), seed_per_class: int = 2, batch: int = 10, rounds: int = 10,
                 threshold: float = 0.5,
                 confidence: Literal["margin", "posterior", "learned_error", "agreement"] = "margin",
                 agreement_key: str = "agreement", heldout_folds: int = 3):
        unknown = [m for m in [mode, *compare] if m not in MODES]
        if unknown:
            raise ValueError(f"mode and compare take {list(MODES)}; got {unknown}")
        if confidence not in MEASURES:
            raise ValueError(f"confidence must be one of {list(MEASURES)}, got {confidence!r}")
        if seed_per_class < 1 or batch < 1 or rounds < 0 or heldout_folds < 2:
            raise ValueError("seed_per_class and batch must be >= 1, rounds >= 0, heldout_folds >= 2")
        self.mode, self.compare = mode, [m for m in MODES if m in set(compare) | {mode}]
        self.seed_per_class, self.batch, self.rounds, self.threshold = seed_per_class, batch, rounds, threshold
        self.confidence, self.agreement_key, self.heldout_folds = confidence, agreement_key, heldout_folds

    def fit(self, session):
        head = classification_head(session.new_model())
        pool = Pool(session, head.name)
        if not (pool.gold >= 0).any():
            raise SertkError("cooperative_learning needs labelled training items to start from; the pool has none")
        measure = Confidence(session, head.name, self.confidence, self.agreement_key, self.heldout_folds)
        start = pool.seed(self.seed_per_class, fold_rng(session))
        curve, queries = [], []
        for mode in self.compare:
            rows, asked, model, human, history = self.simulate(session, pool, measure, mode, start)
            curve += rows
            queries += asked
            if mode == self.mode:
                final, final_human, final_history = model, human, history
        RESULTS[(session.fold.name, session.config.seed)] = {
            "curve": curve, "queries": queries + self.to_label(session, pool, measure, final, final_human),
            "confidence": confidence_auroc(session, head.name, final, pool.labelled(final_human), self.heldout_folds,
                                     self.agreement_key),
            "settings": {"mode": self.mode, "seed_per_class": self.seed_per_class, "batch": self.batch,
                         "rounds": self.rounds, "threshold": self.threshold, "confidence": self.confidence}}
        session.history = final_history  # the returned model's training record
        return final

    def simulate(self, session, pool: Pool, measure: Confidence, mode: str, start: list[int]):
        """One mode's rounds: (curve rows, asked-item rows, last model, its human-labelled positions
        and its training history)."""
        rng, human, rows, asked = fold_rng(session, mode), list(start), [], []
        for r in range(self.rounds + 1):
            model = fit_part(session, pool.labelled(human))
            history = session.history
            rest = np.setdiff1d(np.arange(len(pool.part)), human)
            conf, p = measure.score(model, pool.labelled(human), pool.part.subset(rest.tolist()))
            machine = confident(conf, self.threshold) if mode in SELF_LABELS else np.zeros(0, dtype=int)
            if len(machine):
                model = fit_part(session, pool.labelled(human, rest[machine], p[machine].argmax(axis=1)))
                history = session.history
            rows.append({"fold": session.fold.name, "seed": session.config.seed, "mode": mode, "round": r,
                         "human_labels": len(human), "machine_labels": len(machine),
                         "machine_label_accuracy": machine_accuracy(pool, rest[machine], p[machine]),
                         "ua": fold_test_ua(session, model, pool.head)})
            if r == self.rounds:
                break
            ask = self.ask(mode, conf, pool.gold[rest] >= 0, rng)
            asked += query_rows(session, pool, mode, r + 1, rest[ask], conf[ask], p[ask])
            if not len(ask):
                break
            human += rest[ask].tolist()
        return rows, asked, model, human, history

    def ask(self, mode: str, conf: np.ndarray, askable: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Positions (into the remaining items) sent to the annotator this round."""
        candidates = np.flatnonzero(askable)
        if mode in ("random", "self_training"):
            return np.sort(rng.choice(candidates, min(self.batch, len(candidates)), replace=False))
        if mode == "active":
            return candidates[least_confident(conf[candidates], self.batch)]
        return candidates[cooperative_split(conf[candidates], self.batch, self.threshold)[0]]

    def to_label(self, session, pool: Pool, measure: Confidence, model, human: list[int]) -> list[dict]:
        """The next request to a real annotator: the ``batch`` least confident unlabelled items."""
        unlabelled = np.flatnonzero(pool.gold < 0)
        if not len(unlabelled):
            return []
        conf, p = measure.score(model, pool.labelled(human), pool.part.subset(unlabelled.tolist()))
        ask = least_confident(conf, self.batch)
        return query_rows(session, pool, "to_label", None, unlabelled[ask], conf[ask], p[ask])


def classification_head(model) -> Any:
    heads = [h for h in model.heads if h.kind == "classification" and h.level == "utterance"]
    if len(model.heads) != 1 or not heads:
        raise SertkError(f"cooperative_learning needs a model with one utterance-level classification head; "
                         f"{type(model).__name__} has {[h.name for h in model.heads]}")
    return heads[0]


def fold_rng(session, *salt: str) -> np.random.Generator:
    """A generator seeded by the run seed, the fold and ``salt``."""
    return np.random.default_rng([session.config.seed, *(zlib.crc32(s.encode()) for s in (session.fold.name, *salt))])


def fit_part(session, part):
    """A fresh model fitted on ``part`` alone (no validation part)."""
    model = session.new_model()
    session.fit(model, part, part.subset([]), description=f"Fold {session.fold.name}: {len(part)} labels")
    return model


def fold_test_ua(session, model, head: str) -> float:
    predicted = session.predict(model, session.test)
    return unweighted_accuracy(predicted.targets[head], np.asarray(predicted.outputs[head]).argmax(axis=1))


def machine_accuracy(pool: Pool, positions: np.ndarray, p: np.ndarray) -> Optional[float]:
    """How many machine labels match the held-back labels (None without any checkable one)."""
    gold = pool.gold[positions]
    known = gold >= 0
    return float(np.mean(p.argmax(axis=1)[known] == gold[known])) if known.any() else None


def query_rows(session, pool: Pool, mode: str, round_: Optional[int], positions, conf, p) -> list[dict]:
    """CSV rows of items sent to the annotator: utterance id, audio path, speaker, confidence,
    the model's guess and the held-back label (empty for genuinely unlabelled audio)."""
    data, head = session.data, next(h for h in session.heads if h.name == pool.head)
    rows = []
    for position, c, post in zip(positions, conf, p):
        segment = pool.part.segments[int(position)]
        utterance = data.utterances[data.extracted.segments[segment].utt_index]
        gold = int(pool.gold[int(position)])
        rows.append({"fold": session.fold.name, "mode": mode, "round": "" if round_ is None else round_,
                     "id": utterance.id, "segment": data.extracted.segments[segment].id,
                     "path": "" if utterance.path is None else str(utterance.path), "speaker": utterance.speaker,
                     "confidence": round(float(c), 6), "guess": head.classes[int(np.argmax(post))],
                     "label": head.classes[gold] if gold >= 0 else ""})
    return rows


def confidence_auroc(session, head: str, model, labelled, folds: int, agreement_key: str) -> dict[str, float]:
    """AUROC with which each confidence measure (D4.2 §2.4) separates the fold model's correct
    from its wrong test predictions; agreement only where the labels carry it."""
    predicted = session.predict(model, session.test)
    correct = np.asarray(predicted.outputs[head]).argmax(axis=1) == np.asarray(predicted.targets[head])
    p = posteriors(predicted.outputs[head])
    out = {"margin": auroc(margin(p), correct), "posterior": auroc(max_posterior(p), correct),
           "n_test": int(len(correct)), "errors": int((~correct).sum())}
    out["learned_error"] = auroc(Confidence(session, head, "learned_error", folds=folds).score(
        model, labelled, session.test)[0], correct)
    if np.isfinite(agreement_values(session, labelled, agreement_key)).any():
        out["agreement"] = auroc(Confidence(session, head, "agreement", agreement_key).score(
            model, labelled, session.test)[0], correct)
    return out
