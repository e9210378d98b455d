"""Hook implementations: kept light, components are imported inside the hooks."""
from sertk import hookimpl


@hookimpl
def sertk_register_features(register):
    from .components import RMSEnergy

    register(RMSEnergy)


@hookimpl
def sertk_register_models(register):
    from .components import LinearProbe

    register(LinearProbe)
