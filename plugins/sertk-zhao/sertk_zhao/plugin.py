"""Entry point of the sertk-zhao plugin: registers the two CNN-LSTM models.

They are registered as lazy ``"module:Class"`` references, so that discovering
the plugin (``sertk list``, ``sertk show``) does not import torch; each class
is imported on first use.
"""
from sertk import hookimpl


@hookimpl
def sertk_register_models(register):
    register("sertk_zhao.models:CNN1DLSTM", name="cnn1d_lstm")
    register("sertk_zhao.models:CNN2DLSTM", name="cnn2d_lstm")
