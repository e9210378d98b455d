"""MediaEval 2013 Emotion in Music (emoMusic "1000 songs") loader on a generated tree in the
distribution's layout: clips_45seconds/<id>.mp3 and the annotation CSVs."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sertk.audio import load_audio
from sertk.corpora.mediaeval import MediaEval
from sertk.errors import SertkError
from tests.fakes import write_text

INFO_HEADER = ("song_id,file_name,Artist,Song title,start of the segment (min.sec),end of the segment (min.sec),"
               "Genre,Mediaeval 2013 set")
SONGS = {  # id: (artist, set)
    2: ("Artist A", "development"),
    3: ("Artist B", "development"),
    5: ("Artist A", "evaluation"),
    7: ("Artist C", "development"),   # no excerpt
    9: ("Artist D", "evaluation"),    # no valence row
}
TIMES_MS = [15000 + 500 * k for k in range(8)]


def contour(song: int, dim: str) -> np.ndarray:
    return np.round(np.sin(np.arange(len(TIMES_MS)) / 2 + song + (dim == "valence")) * 0.4, 6)


def build_tree(root: Path, annotations: str = "annotations") -> Path:
    """The emoMusic layout: 45-s excerpts (here 2 s of tone, mp3 at 44.1 kHz) and the annotation files."""
    t = np.arange(2 * 44100) / 44100
    for song in SONGS:
        if song != 7:
            path = root / "clips_45seconds" / f"{song}.mp3"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, (0.3 * np.sin(2 * np.pi * (200 + 20 * song) * t)).astype(np.float32), 44100)
    ann = root / annotations if annotations else root
    rows = [INFO_HEADER] + [f"{s},{s}.mp3,\t{a} ,Song {s},1.30,2.15,Rock,{part}" for s, (a, part) in SONGS.items()]
    rows.append(",,,,,,,")  # an empty trailing row, as spreadsheets leave
    write_text(ann / "songs_info.csv", "\n".join(rows) + "\n")
    static = ["song_id, mean_arousal, std_arousal, mean_valence, std_valence"]
    static += [f"{s}, {3 + s / 10:.1f}, 1.2, {6 - s / 10:.1f}, 0.9" for s in SONGS if s != 3]
    write_text(ann / "static_annotations.csv", "\n".join(static) + "\n")
    header = "song_id," + ",".join(f"sample_{ms}ms" for ms in TIMES_MS)
    for dim in ("arousal", "valence"):
        lines = [header]
        for song in SONGS:
            if dim == "valence" and song == 9:
                continue
            values = [f"{v:.6f}" for v in contour(song, dim)]
            if song == 3 and dim == "arousal":
                values[-1] = ""  # a missing last rating
            lines.append(f"{song}," + ",".join(values))
        write_text(ann / f"{dim}_cont_average.csv", "\n".join(lines) + "\n")
        write_text(ann / f"{dim}_cont_std.csv", "\n".join([header] + [f"{s}," + ",".join(["0.1"] * len(TIMES_MS))
                                                                     for s in SONGS]) + "\n")
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return build_tree(tmp_path_factory.mktemp("emomusic"))


def test_songs_contours_partitions_and_static_labels(tree):
    corpus = MediaEval(str(tree))
    utts = {u.id: u for u in corpus.utterances()}
    assert sorted(utts) == ["2", "3", "5"]
    song = utts["2"]
    assert (song.speaker, song.partition, song.corpus) == ("Artist A", "development", "mediaeval")
    assert utts["5"].partition == "evaluation" and utts["5"].speaker == "Artist A"
    np.testing.assert_allclose(song.contours["arousal"].times, np.array(TIMES_MS) / 1000)
    np.testing.assert_allclose(song.contours["valence"].values, contour(2, "valence"), atol=1e-6)
    assert song.labels == {"arousal": pytest.approx(3.2), "valence": pytest.approx(5.8)}
    assert song.meta["arousal_std"] == 1.2 and song.meta["title"] == "Song 2"
    # a missing rating is left out, not read as 0; a song without static ratings keeps its contours
    assert len(utts["3"].contours["arousal"].times) == 7 and utts["3"].labels == {}
    np.testing.assert_allclose(utts["3"].contours["arousal"].values, contour(3, "arousal")[:7], atol=1e-6)
    signal, rate = load_audio(song.path, 16000)
    assert rate == 16000 and abs(len(signal) / rate - 2.0) < 0.1


def test_report_counts_what_is_missing(tree):
    report = MediaEval(str(tree)).report
    assert "mediaeval: 3 utterances, 2 speakers" in report
    assert "songs without an excerpt in clips_45seconds/ (first: 7.mp3)" in report
    assert "songs without continuous arousal and valence (first: 9)" in report
    assert "found 3 development songs where the full corpus has 619" in report
    assert "found 2 evaluation songs where the full corpus has 125" in report


def test_sets_and_rate_options(tree):
    dev = MediaEval(str(tree), sets=["development"])
    assert [u.id for u in dev.utterances()] == ["2", "3"]
    assert "left out: 2 evaluation songs" in dev.report
    one_hz = {u.id: u for u in MediaEval(str(tree), rate=1.0).utterances()}["2"].contours["arousal"]
    np.testing.assert_allclose(one_hz.times, [15.25, 16.25, 17.25, 18.25])
    np.testing.assert_allclose(one_hz.values, contour(2, "arousal").reshape(4, 2).mean(1), atol=1e-6)
    with pytest.raises(ValueError, match="sets must be among"):
        MediaEval(str(tree), sets=["test"])
    with pytest.raises(ValueError, match="rate must be"):
        MediaEval(str(tree), rate=0)


def test_annotations_directly_under_the_root(tmp_path):
    build_tree(tmp_path, annotations="")
    assert sorted(u.id for u in MediaEval(str(tmp_path)).utterances()) == ["2", "3", "5"]


def test_missing_layout(tmp_path):
    with pytest.raises(SertkError, match="mediaeval: clips_45seconds/ under .* is not a folder"):
        MediaEval(str(tmp_path)).utterances()
    (tmp_path / "clips_45seconds").mkdir()
    with pytest.raises(SertkError, match="no songs_info.csv under"):
        MediaEval(str(tmp_path)).utterances()
