"""Shared behaviour of corpora read from a local folder."""
from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import ClassVar, Optional

from ..errors import SertkError
from ..interfaces import Corpus, Utterance
from ._integrity import Integrity


class LocalCorpus(Corpus):
    """A corpus parsed from files once per instance.

    Subclasses implement :meth:`_load`, reporting what they find wrong to the
    :class:`Integrity` they are given.  The parse is cached in memory; the
    one-line integrity summary is :attr:`report`.  Loading fails with a
    :class:`SertkError` when nothing usable is left.
    """

    # What the root folder must hold, for error messages ("the folder holding wav/").
    layout_hint: ClassVar[str] = ""
    root: str

    def utterances(self) -> list[Utterance]:
        if getattr(self, "_cache", None) is None:
            check = Integrity(self.name)
            found = self._load(check)
            if not found:
                raise SertkError(f"{self.name}: no usable utterances under {self._where()} ({check.details()}); "
                                 f"check corpus.params")
            self._check, self._cache = check, found
        return list(self._cache)

    @property
    def report(self) -> str:
        """One line: what was loaded, what was left out and what looked wrong (timing
        files parsed on first use report their problems once read)."""
        self.utterances()
        return self._check.summary(self._cache)

    @abc.abstractmethod
    def _load(self, check: Integrity) -> list[Utterance]:
        """Parse the corpus; report problems to ``check``."""

    def _where(self) -> str:
        return str(getattr(self, "root", "?"))

    def _root(self, sub: Optional[str] = None) -> Path:
        """The root folder (or ``sub`` inside it), failing clearly when absent."""
        root = Path(os.path.expanduser(self.root))
        path = root / sub if sub else root
        if not path.is_dir():
            what = f"{sub}/ under {root}" if sub else f"root {root}"
            raise SertkError(f"{self.name}: {what} is not a folder; set corpus.params.root to "
                             f"{self.layout_hint or 'the corpus folder'}")
        return path
