"""A new run directory and the provenance written into it before any work."""
from __future__ import annotations

import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import yaml

from ..atomic import write_json, write_text
from .layout import RunLayout

def create_run_dir(base: str, name: Optional[str], stem: str) -> Path:
    """A fresh folder ``base/name`` (``stem-YYYYmmdd-HHMMSS`` by default), never an existing one."""
    root = Path(base)
    candidate = root / (name or f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, n = candidate, 1
    while path.exists():
        n += 1
        path = candidate.with_name(f"{candidate.name}-{n}")
    path.mkdir(parents=True)
    return path


def git_commit(folder: Path) -> Optional[str]:
    """The commit of the git checkout holding ``folder``, if any."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_provenance(layout: RunLayout, resolved_recipe: dict, source: str, plugins, seed: int) -> None:
    """The resolved recipe, package and plugin versions, git commit and seed."""
    from importlib.metadata import version

    from .. import __version__

    write_text(layout.recipe, yaml.safe_dump(resolved_recipe, sort_keys=False))
    write_json(layout.run, {
        "recipe": source,
        "seed": seed,
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "git_commit": git_commit(Path(source).resolve().parent if source else Path.cwd()),
        "versions": {"sertk": __version__, "python": platform.python_version(), "torch": version("torch"),
                     "plugins": {p.name: p.version for p in plugins}},
    })
