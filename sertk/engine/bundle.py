"""Model bundles: a finished run's fold models exported as one self-describing folder.

::

    bundle.json                      format version, versions, features, sample rate, segment
                                     policy, heads with label maps, folds, sha256 of every file
    recipe.yaml  data.json           the resolved recipe; heads, input streams and label space
    folds/<fold>/model.pt            a network's state dict (tensors only, weights-only loading)
    folds/<fold>/model.npz           or an estimator's plain arrays (no object arrays)
    folds/<fold>/normalizer.npz      normalisation statistics
    folds/<fold>/model.onnx|.ts      with --format onnx / torchscript

Opening a bundle verifies every checksum first; nothing in it is ever unpickled.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Optional

from ..atomic import write_json, write_text
from ..errors import SertkError
from ..progress import Progress, Silent
from ..registry import Registry
from .layout import RunLayout
from .trained import FoldModels, TrainedRun

FORMAT_VERSION = 1
BUNDLE_FILE = "bundle.json"
FORMATS = ("native", "onnx", "torchscript")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_bundle(folder) -> bool:
    return (Path(folder) / BUNDLE_FILE).is_file()


class Bundle(FoldModels):
    """An exported bundle, opened after checking every file against its sha256; its recipe
    reads and writes features in the default cache (the exporting machine's may not exist)."""

    def __init__(self, folder, registry: Registry, progress: Progress = Silent()):
        folder = Path(folder)
        self.meta = read_manifest(folder)
        verify(folder, self.meta)
        super().__init__(folder, self.meta["folds"], registry, progress)
        self.recipe = dataclasses.replace(self.recipe, data=dataclasses.replace(self.recipe.data, cache_dir=None))


def read_manifest(folder: Path) -> dict:
    path = folder / BUNDLE_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        version, files, folds = meta["format_version"], meta["files"], meta["folds"]
        if not (isinstance(files, dict) and isinstance(folds, list)):
            raise TypeError("files must be a mapping and folds a list")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise SertkError(f"{path}: damaged or not a sertk bundle ({type(exc).__name__}: {str(exc)[:100]}); "
                         f"export the run again") from None
    if version != FORMAT_VERSION:
        raise SertkError(f"{path}: bundle format {version}, this sertk reads format {FORMAT_VERSION}; "
                         f"export the run again with this sertk")
    return meta


def verify(folder: Path, meta: dict) -> None:
    """A one-line error naming the first file that is missing, outside the bundle or changed,
    or a file under ``folds/`` the bundle does not list (nothing unverified is ever loaded)."""
    root = folder.resolve()
    for path in sorted((folder / "folds").rglob("*")):
        if path.is_file() and path.relative_to(folder).as_posix() not in meta["files"]:
            raise SertkError(f"{path}: not part of the exported bundle; remove it or export the run again")
    for name, expected in meta["files"].items():
        path = (folder / name).resolve()
        if root not in path.parents:
            raise SertkError(f"{folder / BUNDLE_FILE}: lists '{name}', outside the bundle; export the run again")
        if not path.is_file():
            raise SertkError(f"{folder / name}: missing from the bundle; export the run again")
        if sha256(path) != expected:
            raise SertkError(f"{folder / name}: checksum mismatch (changed since export); export the run again")


def open_models(path, registry: Registry, progress: Progress = Silent()) -> FoldModels:
    """A bundle (a folder with ``bundle.json``) or a finished run directory."""
    return Bundle(path, registry, progress) if is_bundle(path) else TrainedRun(Path(path), registry, progress)


def export_bundle(run_dir, out: Optional[str], registry: Registry, fmt: str = "native",
                  progress: Progress = Silent()) -> Path:
    """Write the bundle of a finished run to ``out`` (default ``RUN_DIR/bundle``); returns its folder.

    Every fold model is loaded (weights only) and saved again, so only tensors and plain
    arrays enter the bundle.  ``fmt`` ``onnx``/``torchscript`` adds a graph per fold."""
    from .. import __version__
    from .run import save_model

    if fmt not in FORMATS:
        raise SertkError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    run = TrainedRun(Path(run_dir), registry, progress)
    target = Path(out) if out else run.dir / "bundle"
    if target.exists() and any(target.iterdir()):
        raise SertkError(f"{target}: exists and is not empty; pass another --out or remove it")
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    layout = RunLayout(staging)
    with progress.task("Exporting", total=len(run.folds)) as task:
        for fold in run.folds:
            model = run.model(fold)
            save_model(layout, fold, model)
            run.normalizer(fold).save(layout.normalizer(fold))
            if fmt != "native":
                from .graphs import export_graph

                export_graph(model, run.inputs, layout.fold_dir(fold), fmt)
            task.advance()
    shutil.copyfile(run.layout.recipe, layout.recipe)
    saved = run.layout.read_json(run.layout.data)
    write_json(layout.data, {k: saved[k] for k in ("labels", "inputs", "heads")})
    provenance = run.layout.read_json(run.layout.run) if run.layout.run.is_file() else {}
    modes = run.normalizer(run.folds[0]).modes
    files = {p.relative_to(staging).as_posix(): sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()}
    meta = {
        "format_version": FORMAT_VERSION,
        "format": fmt,
        "run": run.dir.name,
        "versions": {"sertk": __version__, "trained_with": provenance.get("versions", {})},
        "features": [{"name": f.name, "params": f.params, "key": f.input_key,
                      "normalize": modes.get(f.input_key, "none")} for f in run.recipe.features],
        "model": run.recipe.model,
        "score": run.score_name,
        "sample_rate": run.sample_rate,
        "segment": dataclasses.asdict(run.recipe.data.segment),
        "heads": [{"name": h.name, "kind": h.kind, "level": h.level, "label_key": h.label_key,
                   "classes": list(h.classes)} for h in run.heads],
        "folds": run.folds,
        "normalizers": {fold: layout.normalizer(fold).relative_to(staging).as_posix() for fold in run.folds},
        "files": files,
    }
    write_text(staging / BUNDLE_FILE, json.dumps(meta, indent=2, default=str) + "\n")
    if target.exists():
        target.rmdir()
    staging.rename(target)
    return target
