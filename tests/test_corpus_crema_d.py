"""CREMA-D loader on a fake AudioWAV tree."""
import pytest

from sertk.corpora.crema_d import CremaD
from sertk.errors import SertkError
from tests.fakes.simple import build_crema_d

NAMES = ["1001_DFA_ANG_XX.wav", "1001_IEO_HAP_HI.wav", "1002_TIE_SAD_LO.wav", "1002_IOM_NEU_XX.wav",
         "1003_WSI_FEA_MD.wav", "1003_ITS_DIS_XX.wav", "1004_DFA_XYZ_XX.wav", "bad.wav"]
DEMOGRAPHICS = ("ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
                "1002,21,Female,Caucasian,Not Hispanic\n")


def test_labels_speakers_and_demographics(tmp_path):
    corpus = CremaD(str(build_crema_d(tmp_path, NAMES, DEMOGRAPHICS)))
    utts = {u.id: u for u in corpus.utterances()}
    assert len(utts) == 6
    assert {u.labels["emotion"] for u in utts.values()} == {"anger", "happiness", "sadness", "neutral", "fear",
                                                            "disgust"}
    angry = utts["1001_DFA_ANG_XX"]
    assert (angry.speaker, angry.transcript, angry.meta["gender"]) == ("1001", "Don't forget a jacket", "male")
    assert utts["1002_TIE_SAD_LO"].meta == {"gender": "female", "sentence": "TIE", "level": "LO"}
    assert utts["1003_WSI_FEA_MD"].meta["gender"] is None
    assert "2 wav files not named AAAA_SSS_EMO_LVL" in corpus.report


def test_level_filter(tmp_path):
    corpus = CremaD(str(build_crema_d(tmp_path, NAMES)), levels=["HI", "MD"])
    assert sorted(u.id for u in corpus.utterances()) == ["1001_IEO_HAP_HI", "1003_WSI_FEA_MD"]
    assert "3 XX-level clips" in corpus.report
    with pytest.raises(ValueError, match="levels"):
        CremaD(str(tmp_path), levels=["high"])


def test_missing_audio_folder(tmp_path):
    with pytest.raises(SertkError, match="crema_d: AudioWAV/ under .* is not a folder"):
        CremaD(str(tmp_path)).utterances()
