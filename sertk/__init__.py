"""sertk — a plugin-based toolkit for speech emotion recognition.

The public plugin API is what this module exports plus :mod:`sertk.nn` (torch
building blocks), :mod:`sertk.sequences` and :mod:`sertk.signals` (signal
helpers).  Plugins import nothing else from sertk.
"""
from .atomic import atomic_path, safe_name, write_csv, write_json, write_text
from .errors import ConfigError, SertkError
from .figures import pyplot, save_figure
from .hookspecs import hookimpl
from .interfaces import (BLANK, TRANSCRIPT, Analyzer, Augmentation, Component, Contour, Corpus, Feature, FeatureInfo,
                         Fold, Head, LabelSpace, Loss, Metric, Protocol, SegmentContext, Strategy, Utterance, Word)

__version__ = "0.1.0"

_LAZY = {"Model": "model", "EstimatorModel": "estimator", "Batch": "model", "TrainedRun": "engine.trained",
         "FitSession": "engine.session", "Part": "engine.session", "load_audio": "audio", "write_audio": "audio"}


def __getattr__(name):
    """Names that need torch or numpy load on first use, so that importing sertk (and
    ``sertk list``) stays light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'sertk' has no attribute {name!r}")


__all__ = ["hookimpl", "Analyzer", "Augmentation", "BLANK", "Component", "ConfigError", "Contour", "Corpus", "Feature",
           "FeatureInfo", "Fold", "Head", "LabelSpace", "Loss", "Metric", "Protocol", "SegmentContext", "SertkError",
           "Strategy", "TRANSCRIPT", "Utterance", "Word", "atomic_path", "load_audio", "pyplot", "safe_name",
           "save_figure", "write_audio", "write_csv", "write_json", "write_text", *_LAZY, "__version__"]
