"""User-facing errors: the CLI prints them as one line and exits 2."""
from __future__ import annotations

import difflib
from typing import Iterable, Optional


class SertkError(Exception):
    """A problem with the user's input (recipe, data, command line)."""


class ConfigError(SertkError):
    """A recipe problem at a dotted ``key``."""

    def __init__(self, key: str, message: str, source: Optional[str] = None):
        self.key, self.source = key, source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {message}")


class PluginError(SertkError):
    """A plugin that cannot be loaded or registers something invalid."""


def closest(word: str, choices: Iterable[str]) -> Optional[str]:
    """The closest valid name, for 'did you mean' hints."""
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.0)
    return found[0] if found else None


def unknown(what: str, word: str, choices: Iterable[str]) -> str:
    """'unknown X 'word'; did you mean 'y'? (valid: a, b, c)'."""
    choices = sorted(choices)
    hint = closest(word, choices)
    did = f"; did you mean '{hint}'?" if hint else ""
    return f"unknown {what} '{word}'{did} (valid: {', '.join(choices)})"


class AudioProblem(SertkError):
    """A recording sertk cannot turn into honest features (empty, silent, non-finite,
    truncated, ...): ``kind`` names the problem, ``where`` the file or utterance."""

    def __init__(self, kind: str, where: str, detail: str = ""):
        self.kind, self.where = kind, where
        super().__init__(f"{where}: {kind}{f' ({detail})' if detail else ''}")
