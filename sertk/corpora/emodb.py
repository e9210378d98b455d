"""EmoDB, the Berlin Database of Emotional Speech, in its distribution layout.

F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss, "A Database of
German Emotional Speech", Interspeech 2005: 10 actors (5 female, 5 male),
10 sentences, 7 emotions, 535 utterances in ``wav/`` named ``SSTTTEV.wav``
(speaker, text, emotion letter, version).

Besides ``wav/`` the release has the labellers' time alignments (narrow
phonetic transcription, labelled by hand on oscillogram and spectrogram), read
into :attr:`Utterance.alignments` and :attr:`Utterance.words`:

``lablaut/SSTTTEVxx.lablaut`` — phones, in ``xlabel`` format (see
:mod:`sertk.corpora.xlabel`): a header ending at a line ``#``, then
``time color label`` lines, latin-1.  The times are segment *starts* (the
Kiel convention, not the ESPS end-time one): the syllable files' onsets fall on
phone marks (``la`` and ``l`` both at 0.2442 s in 03a01Fa), and the last mark
of every file is ``.``, closing the last phone.  A label is a phone symbol
(German SAMPA as the Kiel corpora extend it: ``?`` glottal stop, ``6`` and
``E6``/``i6``... vocalised r, ``4`` tap, ``R`` uvular trill, ``X`` uvular
fricative, ``V`` labiodental approximant, ``B``/``D``/``G``/``H``/``L`` narrow
allophones) optionally followed, after a tab or spaces, by diacritics
(``+lar`` laryngealised, ``+hoe``, ``+beh`` breathy, ``-sth``/``+sth``
voicing, ``+nas``, ``+:`` lengthened, ``[+eng`` ... ``-eng]`` ranges, and so
on) and a stress digit 1-3.  A plosive is labelled in phases: closure (``t``,
or ``_t`` after a pause), release ``!t`` (a bare ``!`` now and then) and
aspiration ``tasp``.  A mark whose label holds only diacritics (``\\t-lar``)
opens or closes a voice-quality range inside the current phone.  ``(`` and
``(gef`` are pauses.  File names carry ``xx`` after the stem; an empty stray
``14b09Ea.lablaut`` next to ``14b09Eaxx.lablaut`` is not read.
Example (03a01Fa, "Der Lappen ...")::

        0.080109   -1 _t
        0.119160   -1 !t	+asp
        0.144370   -1 E6

``alignments["phones"]``: one :class:`Word` per phone, ``start`` at its mark,
``end`` at the next phone, pause or ``.`` mark.  Normalisation, kept minimal:
the symbol is the label's first token with diacritics and stress digits cut
off (also when glued on, ``I+nas``); a plosive's release and aspiration extend
its closure into one phone named by the closure (``_t !t tasp`` -> ``t``); a
release or aspiration after anything but a closure of the same plosive starts
a phone of its own (``!k`` -> ``k``); doubled consonants (``NN``, ``nn``,
``mm``, ``ss``, ``vv``: lengthening, not a phoneme contrast in German) are
written once; two slips are read as meant (``dsap`` -> ``dasp``, ``gas`` ->
``gasp``, a bare ``hoe`` as the diacritic ``+hoe``).  Tense/lax vowel pairs
(``i``/``I``, ``e``/``E``...), diphthongs and r-diphthongs stay as labelled.
Pauses are left out: a phone recogniser learns phones, and the gap between two
phones shows the pause.  The whole corpus uses about 60 symbols.

``silb/SSTTTEV.silb`` — syllables: ``time<TAB or spaces>syllable`` lines
(latin-1, no header), the time a syllable's onset; ``(`` pauses, ``.`` the
end.  ``labsilb/SSTTTEV.labsilb`` has the same marks in xlabel format plus a
perceived-stress value per syllable (``la<TAB>2.4``) but exists for only 493
utterances and keeps slips that ``silb/`` corrects (``könnte könnte`` for
``könn te``), so ``silb/`` is read and ``labsilb/`` only where ``silb/`` is
missing or empty (13a01Wb).  ``alignments["syllables"]``: one :class:`Word`
per syllable, text lower-cased as most files write it, ending at the next
mark; pauses left out, a mark repeated at the same time read once.

``words``: derived from the syllables only where that is unambiguous: the
syllables are grouped into the sentence's words (:data:`TEXTS`) by the
partition whose concatenations are closest in edit distance to the words;
when the best partition is not unique, or a word's syllables spell it with
more than a third of its letters wrong, ``words`` stays empty for that
utterance.  Reduced syllables are spelled as spoken (``ha bm`` for *haben*),
which is why an exact match cannot be required.  A word spans its first
syllable's onset to its last syllable's end.

Times are as the files give them, in seconds of the original recordings: a
copy whose audio was cut (e.g. to 2.0 s) keeps tiers that run past its end.
A label file that is missing, unreadable or holds no segment is counted in
the report; that utterance keeps its audio and labels without the tier.
"""
from __future__ import annotations

import re
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
_MAX_GROUP = 6                 # syllable tokens one word may take
_HABIT = 0.5                   # extra cost of reading a syllable label as the whole word (``heute te``)


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
    for mark in marks:
        token = phone_token(mark.label)
        if token is None:
            continue                              # diacritic range inside the current phone
        if token == END or token.startswith("("):
            if current:
                out.append(Word(current[0], mark.time, current[1]))
            current = None
            if token == END:
                return out
            continue
        kind, base = _phase(token)
        if kind != "phone" and current and current[1] in PLOSIVES and base in ("", current[1]):
            continue                              # release or aspiration of the open plosive
        if current:
            out.append(Word(current[0], mark.time, current[1]))
        current = (mark.time, base) if base else None
    raise XlabelError("no segments" if not marks else f"no end mark {END!r}")


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
        if token == END:
            return out
        if token and not token.startswith("(") and after > time:
            out.append(Word(time, after, token.lower()))
    if rows and rows[-1][1] == END:
        return out
    raise XlabelError("no segments" if not rows else f"no end mark {END!r}")


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _split_cost(texts: list[str], word: str) -> int:
    """Least summed edit distance of ``texts`` to consecutive non-empty pieces of ``word``, one each."""
    inf = len(word) + sum(map(len, texts)) + 1   # more than any real spelling costs
    cost = [0] + [inf] * len(word)                # cost[p]: the texts so far spell word[:p]
    for text in texts:
        cost = [inf] + [min(cost[q] + _distance(text, word[q:p]) for q in range(p)) for p in range(1, len(word) + 1)]
    return cost[-1]


def _spelling(group: list[Word], word: str) -> float:
    """How far the syllables of ``group`` are from spelling ``word``, syllable by syllable.

    Each syllable is compared with its own piece of the word (so ``t ich`` is
    far from *ich*); or, a habit of the labellers, the first syllable is the
    whole word and the others spell its last syllables (``heute te``), at
    half an edit more, so that a plain reading wins a tie (``es | ge gera de``,
    not ``es ge | gera de``).
    """
    texts = [s.text for s in group]
    cost = _split_cost(texts, word)
    if len(texts) > 1:
        tail = min(_split_cost(texts[1:], word[s:]) for s in range(1, len(word)))
        cost = min(cost, _distance(texts[0], word) + tail + _HABIT)
    return cost


def sentence_words(text: str) -> list[str]:
    """The words of a sentence without punctuation."""
    return [w for w in (t.strip(".,?!;:") for t in text.split()) if w]


def align_words(syllables: list[Word], sentence: str) -> list[Word]:
    """Word timings from syllables, or [] when the grouping is ambiguous or too far off (module docstring)."""
    words = sentence_words(sentence)
    n, m = len(syllables), len(words)
    if n < m or not m:
        return []
    inf = float("inf")
    # best[i][j]: least cost of spelling the first j words with the first i syllables; ways: how many reach it
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    ways = [[0] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    best[0][0], ways[0][0] = 0, 1
    for j in range(1, m + 1):
        target = words[j - 1].lower()
        for i in range(j, n + 1):
            for k in range(max(j - 1, i - _MAX_GROUP), i):
                if best[k][j - 1] == inf:
                    continue
                cost = best[k][j - 1] + _spelling(syllables[k:i], target)
                if cost < best[i][j]:
                    best[i][j], ways[i][j], back[i][j] = cost, ways[k][j - 1], k
                elif cost == best[i][j]:
                    ways[i][j] += ways[k][j - 1]
    if best[n][m] == inf or ways[n][m] != 1:
        return []
    out: list[Word] = []
    i = n
    for j in range(m, 0, -1):
        k = back[i][j]
        group = syllables[k:i]
        if 2 * _spelling(group, words[j - 1].lower()) > len(words[j - 1]):
            return []
        out.append(Word(group[0].start, group[-1].end, words[j - 1]))
        i = k
    return out[::-1]


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
            if self.alignments:
                self._align(utt, wav.parent, check)
            out.append(utt)
        check.expect(len(out), FULL_SIZE, "utterances")
        return out

    def _align(self, utt: Utterance, root: Path, check: Integrity) -> None:
        phones = self._phones(root, utt.id, check)
        if phones:
            utt.alignments["phones"] = phones
        syllables = self._syllables(root, utt.id, check)
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
                            lambda p: [(m.time, m.label.split("\t")[0].strip()) for m in read_xlabel(p).marks])):
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
