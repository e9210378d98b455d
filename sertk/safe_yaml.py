"""YAML for recipes: safe tags only, YAML 1.2 floats (``1e-3`` is a number), and
bounds on size and alias expansion so that a small file cannot exhaust memory."""
from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import SertkError

MAX_BYTES = 1_000_000
MAX_NODES = 200_000

_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X)


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` reading ``1e-3`` as a float, as YAML 1.2 does."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document once every alias is expanded (shared nodes counted at each use)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
        if children_done:
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def load_yaml(text: str, where: str) -> Any:
    """Parse recipe YAML from ``where`` (a file name or ``--set KEY``) within the bounds."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise SertkError(f"{where}: {len(text) // 1000} kB is more than a recipe can be "
                         f"({MAX_BYTES // 1_000_000} MB); keep data in files the recipe names")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            raise SertkError(f"{where}: its aliases expand to more than {MAX_NODES} values; write the values out "
                             f"or use fewer nested aliases")
        return loader.construct_document(node)
    finally:
        loader.dispose()
