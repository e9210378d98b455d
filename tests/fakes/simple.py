"""Fake trees of the corpora whose labels live in their file names or one CSV."""
from __future__ import annotations

from pathlib import Path

from . import write_text, write_tone


def build_emodb(root: Path, names: list[str], labels: tuple[str, ...] = ()) -> Path:
    """``wav/SSTTTEV.wav`` files (other names become text files); for each stem in ``labels``,
    ``lablaut/<stem>xx.lablaut``, ``labsilb/<stem>.labsilb`` and ``silb/<stem>.silb`` in the
    release's formats (xlabel header ending at ``#``, segment-start marks, diacritics, plosive
    phases, pauses ``(``/``(gef``, end mark ``.``; latin-1) with invented times for sentence
    a04, "Heute abend könnte ich es ihm sagen."."""
    for name in names:
        if name.endswith(".wav"):
            write_tone(root / "wav" / name, seconds=0.1)
        else:
            write_text(root / "wav" / name, "not audio\n")
    header = ("signal wochenAO\ntype 0\ncomment created using xlabel Thu Jan 27 14:28:22 2000\n{color}"
              "font -misc-*-bold-*-*-*-15-*-*-*-*-*-*-*\nseparator ;\nnfields 1\n#\n")
    # One mark per line: time, colour, one space (once a tab), label; "\t" inside labels as in the files.
    lablaut = header.format(color="") + (
        "    0.100000   -1 h\t+beh\n"
        "    0.140000   -1 OY\t+lar\t2\n"
        "    0.200000   -1 \t-lar\n"
        "    0.220000   -1 t\n"
        "    0.250000   -1 !t\t+asp\n"
        "    0.265000   -1 tasp\n"
        "    0.290000   -1 @\n"
        "    0.330000   -1 (\n"
        "    0.450000   -1 ?\n"
        "    0.465000   -1 a\t\t1\n"
        "    0.520000   -1 b\n"
        "    0.560000   -1 !b\n"
        "    0.580000   -1 m\t+sil\n"
        "    0.640000   125 t\t-sth\n"
        "    0.700000   -1 k\n"
        "    0.740000   -1 !k\n"
        "    0.755000   -1 kasp\n"
        "    0.780000   -1 9\t+zen\t2\n"
        "    0.820000   -1 nn\n"
        "    0.850000   -1 t\n"
        "    0.880000   -1 !t\n"
        "    0.900000   -1 @\n"
        "    0.950000   -1 I+nas\n"
        "    0.990000   -1 C\n"
        "    1.010000   -1   -sth\n"
        "    1.050000   -1 E\n"
        "    1.100000   -1 s\n"
        "    1.150000   -1 i\t+hoe\t3\n"
        "    1.200000   -1 m\n"
        "    1.250000   -1 (gef\n"
        "    1.400000   -1 z\n"
        "    1.450000   125 a\t+lar\t2\n"
        "    1.500000   -1\t-tie\n"
        "    1.550000   -1 g\n"
        "    1.600000   -1 !g\n"
        "    1.620000   -1 @\n"
        "    1.700000   -1 n\n"
        "    1.800000   -1 .\t-eng]\n")
    # Syllable onsets; labsilb/ spells the first one "heu" where silb/ has "heute".
    syllables = [("0.100000", "heute", "heu\t2.4"), ("0.220000", "te", "te\t0.2"), ("0.330000", "(", "(\t"),
                 ("0.450000", "a", "a\t0.0"), ("0.520000", "bend", "bend\t1.1"), ("0.700000", "könn", "könn\t2.2"),
                 ("0.850000", "te", "te\t0.2"), ("0.950000", "ich", "ich\t0.4"), ("1.050000", "es", "es\t0.0"),
                 ("1.150000", "ihm", "ihm\t0.6"), ("1.250000", "(", "(\t"), ("1.400000", "sa", "sa\t2.9"),
                 ("1.550000", "gn", "gn\t0.1"), ("1.800000", ".", ".\t")]
    labsilb = header.format(color="color 125\n") + "".join(f"    {t}   -1 {label}\n" for t, _, label in syllables)
    silb = "".join(f"{t}{'    ' if text == 'a' else chr(9)}{text}\n" for t, text, _ in syllables)
    for stem in labels:
        for path, text in ((root / "lablaut" / f"{stem}xx.lablaut", lablaut),
                           (root / "labsilb" / f"{stem}.labsilb", labsilb), (root / "silb" / f"{stem}.silb", silb)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("latin-1"))
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
