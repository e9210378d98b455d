"""EmoDB loader: a fake tree in the release's formats, and the real copy in ../shared/corpora/emodb."""
from collections import Counter
from pathlib import Path

import pytest

from sertk.corpora.emodb import EmoDB, align_words, phone_tier
from sertk.corpora.info import corpus_summary, format_summary
from sertk.corpora.xlabel import Mark, XlabelError, intervals, parse_xlabel
from sertk.errors import SertkError
from sertk.interfaces import Word
from tests.fakes.simple import build_emodb

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "emodb"


def test_fake_tree_names_speakers_labels(tmp_path):
    root = build_emodb(tmp_path, ["03a01Wa.wav", "08b10Tc.wav", "16a05Lb.wav", "10a02Nd.wav",
                                  "11a01Xa.wav", "readme.wav", "notes.txt"])
    corpus = EmoDB(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["03a01Wa", "08b10Tc", "10a02Nd", "16a05Lb"]
    anger = utts["03a01Wa"]
    assert (anger.speaker, anger.labels, anger.corpus) == ("03", {"emotion": "anger"}, "emodb")
    assert anger.meta == {"gender": "male", "text": "a01", "version": "a"}
    assert anger.transcript == "Der Lappen liegt auf dem Eisschrank."
    assert Path(anger.path) == root / "wav" / "03a01Wa.wav"
    assert utts["08b10Tc"].labels["emotion"] == "sadness" and utts["08b10Tc"].meta["gender"] == "female"
    assert utts["16a05Lb"].labels["emotion"] == "boredom"
    report = corpus.report
    assert "1 unknown emotion letters (first: 11a01Xa.wav)" in report
    assert "1 wav files not named SSTTTEV (first: readme.wav)" in report
    assert "found 4 utterances where the full corpus has 535" in report
    # a copy without the label folders: noted once, no tiers
    assert all(u.alignments == {} and u.words == [] for u in utts.values())
    assert "no lablaut/ folder: no phone tiers" in report
    assert "no silb/ or labsilb/ folder: no syllable tiers or word times" in report


W = Word
PHONES = [W(0.1, 0.14, "h"), W(0.14, 0.22, "OY"), W(0.22, 0.29, "t"), W(0.29, 0.33, "@"),  # "(" pause dropped
          W(0.45, 0.465, "?"), W(0.465, 0.52, "a"), W(0.52, 0.58, "b"), W(0.58, 0.64, "m"), W(0.64, 0.7, "t"),
          W(0.7, 0.78, "k"), W(0.78, 0.82, "9"), W(0.82, 0.85, "n"), W(0.85, 0.9, "t"), W(0.9, 0.95, "@"),
          W(0.95, 0.99, "I"), W(0.99, 1.05, "C"), W(1.05, 1.1, "E"), W(1.1, 1.15, "s"), W(1.15, 1.2, "i"),
          W(1.2, 1.25, "m"),  # "(gef" pause dropped
          W(1.4, 1.45, "z"), W(1.45, 1.55, "a"), W(1.55, 1.62, "g"), W(1.62, 1.7, "@"), W(1.7, 1.8, "n")]
SYLLABLES = [W(0.1, 0.22, "heute"), W(0.22, 0.33, "te"), W(0.45, 0.52, "a"), W(0.52, 0.7, "bend"),
             W(0.7, 0.85, "könn"), W(0.85, 0.95, "te"), W(0.95, 1.05, "ich"), W(1.05, 1.15, "es"),
             W(1.15, 1.25, "ihm"), W(1.4, 1.55, "sa"), W(1.55, 1.8, "gn")]
WORDS = [W(0.1, 0.33, "Heute"), W(0.45, 0.7, "abend"), W(0.7, 0.95, "könnte"), W(0.95, 1.05, "ich"),
         W(1.05, 1.15, "es"), W(1.15, 1.25, "ihm"), W(1.4, 1.8, "sagen")]


def test_fake_label_files_give_phone_syllable_and_word_tiers(tmp_path):
    root = build_emodb(tmp_path, ["03a04Wc.wav", "16a04Lb.wav"], labels=("03a04Wc", "16a04Lb"))
    corpus = EmoDB(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    utt = utts["03a04Wc"]
    # start-time marks; diacritic-only marks and stress digits dropped; t !t tasp -> t; nn -> n; I+nas -> I
    assert utt.alignments["phones"] == PHONES
    assert utt.alignments["syllables"] == SYLLABLES  # silb/ read (latin-1 "könn"), pauses dropped
    assert utt.words == WORDS  # "heute te" is one word, "sa gn" is "sagen"
    assert utt.transcript == "Heute abend könnte ich es ihm sagen."
    assert utts["16a04Lb"].alignments == utt.alignments
    assert "no problems found" in corpus.report


def test_broken_label_files_are_reported_and_their_utterances_kept(tmp_path):
    stems = ("03a04Wc", "08a04Lb", "09a04Fd", "10a04Wa")
    root = build_emodb(tmp_path, [f"{s}.wav" for s in stems + ("11a04Nd",)], labels=stems)
    lablaut = root / "lablaut" / "03a04Wcxx.lablaut"
    lablaut.write_bytes(lablaut.read_bytes().replace(b"    0.290000   -1 @", b"garbage"))
    lablaut = root / "lablaut" / "08a04Lbxx.lablaut"
    lablaut.write_bytes(lablaut.read_bytes().replace(b"    1.800000   -1 .\t-eng]\n", b""))
    (root / "silb" / "09a04Fd.silb").write_bytes(b"")                  # empty: labsilb/ is read instead
    (root / "silb" / "10a04Wa.silb").write_bytes(b"0.1\theu\nzwei\tte\n")  # unparsable, and no labsilb/
    (root / "labsilb" / "10a04Wa.labsilb").unlink()
    corpus = EmoDB(str(root))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == sorted(stems + ("11a04Nd",))
    assert "phones" not in utts["03a04Wc"].alignments and utts["03a04Wc"].words == WORDS
    assert "phones" not in utts["08a04Lb"].alignments
    assert utts["09a04Fd"].alignments["phones"] == PHONES
    assert utts["09a04Fd"].alignments["syllables"] == [W(0.1, 0.22, "heu"), *SYLLABLES[1:]]
    assert utts["09a04Fd"].words == WORDS
    assert "syllables" not in utts["10a04Wa"].alignments and utts["10a04Wa"].words == []
    assert utts["10a04Wa"].alignments["phones"] == PHONES
    assert utts["11a04Nd"].alignments == {} and utts["11a04Nd"].labels == {"emotion": "neutral"}
    report = corpus.report
    assert ("2 unusable phone label files (first: 03a04Wcxx.lablaut:14: not a 'time color label' line: "
            "'garbage')") in report
    assert "1 utterances without phone labels (lablaut/) (first: 11a04Nd)" in report
    assert "1 unusable syllable label files (first: 10a04Wa.silb:2: not a 'time syllable' line: 'zwei\\tte')" in report
    assert "1 utterances without syllable labels (silb/, labsilb/) (first: 11a04Nd)" in report
    assert "09a04Fd" not in report


def test_alignments_false_reads_no_label_files(tmp_path):
    root = build_emodb(tmp_path, ["03a04Wc.wav", "11a04Nd.wav"], labels=("03a04Wc",))
    (root / "silb" / "03a04Wc.silb").write_bytes(b"garbage\n")
    corpus = EmoDB(str(root), alignments=False)
    assert all(u.alignments == {} and u.words == [] for u in corpus.utterances())
    assert "no problems found" in corpus.report and "lablaut" not in corpus.report


def test_phone_tier_merges_plosive_phases_and_reads_slips():
    def tier(*marks):
        return [(w.start, w.end, w.text) for w in phone_tier([Mark(t, -1, label) for t, label in marks])]

    assert tier((0.1, "_t"), (0.2, "!t\t+asp"), (0.3, "tasp"), (0.4, "E6"), (0.5, ".")) == [
        (0.1, 0.4, "t"), (0.4, 0.5, "E6")]
    # a release after anything but its own closure is a phone of its own
    assert tier((0.1, "S"), (0.2, "!t"), (0.3, "k"), (0.4, "!p"), (0.5, ".")) == [
        (0.1, 0.2, "S"), (0.2, 0.3, "t"), (0.3, 0.4, "k"), (0.4, 0.5, "p")]
    # bare "!" release, "dsap"/"gas" aspirations, a bare "hoe" diacritic, glued diacritics, "(gef" pause
    assert tier((0.1, "d"), (0.2, "!"), (0.25, "dsap"), (0.3, "i"), (0.35, "hoe"), (0.4, "g-sth"), (0.45, "!g"),
                (0.5, "gas+sth"), (0.55, "(gef"), (0.9, "NN"), (1.0, ". -eng]")) == [
        (0.1, 0.3, "d"), (0.3, 0.4, "i"), (0.4, 0.55, "g"), (0.9, 1.0, "N")]
    assert tier((0.1, "a"), (0.1, "b"), (0.2, ".")) == [(0.1, 0.2, "b")]  # no zero-length phones
    with pytest.raises(XlabelError, match="no end mark"):
        tier((0.1, "a"), (0.2, "b"))
    with pytest.raises(XlabelError, match="times go back at 0.1"):
        tier((0.2, "a"), (0.1, "b"), (0.3, "."))
    with pytest.raises(XlabelError, match="no segments"):
        tier()


def test_align_words_needs_a_unique_close_grouping():
    def syllables(*texts):
        return [W(i / 10, (i + 1) / 10, t) for i, t in enumerate(texts)]

    assert [(w.start, w.end, w.text) for w in align_words(syllables("ha", "bm", "es"), "Sie haben es.")] == []
    assert [(w.start, w.end, w.text) for w in align_words(syllables("sie", "haben", "bm", "es"), "Sie haben es.")] \
        == [(0.0, 0.1, "Sie"), (0.1, 0.3, "haben"), (0.3, 0.4, "es")]
    assert align_words(syllables("a", "a", "a"), "aa aa") == []      # [a][a a] and [a a][a] tie
    assert align_words(syllables("xyz"), "Haus") == []               # too far from the text


def test_xlabel_parser_reads_header_marks_and_conventions():
    text = ("signal s\ntype 0\ncomment one\ncomment two\nseparator ;\nnfields 1\n#\n"
            "    0.100000   -1 a\t+lar\t2\n    0.200000   125\t-lar\n    0.300000   -1\n\n    0.400000   -1 .\n")
    parsed = parse_xlabel(text)
    assert parsed.header == {"signal": ["s"], "type": ["0"], "comment": ["one", "two"], "separator": [";"],
                             "nfields": ["1"]}
    assert parsed.marks == [Mark(0.1, -1, "a\t+lar\t2"), Mark(0.2, 125, "-lar"), Mark(0.3, -1, ""),
                            Mark(0.4, -1, ".")]
    assert intervals(parsed.marks, "start") == [(0.1, 0.2, "a\t+lar\t2"), (0.2, 0.3, "-lar"), (0.3, 0.4, "")]
    assert intervals(parsed.marks[:2], "end") == [(0.0, 0.1, "a\t+lar\t2"), (0.1, 0.2, "-lar")]
    assert intervals(parsed.marks[:2], "end", start=None) == [(0.1, 0.2, "-lar")]
    with pytest.raises(XlabelError, match="f.lab: no '#' line"):
        parse_xlabel("signal s\n    0.1 -1 a\n", "f.lab")
    with pytest.raises(XlabelError, match=r"f.lab:3: not a 'time color label' line: 'a 0.1'"):
        parse_xlabel("nfields 1\n#\na 0.1\n", "f.lab")


def test_missing_wav_folder_fails_naming_root(tmp_path):
    with pytest.raises(SertkError, match=r"emodb: wav/ under .* is not a folder; set corpus.params.root to "
                                         r"the EmoDB folder holding wav/"):
        EmoDB(str(tmp_path)).utterances()
    (tmp_path / "wav").mkdir()
    with pytest.raises(SertkError, match=r"emodb: no wav files under .*wav; set corpus.params.root"):
        EmoDB(str(tmp_path)).utterances()


@pytest.mark.emodb
@pytest.mark.skipif(not (REAL / "wav").is_dir(), reason=f"the EmoDB copy is not at {REAL}")
def test_real_emodb_counts():
    corpus = EmoDB(str(REAL))
    utts = corpus.utterances()
    assert len(utts) == 535
    assert len({u.speaker for u in utts}) == 10
    assert Counter(u.labels["emotion"] for u in utts) == {"anger": 127, "boredom": 81, "disgust": 46, "fear": 69,
                                                          "happiness": 71, "neutral": 79, "sadness": 62}
    # timing files are read on first use; two phone label files of the release hold no marks
    assert "no problems found" in corpus.report
    summary = corpus_summary(utts)
    assert summary["word_timed"] > 500 and summary["tiers"]["phones"] == 533
    assert corpus.report.endswith("problems: 2 unusable phone label files (first: 08a01Abxx.lablaut: no segments)")
    assert "no problems found" in EmoDB(str(REAL), alignments=False).report
    assert summary["duration_s"] == pytest.approx(1070.0, abs=0.5)  # 535 files cut or padded to 2.0 s
    text = format_summary(summary)
    assert "utterances           535" in text and "emotion (7 classes)" in text
