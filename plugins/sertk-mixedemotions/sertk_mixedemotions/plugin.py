"""Entry point of the sertk-mixedemotions plugin: registers its features, models, strategy and analyzers.

The modules are imported inside the hooks so that discovering the plugin
(``sertk list``) imports neither torch nor opensmile.
"""
from sertk import hookimpl


@hookimpl
def sertk_register_features(register):
    from .features import COMPONENTS

    for cls in COMPONENTS:
        register(cls)
    from .corruption import CorruptedMFCC

    register(CorruptedMFCC)


@hookimpl
def sertk_register_models(register):
    from .logistic import LogisticRegression

    register(LogisticRegression)
    from .drnn import FrameLinear, LSTMDRNN
    from .e2e import EndToEnd

    for cls in (EndToEnd, LSTMDRNN, FrameLinear):
        register(cls)
    from .rda import RDABackend

    register(RDABackend)
    from .transfer import MappedMLP

    register(MappedMLP)


@hookimpl
def sertk_register_strategies(register):
    from .svr import SVRGrid

    register(SVRGrid)
    from .enhancement import RDAEnhance

    register(RDAEnhance)
    from .cooperative import CooperativeLearning

    register(CooperativeLearning)
    from .transfer import CCAAlign, SAETransfer

    register(CCAAlign)
    register(SAETransfer)


@hookimpl
def sertk_register_analyzers(register):
    from .curves import CooperativeCurves

    register(CooperativeCurves)
    from .cells import CellCorrelation
    from .postprocess import PostProcess

    register(PostProcess)
    register(CellCorrelation)
