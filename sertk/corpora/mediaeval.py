"""MediaEval 2013 "Emotion in Music" (the emoMusic "1000 songs" database).

M. Soleymani, M. N. Caro, E. M. Schmidt, C.-Y. Sha, Y.-H. Yang, "1000 songs for
emotional analysis of music", CrowdMM 2013; "The MediaEval 2013 brave new task:
Emotion in Music", MediaEval 2013.  744 excerpts of 45 s (44.1 kHz mp3) from the
Free Music Archive, after removing redundancies from 1000; the development set
has 619 excerpts, the evaluation set 125.  Arousal and valence were rated
continuously on −1…1; the released averages start at 15 s (the first 15 s are
left out as unstable) and come every 500 ms (2 Hz); MixedEmotions D4.2 (§4.5.1)
uses them at 1 Hz (``rate: 1.0`` averages pairs of frames).

Layout, as public readers of the distribution find it (the emoMusic page,
cvml.unige.ch/databases/emoMusic, and code that reads the archive, e.g. the
emoMusic reader of jukemir); the archive itself was not available to check::

    clips_45seconds/<song_id>.mp3        the excerpts
    annotations/songs_info.csv           song_id, file_name, Artist, Song title,
                                         start/end of the segment (min.sec), Genre,
                                         Mediaeval 2013 set (development | evaluation)
    annotations/static_annotations.csv   song_id, mean_arousal, std_arousal,
                                         mean_valence, std_valence (1…9 scale)
    annotations/{arousal,valence}_cont_average.csv
                                         song_id, sample_15000ms, sample_15500ms, …
    annotations/{arousal,valence}_cont_std.csv

The CSV files are also looked for directly under the root (some copies unpack
them there), and excerpts converted to wav or flac are found under the same
name.  Fields are stripped of surrounding blanks and tabs.  Each excerpt's
``speaker`` is its artist (so speaker-independent protocols keep an artist's
songs together), its ``partition`` the MediaEval 2013 set.
"""
from __future__ import annotations

import csv
import re
from typing import Optional

import numpy as np

from ..interfaces import Contour, Utterance
from ._base import LocalCorpus
from ._integrity import Integrity

DIMENSIONS = ("arousal", "valence")
SETS = ("development", "evaluation")
FULL_SIZE = {"development": 619, "evaluation": 125}
AUDIO_SUFFIXES = (".mp3", ".wav", ".flac")
SAMPLE_COLUMN = re.compile(r"^sample_(\d+(?:\.\d+)?)ms$")


class MediaEval(LocalCorpus):
    """MediaEval 2013 Emotion in Music (Soleymani et al. 2013): 744 45-s music excerpts,
    arousal/valence contours (2 Hz as released, from 15 s) and static ratings.

    ``sets`` picks the MediaEval 2013 sets (default both); ``rate`` resamples the
    contours by averaging consecutive label frames (1.0: the 1-Hz frames of
    MixedEmotions D4.2 §4.5.1; None keeps the released rate).  Contours are on the
    −1…1 scale; utterance ``arousal``/``valence`` are the static means (1…9).
    """

    name = "mediaeval"
    summary = "MediaEval 2013 Emotion in Music: 744 music excerpts, arousal/valence contours from 15 s"
    layout_hint = "the emoMusic folder holding clips_45seconds/ and annotations/ (songs_info.csv, *_cont_average.csv)"

    def __init__(self, root: str, sets: Optional[list[str]] = None, rate: Optional[float] = None):
        self.root = root
        self.sets = tuple(sets) if sets else SETS
        bad = [s for s in self.sets if s not in SETS]
        if bad:
            raise ValueError(f"sets must be among {', '.join(SETS)}; got {bad}")
        if rate is not None and not rate > 0:
            raise ValueError(f"rate must be a positive number of label frames per second or null, got {rate}")
        self.rate = rate

    def _table(self, name: str, check: Integrity, required: bool = True) -> Optional[list[dict[str, str]]]:
        """Rows of ``name``.csv under annotations/ or the root, fields stripped."""
        root = self._root()
        path = next((p for p in (root / "annotations" / f"{name}.csv", root / f"{name}.csv") if p.is_file()), None)
        if path is None:
            if required:
                check.fail(f"no {name}.csv under {root / 'annotations'} or {root}; set corpus.params.root to "
                           f"{self.layout_hint}")
            check.problem("annotation files missing", f"{name}.csv")
            return None
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh, skipinitialspace=True))
        return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in rows]

    def _load(self, check: Integrity) -> list[Utterance]:
        clips = self._root("clips_45seconds")
        info = self._table("songs_info", check)
        static = {_song(r.get("song_id", "")): r for r in self._table("static_annotations", check, required=False) or []}
        contours = {dim: _contours(self._table(f"{dim}_cont_average", check, required=False) or [], check)
                    for dim in DIMENSIONS}
        counts = {s: 0 for s in SETS}
        out = []
        for row in info:
            song = _song(row.get("song_id", ""))
            partition = row.get("Mediaeval 2013 set", "").lower()
            if song is None or partition not in SETS:
                check.problem("songs_info rows without a song id or MediaEval 2013 set", str(row)[:80])
                continue
            counts[partition] += 1
            if partition not in self.sets:
                check.dropped(f"{partition} songs (corpus.params.sets)")
                continue
            path = next((p for p in (clips / f"{song}{s}" for s in AUDIO_SUFFIXES) if p.is_file()), None)
            if path is None:
                check.problem("songs without an excerpt in clips_45seconds/", f"{song}.mp3")
                continue
            found = {dim: contours[dim][song] for dim in DIMENSIONS if song in contours[dim]}
            if len(found) < len(DIMENSIONS):
                check.problem("songs without continuous arousal and valence", song)
                continue
            labels, meta = {}, {"artist": row.get("Artist", ""), "title": row.get("Song title", ""),
                                "genre": row.get("Genre", "")}
            for dim in DIMENSIONS:
                mean, std = _float(static.get(song, {}).get(f"mean_{dim}")), _float(static.get(song, {}).get(f"std_{dim}"))
                if mean is not None:
                    labels[dim] = mean
                if std is not None:
                    meta[f"{dim}_std"] = std
            out.append(Utterance(
                id=str(song), speaker=row.get("Artist") or str(song), path=str(path), partition=partition,
                corpus=self.name, labels=labels, meta=meta,
                contours={dim: _resampled(c, self.rate) for dim, c in found.items()}))
        for partition in SETS:
            check.expect(counts[partition], FULL_SIZE[partition], f"{partition} songs")
        return out


def _song(value: str) -> Optional[int]:
    try:
        return int(float(value))
    except ValueError:
        return None


def _float(value: Optional[str]) -> Optional[float]:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _contours(rows: list[dict[str, str]], check: Integrity) -> dict[int, Contour]:
    """song id → contour from a ``*_cont_average.csv`` table (times from the column names)."""
    out = {}
    for row in rows:
        song = _song(row.get("song_id", ""))
        if song is None:
            continue
        times, values = [], []
        for column, value in row.items():
            match = SAMPLE_COLUMN.match(column)
            number = _float(value)
            if match and number is not None:
                times.append(float(match.group(1)) / 1000.0)
                values.append(number)
        if not times:
            check.problem("songs with an empty contour row", song)
            continue
        order = np.argsort(times)
        out[song] = Contour(np.asarray(times)[order], np.asarray(values, dtype=np.float32)[order])
    return out


def _resampled(contour: Contour, rate: Optional[float]) -> Contour:
    """Consecutive frames averaged into frames of 1/``rate`` s from the first frame (the
    mean of the member frames' times and values); unchanged when ``rate`` is None or not slower."""
    if rate is None or len(contour.times) < 2:
        return contour
    period = float(np.median(np.diff(contour.times)))
    if 1.0 / rate <= period * (1 + 1e-6):
        return contour
    group = np.floor((contour.times - contour.times[0]) * rate + 1e-6).astype(int)
    keys, inverse = np.unique(group, return_inverse=True)
    count = np.bincount(inverse)
    times = np.bincount(inverse, contour.times) / count
    values = np.bincount(inverse, contour.values.astype(np.float64)) / count
    return Contour(times, values.astype(np.float32))
