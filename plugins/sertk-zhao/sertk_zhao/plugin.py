"""Entry point of the sertk-zhao plugin: registers the two CNN-LSTM models.

The torch modules are imported inside the hook so that discovering the
plugin (``sertk list``) stays cheap.
"""
from sertk import hookimpl


@hookimpl
def sertk_register_models(register):
    from .models import CNN1DLSTM, CNN2DLSTM

    register(CNN1DLSTM)
    register(CNN2DLSTM)
