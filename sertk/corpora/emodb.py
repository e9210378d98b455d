"""EmoDB, the Berlin Database of Emotional Speech, in its distribution layout.

F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss, "A Database of
German Emotional Speech", Interspeech 2005: 10 actors (5 female, 5 male),
10 sentences, 7 emotions, 535 utterances in ``wav/`` named ``SSTTTEV.wav``
(speaker, text, emotion letter, version).

The release also has the labellers' hand-made time alignments (a narrow
phonetic transcription with voice-quality marks), read into
``Utterance.alignments`` and ``Utterance.words`` unless ``alignments=False``.
What follows was read off the files themselves.

Phones, ``lablaut/SSTTTEVxx.lablaut`` (``xx`` after the wav stem; a stray
empty ``14b09Ea.lablaut`` beside ``14b09Eaxx.lablaut`` is not read; two files
without audio are ignored): ``xlabel`` format (see :mod:`sertk.corpora.xlabel`),
latin-1, a header of ``signal``/``type``/``comment``/``font``/``separator``/
``nfields`` lines ended by a line ``#``, then ``time color label`` lines::

        0.080109   -1 _t
        0.119160   -1 !t	+asp
        0.144370   -1 E6

The times are segment *starts* (the Kiel labelling convention, not ESPS's
end times): syllable onsets fall on phone marks (``la`` and ``l`` at 0.2442 s
in 03a01Fa), nothing is labelled before the first mark, and the last mark of
every file is ``.``, closing the last phone.  A label is a symbol, German
SAMPA as the Kiel corpora extend it (``?`` glottal stop, ``6`` vocalised r,
``E6``/``i6``/... r-diphthongs, ``4`` tap, ``R`` uvular trill, ``X``
uvular fricative, ``V``/``B``/``D``/``G``/``H``/``L`` narrow allophones),
optionally followed after a tab or spaces by diacritics (``+lar``
laryngealised, ``+beh`` breathy, ``-sth``/``+sth`` devoiced/voiced, ``+nas``,
``+sil`` syllabic, ``+:`` lengthened, ``[+eng`` ... ``-eng]`` ranges, about
30 names) and a stress digit 1-3 on vowels.  A plosive comes in phases:
closure ``t`` (``_t`` after a pause), release ``!t`` (now and then a bare
``!``), aspiration ``tasp``.  A mark holding only diacritics (``<TAB>-lar``)
opens or closes a range inside the current phone.  ``(`` and ``(gef`` are
pauses.  Of the 535 files two (08a01Ab, 08a01Wa) hold no marks at all.

``alignments["phones"]``: one ``Word(start, end, symbol)`` per phone, ending
at the next phone, pause or ``.`` mark.  Normalised minimally: the symbol is
the label's first token, diacritics and stress digits cut off (also when
glued on, ``I+nas``); a release or aspiration following a closure of the
same plosive extends it into one phone named by the closure (``_t !t tasp``
-> ``t``), anywhere else it is a phone of its own (``S !t`` -> ``S t``);
doubled consonants (``NN nn mm ss vv``, 13 in all: lengthening, as ``+:``
is, not a contrast in German) are written once; three slips are read as
meant (``dsap`` and ``gas`` aspirations, a bare ``hoe`` diacritic).
Tense/lax vowels, diphthongs and r-diphthongs stay as labelled, giving 67
symbols over the corpus (a dozen of them rare diphthong variants).  Pauses
are left out: a phone recogniser should learn phones, and the gap between
two phones still shows the pause.

Syllables, ``silb/SSTTTEV.silb``: latin-1, no header, ``onset<TAB>syllable``
lines (a few with spaces for the tab), ``(`` a pause, ``.`` the end::

    0.080080	der
    0.244195	la
    0.427094	pen

``labsilb/SSTTTEV.labsilb`` holds the same marks in xlabel format with a
number 0-3 per syllable (``la<TAB>2.4``, a mean stress rating, it seems), but
only for 493 utterances and with slips that ``silb/`` corrects (``könnte
könnte`` for ``könn te``); ``silb/`` covers 534 (13a01Wb's is empty).  So
``silb/`` is read, and ``labsilb/`` where it is missing or empty.
``alignments["syllables"]``: one ``Word`` per syllable, lower-cased (a few
files capitalise nouns), ending at the next mark; pauses left out; of two
marks at the same time the second is kept.  A syllable's text is how the
labeller spelled it, often phonetically (``ha bm`` for *haben*), and the
first syllable is now and then labelled with the whole word (``heute te``).

``words``: the sentence's words (:data:`TEXTS`) with times from the
syllables they group, a word spanning its first syllable's onset to its
last syllable's end; see :func:`align_words`.  An utterance whose grouping is
not unique or too far from the text gets no words (none on this release: all
535 align).  No time is invented: every boundary is a labeller's mark.

Times stay as the files give them, in seconds of the original recordings; a
copy whose audio was cut (the shared test copy, to 2.0 s) has tiers running
past its end.  A missing, unreadable or empty label file is counted in the
report and the utterance is kept without that tier.
"""
from __future__ import annotations


import re
from functools import lru_cache, partial
from pathlib import Path
from typing import Optional

from ..interfaces import Utterance, Word
from ._base import LocalCorpus
from ._integrity import Integrity
from .xlabel import Mark, XlabelError, read_xlabel

_NAME = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])$")

FEMALE = frozenset({"08", "09", "13", "14", "16"})
MALE = frozenset({"03", "10", "11", "12", "15"})

# The ten sentences, by text code (Burkhardt et al. 2005).
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Blatt Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}

FULL_SIZE = 535

END = "."                      # last mark of a phone or syllable file: the end of the last segment
PLOSIVES = frozenset("ptkbdg")
# Diacritic names of the phone labels; one is once written without its sign ("hoe").
DIACRITICS = frozenset({"api", "asp", "beh", "den", "det", "eng", "fal", "flu", "fr", "ger", "ges", "har", "hoe",
                        "lab", "lac", "lar", "lat", "na", "nas", "pal", "pha", "rue", "sil", "spr", "sth", "tie",
                        "ung", "vel", "vor", "zen"})
_SLIPS = {"dsap": "dasp", "gas": "gasp"}
_CUT = re.compile(r"[-+\[\]]")
_VOWEL = re.compile(r"[aeiouyäöü]")
_NASAL = re.compile(r"ng|[mn]")
_HABIT = 0.5                   # extra cost of reading a syllable label as the rest of its word (``heute te``)


def phone_token(label: str) -> Optional[str]:
    """The phone symbol a lablaut label starts with, diacritics cut off; None for a diacritics-only mark.

    Pauses (``(``, ``(gef``) and the end mark ``.`` come back as written; plosive
    phases (``_t``, ``!t``, ``tasp``) too (:func:`phone_tier` merges them).
    """
    tokens = label.split()
    if not tokens:
        return None
    token = tokens[0]
    if token.startswith("("):
        return token
    token = _CUT.split(token)[0]
    if not token or token in DIACRITICS:
        return None
    return _SLIPS.get(token, token)


def _phase(token: str) -> tuple[str, str]:
    """(kind, base symbol): kind is "release", "aspiration" or "phone"."""
    if token.startswith("!"):
        return "release", token[1:]
    if token.endswith("asp") and len(token) > 3:
        return "aspiration", token[:-3]
    if token.startswith("_") and len(token) > 1:
        return "phone", token[1:]
    if len(token) == 2 and token[0] == token[1] and token.isalpha():
        return "phone", token[0]
    return "phone", token


def phone_tier(marks: list[Mark]) -> list[Word]:
    """The phones of one lablaut file (normalised, pauses left out; see the module docstring).

    Raises :class:`XlabelError` when the file holds no mark or lacks the end mark ``.``.
    """
    out: list[Word] = []
    current: Optional[tuple[float, str]] = None  # (start, symbol) of the open phone; None in a pause
    last = float("-inf")
    for mark in marks:
        if mark.time < last:
            raise XlabelError(f"times go back at {mark.time:g} s")
        last = mark.time
        token = phone_token(mark.label)
        if token is None:
            continue                              # diacritic range inside the current phone
        if token == END or token.startswith("("):
            _close(out, current, mark.time)
            current = None
            if token == END:
                return out
            continue
        kind, base = _phase(token)
        if kind != "phone" and current and current[1] in PLOSIVES and base in ("", current[1]):
            continue                              # release or aspiration of the open plosive
        _close(out, current, mark.time)
        current = (mark.time, base) if base else None
    raise XlabelError("no segments" if not marks else f"no end mark {END!r}")


def _close(out: list[Word], current: Optional[tuple[float, str]], end: float) -> None:
    """Append the open phone, ending at ``end``; one of no length (two marks at one time) is dropped."""
    if current and end > current[0]:
        out.append(Word(current[0], end, current[1]))


def parse_silb(text: str, source: str = "<text>") -> list[tuple[float, str]]:
    """``time token`` lines of a silb file; raises :class:`XlabelError` on a bad line."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        try:
            rows.append((float(parts[0]), parts[1].strip() if len(parts) > 1 else ""))
        except ValueError:
            raise XlabelError(f"{source}:{number}: not a 'time syllable' line: {line.strip()[:40]!r}") from None
    return rows


def syllable_tier(rows: list[tuple[float, str]]) -> list[Word]:
    """Syllables from onset marks: each ends at the next mark; pauses left out; raises without the end mark."""
    out: list[Word] = []
    for (time, token), (after, _) in zip(rows, rows[1:]):
        if after < time:
            raise XlabelError(f"times go back at {after:g} s")
        if token == END:
            return out
        if token and not token.startswith("(") and after > time:
            out.append(Word(time, after, token.lower()))
    if rows and rows[-1][1] == END:
        return out
    raise XlabelError("no segments" if not rows else f"no end mark {END!r}")


@lru_cache(maxsize=65536)
def _pieces(text: str, word: str) -> tuple[tuple[int, ...], ...]:
    """``table[p][p2]``: edit distance of ``text`` to ``word[p:p2]`` (0 <= p < p2 <= len(word))."""
    table = []
    for p in range(len(word)):
        rest = word[p:]
        row = list(range(len(rest) + 1))          # distance of text[:0] to each prefix of rest
        for i, ch in enumerate(text, 1):
            new = [i]
            for j, other in enumerate(rest, 1):
                new.append(min(row[j] + 1, new[j - 1] + 1, row[j - 1] + (ch != other)))
            row = new
        table.append((0,) * (p + 1) + tuple(row[1:]))
    return tuple(table)


def _schwa(text: str) -> str:
    """A syllable spelled without a vowel as a syllabic nasal (``bm``, ``hn``, ``gn``) with its -en back."""
    return text if _VOWEL.search(text) else _NASAL.sub("en", text, count=1)


def sentence_words(text: str) -> list[str]:
    """The words of a sentence without punctuation."""
    return [w for w in (t.strip(".,?!;:") for t in text.split()) if w]


def align_words(syllables: list[Word], sentence: str) -> list[Word]:
    """Word timings from syllables, or [] when the grouping is ambiguous or too far off.

    Each syllable label spells its own piece of a word (compared by edit distance,
    a syllabic nasal such as ``bm`` as the ``-en`` it stands for), or, a habit of
    the labellers, the rest of the word from its onset on (``heute te``,
    ``ge fahren rn``) at half an edit more, so that a plain reading wins a tie.
    Every word takes at least one syllable.  The least-cost grouping must be
    the only one (checked by a forward and a backward pass), and no word may
    cost more than half its letters.
    """
    words = sentence_words(sentence)
    ends = _word_ends(tuple(_schwa(s.text) for s in syllables), tuple(w.lower() for w in words))
    starts = (0, *ends[:-1])
    return [Word(syllables[b].start, syllables[e - 1].end, w) for w, b, e in zip(words, starts, ends)]


@lru_cache(maxsize=1024)
def _word_ends(texts: tuple[str, ...], lower: tuple[str, ...]) -> tuple[int, ...]:
    """For each word, the number of syllables used up when it ends on the only
    least-cost grouping (see :func:`align_words`); () when there is none.  Many
    utterances share their syllable labels, so groupings are computed once each."""
    n, m = len(texts), len(lower)
    if n < m or not m:
        return ()
    inf = float("inf")

    def steps(i: int, j: int, p: int):
        """(cost, p2) for syllable i spelling word j from position p on; p2 where the next one starts."""
        table, word = _pieces(texts[i], lower[j]), lower[j]
        habit = table[p][len(word)] + _HABIT
        for p2 in range(p + 1, len(word) + 1):
            yield min(table[p][p2], habit), p2

    # state (i, j, p): i syllables used, the next starts at position p of word j; (n, m, 0) is the end
    forward = [[[inf] * len(w) for w in lower] + [[inf]] for _ in range(n + 1)]
    forward[0][0][0] = 0.0
    for i in range(n):
        for j in range(m):
            for p in range(len(lower[j])):
                here = forward[i][j][p]
                if here == inf:
                    continue
                for cost, p2 in steps(i, j, p):
                    nj, np_ = (j + 1, 0) if p2 == len(lower[j]) else (j, p2)
                    if here + cost < forward[i + 1][nj][np_]:
                        forward[i + 1][nj][np_] = here + cost
    total = forward[n][m][0]
    if total == inf:
        return ()
    backward = [[[inf] * len(w) for w in lower] + [[inf]] for _ in range(n + 1)]
    backward[n][m][0] = 0.0
    for i in range(n - 1, -1, -1):
        for j in range(m):
            for p in range(len(lower[j])):
                best = inf
                for cost, p2 in steps(i, j, p):
                    nj, np_ = (j + 1, 0) if p2 == len(lower[j]) else (j, p2)
                    best = min(best, cost + backward[i + 1][nj][np_])
                backward[i][j][p] = best
    # word j ends after syllable i on an optimal path when state (i, j + 1, 0) lies on one
    ends = []
    for j in range(1, m + 1):
        found = [i for i in range(1, n + 1) if forward[i][j][0] + backward[i][j][0] == total]
        if len(found) != 1:
            return ()
        ends.append(found[0])
    spent = 0.0
    for j, (word, end) in enumerate(zip(lower, ends), 1):
        cost = forward[end][j][0] - spent
        if 2 * cost > len(word):
            return ()
        spent += cost
    return tuple(ends)


class EmoDB(LocalCorpus):
    """EmoDB (Burkhardt et al., Interspeech 2005): 535 German acted utterances, 7 emotions, 10 speakers.

    ``alignments=True`` (default) reads the phone and syllable label files into
    ``alignments["phones"]``, ``alignments["syllables"]`` and ``words``; see the
    module docstring for the formats and conventions.
    """

    name = "emodb"
    summary = "EmoDB (Berlin): 535 acted German utterances, 7 emotions, 10 speakers"
    layout_hint = "the EmoDB folder holding wav/"
    # German emotion initials: Wut, Langeweile, Ekel, Angst, Freude, Trauer, Neutral.
    vocabulary = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness",
                  "N": "neutral"}

    def __init__(self, root: str, alignments: bool = True):
        self.root = root
        self.alignments = alignments

    def _load(self, check: Integrity) -> list[Utterance]:
        wav = self._root("wav")
        files = sorted(p for p in wav.iterdir() if p.suffix.lower() == ".wav")
        if not files:
            check.fail(f"no wav files under {wav}; set corpus.params.root to {self.layout_hint}")
        tiers = self._tiers(wav.parent, check) if self.alignments else set()
        out = []
        for path in files:
            match = _NAME.match(path.stem)
            if not match:
                check.problem("wav files not named SSTTTEV", path.name)
                continue
            speaker, text, letter, version = match.groups()
            if letter not in self.vocabulary:
                check.problem("unknown emotion letters", path.name)
                continue
            if speaker not in FEMALE | MALE:
                check.problem("unknown speakers", path.name)
            utt = Utterance(
                id=path.stem, speaker=speaker, path=str(path), corpus=self.name,
                labels={"emotion": self.vocabulary[letter]}, transcript=TEXTS.get(text),
                meta={"gender": "female" if speaker in FEMALE else "male" if speaker in MALE else None,
                      "text": text, "version": version})
            if tiers:  # parsed on first use: a run that needs no timings never reads the label files
                utt.defer_timings(partial(self._align, stem=path.stem, root=wav.parent, tiers=tiers, check=check))
            out.append(utt)
        check.expect(len(out), FULL_SIZE, "utterances")
        return out

    @staticmethod
    def _tiers(root: Path, check: Integrity) -> set[str]:
        """The tiers whose label folders exist; a missing folder is noted once, not per utterance."""
        tiers = set()
        if (root / "lablaut").is_dir():
            tiers.add("phones")
        else:
            check.note("no lablaut/ folder: no phone tiers")
        if (root / "silb").is_dir() or (root / "labsilb").is_dir():
            tiers.add("syllables")
        else:
            check.note("no silb/ or labsilb/ folder: no syllable tiers or word times")
        return tiers

    def _align(self, utt: Utterance, stem: str, root: Path, tiers: set[str], check: Integrity) -> None:
        """The timings of recording ``stem`` (named when listed: ``utt.id`` may have been
        prefixed since, e.g. by a cross-corpus recipe)."""
        phones = self._phones(root, stem, check) if "phones" in tiers else []
        if phones:
            utt.alignments["phones"] = phones
        syllables = self._syllables(root, stem, check) if "syllables" in tiers else []
        if syllables:
            utt.alignments["syllables"] = syllables
            if utt.transcript:
                utt.words = align_words(syllables, utt.transcript)

    @staticmethod
    def _phones(root: Path, stem: str, check: Integrity) -> list[Word]:
        path = root / "lablaut" / f"{stem}xx.lablaut"
        if not path.is_file():
            path = path.with_name(f"{stem}.lablaut")
        if not path.is_file():
            check.problem("utterances without phone labels (lablaut/)", stem)
            return []
        try:
            phones = phone_tier(read_xlabel(path).marks)
            if not phones:
                raise XlabelError("no segments")
            return phones
        except (OSError, XlabelError) as error:
            check.problem("unusable phone label files", _where(path, error))
            return []

    @staticmethod
    def _syllables(root: Path, stem: str, check: Integrity) -> list[Word]:
        errors = []
        for path, read in ((root / "silb" / f"{stem}.silb", lambda p: parse_silb(p.read_text("latin-1"), p.name)),
                           (root / "labsilb" / f"{stem}.labsilb",
                            lambda p: [(m.time, (m.label.split() or [""])[0]) for m in read_xlabel(p).marks])):
            if not path.is_file():
                continue
            try:
                syllables = syllable_tier(read(path))
                if not syllables:
                    raise XlabelError("no segments")
                return syllables
            except (OSError, XlabelError) as error:
                errors.append(_where(path, error))
        if errors:
            check.problem("unusable syllable label files", "; ".join(errors))
        else:
            check.problem("utterances without syllable labels (silb/, labsilb/)", stem)
        return []


def _where(path: Path, error: Exception) -> str:
    """``name: reason`` (parse errors already start with the file name)."""
    return str(error) if str(error).startswith(path.name) else f"{path.name}: {error}"
