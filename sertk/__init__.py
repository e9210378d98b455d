"""sertk — a plugin-based toolkit for speech emotion recognition."""
from .hookspecs import hookimpl
from .interfaces import (Analyzer, Component, Contour, Corpus, Feature, FeatureInfo, Fold, Head, LabelSpace, Loss,
                         Metric, Protocol, Utterance, Word)

__version__ = "0.1.0"

_TORCH_NAMES = ("Model", "EstimatorModel", "Batch")


def __getattr__(name):
    """Torch-based interfaces load on first use so that importing sertk stays light."""
    if name in _TORCH_NAMES:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'sertk' has no attribute {name!r}")


__all__ = ["hookimpl", "Analyzer", "Component", "Contour", "Corpus", "Feature", "FeatureInfo", "Fold", "Head",
           "LabelSpace", "Loss", "Metric", "Protocol", "Utterance", "Word", *_TORCH_NAMES, "__version__"]
