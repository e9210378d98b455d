"""Every built-in corpus registers and its recipe params pass the registry's type checks."""
import pytest

from sertk.errors import ConfigError
from sertk.interfaces import Corpus
from sertk.registry import Registry, check_params
from tests.fakes.builtins import builtin_classes

CORPORA = builtin_classes("corpora")

TYPICAL = {
    "synthetic": {"n_speakers": 3, "classes": ["anger", "sadness"], "cache_dir": None},
    "synthetic_continuous": {"n_speakers": 3, "min_seconds": 2, "lag_s": 0.5, "cache_dir": None},
    "manifest": {"root": "x.csv", "dimensions": ["arousal"], "vocabulary": {"angry": "anger"}},
    "transcribed_manifest": {"root": "x.csv", "text_column": "sentence"},
    "emodb": {"root": "/data/emodb"},
    "iemocap": {"root": "/d", "classes": "6class_zhao", "agreement": "all", "improvised_only": True,
                "merge_excitement": False, "dimensions_from": "E2", "sessions": [1, 2]},
    "ravdess": {"root": "/d", "channel": "song", "intensity": "strong"},
    "crema_d": {"root": "/d", "levels": ["HI"]},
    "emovo": {"root": "/d"},
    "msp_podcast": {"root": "/d", "splits": ["Train"], "keep_no_agreement": True},
    "recola": {"root": "/d", "partitions": ["train"], "delay_s": 4},
    "sewa": {"root": "/d", "audio": "a/{id}.wav", "transcriptions": None, "dimensions": ["arousal"]},
    "librispeech": {"root": "/d", "subsets": ["dev-clean"]},
    "mediaeval": {"root": "/d", "sets": ["development"], "rate": 1.0},
}


def test_all_register_with_names_and_summaries():
    registry = Registry()
    for cls in CORPORA:
        registry.add("corpora", cls, "sertk")
        assert issubclass(cls, Corpus) and cls.summary
    assert registry.names("corpora") == sorted(TYPICAL)


@pytest.mark.parametrize("cls", CORPORA, ids=lambda c: c.name)
def test_typical_params_type_check_and_construct(cls):
    check_params(cls, TYPICAL[cls.name], "corpus.params")
    cls(**TYPICAL[cls.name])


def test_wrong_types_are_rejected():
    iemocap = next(c for c in CORPORA if c.name == "iemocap")
    with pytest.raises(ConfigError, match="corpus.params.agreement: expected one of 'majority', 'two', 'all'"):
        check_params(iemocap, {"root": "/d", "agreement": "three"}, "corpus.params")
    with pytest.raises(ConfigError, match="corpus.params.root: required parameter of emodb is missing"):
        check_params(next(c for c in CORPORA if c.name == "emodb"), {}, "corpus.params")
