"""Fake trees of the corpora whose labels live in their file names or one CSV."""
from __future__ import annotations

from pathlib import Path

from . import write_text, write_tone


def build_emodb(root: Path, names: list[str]) -> Path:
    """``wav/SSTTTEV.wav`` files (other names become text files) plus a silb/ folder the loader ignores."""
    for name in names:
        if name.endswith(".wav"):
            write_tone(root / "wav" / name, seconds=0.1)
        else:
            write_text(root / "wav" / name, "not audio\n")
    write_text(root / "silb" / "03a01Fa.silb", "0.08\tder\n")
    return root


def build_ravdess(root: Path, names: list[str]) -> Path:
    """``Actor_XX/MM-VV-EE-II-SS-RR-AA.wav`` as in the speech and song zips."""
    for name in names:
        write_tone(root / f"Actor_{name[-6:-4]}" / name, seconds=0.1)
    return root


def build_crema_d(root: Path, names: list[str], demographics: str = "") -> Path:
    """``AudioWAV/AAAA_SSS_EMO_LVL.wav`` and optionally ``VideoDemographics.csv``."""
    for name in names:
        write_tone(root / "AudioWAV" / name, seconds=0.1)
    if demographics:
        write_text(root / "VideoDemographics.csv", demographics)
    return root


def build_emovo(root: Path, names: list[str]) -> Path:
    """``<speaker>/<emo>-<speaker>-<sentence>.wav``."""
    for name in names:
        write_tone(root / name.split("-")[1] / name, seconds=0.1)
    write_text(root / "documents" / "readme.txt", "not audio\n")
    return root


def build_msp_podcast(root: Path, rows: list[str], audio: list[str], transcripts: dict[str, str]) -> Path:
    """``Audios/*.wav``, ``Labels/labels_consensus.csv`` and ``Transcripts/*.txt``."""
    header = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"
    write_text(root / "Labels" / "labels_consensus.csv", "\n".join([header, *rows]) + "\n")
    for name in audio:
        write_tone(root / "Audios" / name, seconds=0.1)
    for stem, text in transcripts.items():
        write_text(root / "Transcripts" / f"{stem}.txt", text + "\n")
    return root


def build_librispeech(root: Path, chapters: dict[str, list[tuple[str, str]]], missing: tuple[str, ...] = ()) -> Path:
    """``<subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` with one ``.trans.txt`` per chapter.

    ``chapters`` maps ``subset/spk/chapter`` to (utterance number, text) pairs.
    """
    for key, lines in chapters.items():
        subset, speaker, chapter = key.split("/")
        folder = root / subset / speaker / chapter
        transcript = []
        for number, text in lines:
            utt = f"{speaker}-{chapter}-{number}"
            transcript.append(f"{utt} {text}")
            if utt not in missing:
                write_tone(folder / f"{utt}.flac", seconds=0.1)
        write_text(folder / f"{speaker}-{chapter}.trans.txt", "\n".join(transcript) + "\n")
    return root
