"""Import walls between the core, the terminal and the plugins, checked on the source (``ast``, nothing imported).

* the core never imports a plugin package (a top-level module ``sertk_*``);
* plugin packages never import each other;
* plugin packages use only the public plugin API: ``sertk`` itself, ``sertk.nn``, ``sertk.sequences`` and ``sertk.signals``;
* only the CLI and the terminal know the terminal: ``sertk/terminal.py`` is imported by ``sertk/cli/``
  alone, and ``click`` / ``rich`` are imported only by those two modules;
* the interfaces, engine, built-ins, data pipeline and corpora never import ``sertk.cli``.

Plus: every name in ``sertk.__all__`` resolves.
"""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

import sertk

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "sertk"
PUBLIC_MODULES = {"sertk", "sertk.nn", "sertk.sequences", "sertk.signals"}
TERMINAL_LIBRARIES = {"click", "rich"}
TERMINAL_MODULES = {"sertk.cli", "sertk.terminal"}
# Core parts that must work without the command line.
NO_CLI = ("sertk/interfaces.py", "sertk/engine/", "sertk/builtins/", "sertk/data/", "sertk/corpora/")


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    target: str  # the absolute dotted module the statement reaches
    source: str  # the statement as written

    def __str__(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}: {self.source}"


def module_name(path: Path, package_root: Path) -> tuple[str, bool]:
    """Dotted name of ``path`` under the directory holding its top-level package, and whether it is a package."""
    parts = list(path.relative_to(package_root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _resolve(module: str | None, level: int, name: str, is_package: bool) -> str:
    """The absolute module of ``from <level dots><module> import ...`` inside module ``name``."""
    if not level:
        return module or ""
    base = name.split(".") if is_package else name.split(".")[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def _is_module(dotted: str, package_root: Path) -> bool:
    """Whether ``dotted`` names a module or package under ``package_root``, in sertk or in a plugin."""
    parts = dotted.split(".")
    for base in [package_root, ROOT, *PLUGIN_ROOTS]:
        path = base.joinpath(*parts)
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
    return False


def imports(path: Path, package_root: Path) -> list[Import]:
    """Every module the file imports: ``import a.b``, ``from a import b`` (``a.b`` when ``b`` is a module),
    relative forms resolved, and ``importlib.import_module("a.b")`` / ``__import__("a.b")`` with a literal."""
    name, is_package = module_name(path, package_root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(path, node.lineno, alias.name, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, name, is_package)
            written = f"from {'.' * node.level}{node.module or ''} import "
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                target = sub if alias.name != "*" and _is_module(sub, package_root) else base
                found.append(Import(path, node.lineno, target, written + alias.name))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                target = node.args[0].value
                if target.startswith(".") and len(node.args) > 1:
                    continue  # relative to a computed package: not resolvable here
                found.append(Import(path, node.lineno, target, f"{called}({target!r})"))
    return found


def reaches(imp: Import, module: str) -> bool:
    return imp.target == module or imp.target.startswith(module + ".")


def top(imp: Import) -> str:
    return imp.target.split(".")[0]


# ----------------------------------------------------------------- the trees
PLUGIN_ROOTS = sorted({p.parent.parent for p in ROOT.glob("plugins/*/sertk_*/__init__.py")}
                      | {p.parent.parent for p in ROOT.glob("tests/example_plugin/sertk_*/__init__.py")})
PLUGIN_PACKAGES = {p.parent.name: p.parent for root in PLUGIN_ROOTS for p in root.glob("sertk_*/__init__.py")}


def core_imports() -> list[Import]:
    return [imp for path in sorted(CORE.rglob("*.py")) for imp in imports(path, ROOT)]


def plugin_imports(package: str) -> list[Import]:
    directory = PLUGIN_PACKAGES[package]
    return [imp for path in sorted(directory.rglob("*.py")) for imp in imports(path, directory.parent)]


def fail_with(offending: list[Import], rule: str) -> None:
    assert not offending, rule + ":\n  " + "\n  ".join(map(str, offending))


def test_the_trees_are_found():
    assert len(list(CORE.rglob("*.py"))) > 20
    assert {"sertk_wieser", "sertk_zhao"} <= set(PLUGIN_PACKAGES)
    # the resolver itself: relative imports land where Python puts them
    assert _resolve("terminal", 1, "sertk.cli", False) == "sertk.terminal"
    assert _resolve("terminal", 2, "sertk.engine.run", False) == "sertk.terminal"
    assert _resolve(None, 2, "sertk.engine", True) == "sertk"
    assert _resolve("nn", 1, "sertk", True) == "sertk.nn"


def test_every_import_form_is_seen(tmp_path):
    plugin = tmp_path / "sertk_fake"
    plugin.mkdir()
    (plugin / "__init__.py").write_text("")
    (plugin / "other.py").write_text("")
    (plugin / "m.py").write_text(
        "import sertk.model\nfrom sertk.engine.trained import TrainedRun\nfrom sertk import engine, Model\n"
        "from sertk.nn import input_of\nimport sertk.sequences as seq\nfrom . import other\n"
        "def f():\n    import importlib\n    return importlib.import_module('sertk.recipe')\n")
    targets = [i.target for i in imports(plugin / "m.py", tmp_path)]
    assert targets == ["sertk.model", "sertk.engine.trained", "sertk.engine", "sertk", "sertk.nn",
                       "sertk.sequences", "sertk_fake.other", "importlib", "sertk.recipe"]
    core = tmp_path / "sertk" / "engine"
    core.mkdir(parents=True)
    (core / "x.py").write_text("from ..terminal import out\nfrom .. import cli\nfrom rich.table import Table\n")
    assert [i.target for i in imports(core / "x.py", tmp_path)] == ["sertk.terminal", "sertk.cli", "rich.table"]


# ----------------------------------------------------------------- (a) core → plugins
def test_core_imports_no_plugin_package():
    fail_with([i for i in core_imports() if top(i).startswith("sertk_")],
              "the core must not import plugin packages (sertk_*); let the plugin register through its hooks")


# ----------------------------------------------------------------- (b) plugin → plugin
@pytest.mark.parametrize("package", sorted(PLUGIN_PACKAGES))
def test_plugin_imports_no_other_plugin(package):
    fail_with([i for i in plugin_imports(package) if top(i).startswith("sertk_") and top(i) != package],
              f"plugin package {package} must not import another plugin package")


# ----------------------------------------------------------------- (c) plugin → public API only
@pytest.mark.parametrize("package", sorted(PLUGIN_PACKAGES))
def test_plugin_imports_only_the_public_api(package):
    private = [i for i in plugin_imports(package) if top(i) == "sertk" and i.target not in PUBLIC_MODULES]
    fail_with(private, f"plugin package {package} may import from sertk only {sorted(PUBLIC_MODULES)} "
                       f"(see docs/plugins.md, 'Public API')")


# ----------------------------------------------------------------- (d) the terminal
def test_only_the_cli_imports_the_terminal_module():
    fail_with([i for i in core_imports() if reaches(i, "sertk.terminal") and module_of(i).split(".")[:2] != ["sertk", "cli"]],
              "only sertk/cli/ may import sertk/terminal.py")


def test_only_the_cli_and_terminal_import_click_or_rich():
    fail_with([i for i in core_imports() if top(i) in TERMINAL_LIBRARIES and module_of(i) not in TERMINAL_MODULES and not module_of(i).startswith("sertk.cli.")],
              f"only {sorted(TERMINAL_MODULES)} may import {sorted(TERMINAL_LIBRARIES)}; "
              f"report through sertk.progress instead")


def test_plugins_do_not_import_click_or_rich():
    fail_with([i for p in sorted(PLUGIN_PACKAGES) for i in plugin_imports(p) if top(i) in TERMINAL_LIBRARIES],
              "plugins must not draw on the terminal")


def module_of(imp: Import) -> str:
    return module_name(imp.file, ROOT)[0]


# ----------------------------------------------------------------- (e) no CLI below it
def test_library_parts_do_not_import_the_cli():
    below = [i for i in core_imports()
             if str(i.file.relative_to(ROOT)).startswith(NO_CLI) and reaches(i, "sertk.cli")]
    fail_with(below, "the interfaces, engine, built-ins, data and corpora must not import sertk.cli")


# ----------------------------------------------------------------- the public names
@pytest.mark.parametrize("name", sorted(sertk.__all__))
def test_every_public_name_resolves(name):
    assert getattr(sertk, name) is not None


def test_public_helper_modules_import():
    for module in sorted(PUBLIC_MODULES):
        importlib.import_module(module)
