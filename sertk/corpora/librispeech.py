"""LibriSpeech, read English audiobooks with transcripts (for ASR training).

V. Panayotov, G. Chen, D. Povey, S. Khudanpur, "Librispeech: an ASR corpus
based on public domain audio books", ICASSP 2015.  Layout:
``<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` with one
``<speaker>-<chapter>.trans.txt`` per chapter (``<utt id> TRANSCRIPT`` lines).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..interfaces import Utterance
from ._base import LocalCorpus
from ._integrity import Integrity


class LibriSpeech(LocalCorpus):
    """LibriSpeech (Panayotov et al., ICASSP 2015): transcribed read speech, no emotion labels."""

    name = "librispeech"
    summary = "LibriSpeech: read English speech with transcripts (ASR training data)"
    layout_hint = "the LibriSpeech folder holding subsets such as train-clean-100/ (or one subset folder)"

    def __init__(self, root: str, subsets: Optional[list[str]] = None):
        self.root = root
        self.subsets = tuple(subsets) if subsets else None

    def _load(self, check: Integrity) -> list[Utterance]:
        root = self._root()
        folders = [self._root(s) for s in self.subsets] if self.subsets else [root]
        out = []
        for folder in folders:
            for dirpath, _, names in sorted(os.walk(folder)):
                for name in sorted(n for n in names if n.endswith(".trans.txt")):
                    out.extend(self._chapter(Path(dirpath), name, root, check))
        if not out and check.count("transcript lines without audio") == 0:
            check.fail(f"no <speaker>-<chapter>.trans.txt files under {', '.join(map(str, folders))}; "
                       f"set corpus.params.root to {self.layout_hint}")
        return out

    def _chapter(self, folder: Path, name: str, root: Path, check: Integrity) -> list[Utterance]:
        present = set(os.listdir(folder))
        subset = _subset(folder, root)
        out = []
        with open(folder / name, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                parts = line.strip().split(" ", 1)
                if len(parts) != 2 or parts[0].count("-") != 2:
                    if line.strip():
                        check.problem("unparsable transcript lines", f"{name}:{number}")
                    continue
                utt, text = parts
                audio = next((f"{utt}{ext}" for ext in (".flac", ".wav") if f"{utt}{ext}" in present), None)
                if audio is None:
                    check.problem("transcript lines without audio", utt)
                    continue
                speaker, chapter, _ = utt.split("-")
                out.append(Utterance(id=utt, speaker=speaker, path=str(folder / audio), partition=subset,
                                     corpus=self.name, transcript=text.strip(), meta={"chapter": chapter}))
        return out


def _subset(folder: Path, root: Path) -> str:
    """The subset name (train-clean-100, ...): two levels above the chapter folder."""
    relative = folder.relative_to(root).parts
    return relative[-3] if len(relative) >= 3 else root.name
