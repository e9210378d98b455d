"""A fake IEMOCAP_full_release tree whose turns exercise every labelling option.

Each turn lists its header label, the evaluators' category lines and E2's
dimension line; the comments give what each agreement rule makes of it.
"""
from __future__ import annotations

from pathlib import Path

from . import write_text, write_tone

# (utterance id, header code, header [V, A, D], category lines, dimension lines)
TURNS = [
    # majority neutral, two: neutral, all: neutral (the self-assessment F1 disagrees and is not counted)
    ("Ses01F_impro01_F000", "neu", (2.5, 2.0, 2.5),
     [("E1", "Neutral;"), ("E2", "Neutral;"), ("E3", "Neutral state;"), ("F1", "Anger;")],
     [("E2", "val 3; act 2; dom  2;"), ("E3", "val 2; act 2; dom  3;")]),
    # majority anger, two: anger, all: none (E3 says frustration)
    ("Ses01F_impro01_M000", "ang", (1.5, 4.0, 4.0),
     [("E1", "Anger;"), ("E2", "Anger;"), ("E3", "Frustration;")],
     [("E2", "val 1; act 4; dom  4;")]),
    # majority excited, two: excitement (3 vs 1), all: excitement
    ("Ses01F_impro01_F001", "exc", (4.0, 4.0, 3.0),
     [("E1", "Excited;"), ("E2", "Excited; Happiness;"), ("E3", "Excited;")],
     [("E2", "val 4; act 4; dom  3;")]),
    # no majority (xxx): every rule leaves it out
    ("Ses01F_impro01_M001", "xxx", (2.0, 3.0, 3.0),
     [("E1", "Sadness;"), ("E2", "Anger;"), ("E3", "Neutral;")],
     [("E2", "val 2; act 3; dom  3;")]),
    # majority happy, two: happiness (3 vs 2), all: happiness (the only shared category)
    ("Ses01F_impro01_F002", "hap", (4.5, 3.0, 3.0),
     [("E1", "Happiness;"), ("E2", "Happiness; Excited;"), ("E3", "Excited; Happiness;")],
     [("E2", "val 5; act 3; dom  3;")]),
    # majority sad, two: tie sadness/frustration -> none, all: two shared categories -> none; no transcript
    ("Ses01F_impro01_M002", "sad", (1.0, 1.5, 2.0),
     [("E1", "Sadness; Frustration;"), ("E2", "Sadness; Frustration;")],
     [("E2", "val 1; act 1; dom  2;")]),
    # scripted; frustration under every rule; E2 gave no dimension line
    ("Ses01F_script01_1_F000", "fru", (2.0, 3.5, 3.0),
     [("E1", "Frustration;"), ("E2", "Frustration;"), ("E4", "Frustration;")],
     [("E4", "val 2; act 4; dom  3;")]),
    # scripted; majority neutral, two: neutral, all: none; E2's dimension line is incomplete
    ("Ses01F_script01_1_M000", "neu", (3.0, 2.0, 2.0),
     [("E1", "Neutral;"), ("E3", "Neutral;"), ("E4", "Sadness;")],
     [("E2", "val 3; act 2;")]),
    # session 2; surprise under every rule (two evaluators)
    ("Ses02M_impro02_F000", "sur", (3.0, 4.5, 3.0),
     [("E1", "Surprise;"), ("E2", "Surprise;")],
     [("E2", "val 3; act 5; dom  3;")]),
    # majority neutral; a single external evaluator: two and all leave it out; no E2 dimensions
    ("Ses02M_impro02_M000", "neu", (3.0, 2.5, 3.0),
     [("E2", "Neutral;"), ("M1", "Neutral;")],
     [("E3", "val 3; act 3; dom  3;")]),
    # anger under every rule, but its wav file is missing
    ("Ses02M_impro02_F001", "ang", (2.0, 4.0, 4.0),
     [("E1", "Anger;"), ("E2", "Anger;")],
     [("E2", "val 2; act 4; dom  4;")]),
]
NO_AUDIO = {"Ses02M_impro02_F001"}
NO_TRANSCRIPT = {"Ses01F_impro01_M002"}
WDSEG = {"Ses01F_impro01_F000": (" SFrm  EFrm    SegAScr Word\n"
                                 "    0    29     -71208 <s>\n"
                                 "   30    60    -139656 EXCUSE\n"
                                 "   61    80     -91000 ME(2)\n"
                                 "   81    95     -50000 <sil>\n"
                                 "   96   120     -60000 ++BREATHING++\n"
                                 " Total score:     -412000\n")}
# A turn whose header does not parse; its rating lines then belong to no turn.
BROKEN_BLOCK = "[6.x - 8.2]\tSes02M_impro02_M001\tneu\t[2.5, 2.5, 2.5]\nC-E1:\tNeutral;\t()\n"


def _dialog(utt: str) -> str:
    return utt.rsplit("_", 1)[0]


def _session(utt: str) -> int:
    return int(utt[4])


def build_iemocap(root: Path) -> Path:
    """Write the fake release under ``root`` and return it."""
    evaluations: dict[tuple[int, str], list[str]] = {}
    transcripts: dict[tuple[int, str], list[str]] = {}
    for number, (utt, code, vad, categories, dimensions) in enumerate(TURNS):
        session, dialog = _session(utt), _dialog(utt)
        start, end = 1.0 + 3 * number, 3.0 + 3 * number
        block = [f"[{start:.4f} - {end:.4f}]\t{utt}\t{code}\t[{vad[0]:.4f}, {vad[1]:.4f}, {vad[2]:.4f}]"]
        block += [f"C-{who}:\t{names}\t()" for who, names in categories]
        block += [f"A-{who}:\t{values}\t()" for who, values in dimensions]
        evaluations.setdefault((session, dialog), []).append("\n".join(block) + "\n")
        if utt not in NO_TRANSCRIPT:
            transcripts.setdefault((session, dialog), []).append(
                f"{utt} [{start:08.4f}-{end:08.4f}]: words of {utt}.")
        if utt not in NO_AUDIO:
            write_tone(root / f"Session{session}" / "sentences" / "wav" / dialog / f"{utt}.wav", seconds=0.2)
        if utt in WDSEG:
            write_text(root / f"Session{session}" / "sentences" / "ForcedAlignment" / dialog / f"{utt}.wdseg",
                       WDSEG[utt])
    for (session, dialog), blocks in evaluations.items():
        extra = BROKEN_BLOCK if dialog == "Ses02M_impro02" else ""
        header = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        write_text(root / f"Session{session}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt",
                   header + "\n".join(blocks) + "\n" + extra)
        lines = transcripts.get((session, dialog), []) + [f"{dialog}_MXX0 [000.1000-000.5000]: unlabelled."]
        write_text(root / f"Session{session}" / "dialog" / "transcriptions" / f"{dialog}.txt", "\n".join(lines) + "\n")
    # The release repeats ratings in subfolders and ships macOS resource forks; the loader ignores both.
    write_text(root / "Session1" / "dialog" / "EmoEvaluation" / "Categorical" / "Ses01F_impro01_e1_cat.txt", "x\n")
    write_text(root / "Session1" / "dialog" / "EmoEvaluation" / "._Ses01F_impro01.txt", "\x00\x05junk")
    return root
