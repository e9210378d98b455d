"""What ``sertk predict`` reads: audio files, folders (searched recursively) and CSV manifests."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from ..errors import SertkError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64", ".rf64", ".opus")


def audio_in(folder: Path) -> list[Path]:
    """Audio files under ``folder`` (any depth), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def manifest_paths(manifest: Path) -> list[Path]:
    """The ``path`` column of a CSV manifest; relative paths are taken from the manifest's folder."""
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if "path" not in (reader.fieldnames or []):
                raise SertkError(f"{manifest}: a manifest needs a 'path' column (found: "
                                 f"{', '.join(reader.fieldnames or []) or 'no header'})")
            rows = [row["path"].strip() for row in reader if (row.get("path") or "").strip()]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SertkError(f"{manifest}: not a readable CSV manifest ({exc})") from None
    return [p if p.is_absolute() else manifest.parent / p for p in map(Path, rows)]


def collect_inputs(inputs: Sequence[str]) -> list[str]:
    """Every recording named by ``inputs`` (files, folders, ``.csv`` manifests), in order,
    each once; a missing input or one that yields no audio is a user error."""
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            audio = audio_in(item)
            if not audio:
                raise SertkError(f"{item}: no audio files ({', '.join(AUDIO_SUFFIXES)}) in this folder")
            found += audio
        elif item.suffix.lower() == ".csv" and item.is_file():
            listed = manifest_paths(item)
            missing = [p for p in listed if not p.is_file()]
            if missing:
                raise SertkError(f"{item}: {len(missing)} listed file(s) not found, e.g. {missing[0]}; "
                                 f"fix the path column (relative paths start at the manifest's folder)")
            if not listed:
                raise SertkError(f"{item}: the manifest lists no files")
            found += listed
        elif item.is_file():
            found.append(item)
        else:
            raise SertkError(f"{item}: no such file or folder; pass audio files, folders or a CSV manifest")
    return list(dict.fromkeys(str(p) for p in found))
