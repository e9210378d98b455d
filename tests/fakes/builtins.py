"""The built-in component classes of one kind, imported through the built-in plugin's table."""
from sertk.builtins.plugin import BUILTINS
from sertk.registry import Registry


def builtin_classes(kind: str) -> list[type]:
    """Each class in the table, checked like a plugin's lazy reference (its ``name`` must match)."""
    registry = Registry()
    for name, target in BUILTINS[kind].items():
        registry.add(kind, target, "sertk", name=name)
    return [registry.get(kind, name) for name in BUILTINS[kind]]
