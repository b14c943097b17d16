"""The package's folders are its layers: no module imports a layer above its own.

Every ``import``/``from ... import`` of reglab (at module level or inside a
function, relative or absolute) is read with :mod:`ast` and resolved to the
subpackage it reaches; each layer may reach only the layers listed for it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "reglab"

# What each layer may import (besides itself). The top-level shared modules are
# ``_validation`` (everyone) and ``io`` (model files, built on ``nn``).
ALLOWED = {
    "_validation": set(),
    "nn": {"_validation"},
    "data": {"_validation"},
    "io": {"_validation", "nn"},
    "training": {"_validation", "nn", "data"},
    "gradcheck": {"_validation", "nn"},
    "experiments": {"_validation", "nn", "data", "training", "io"},
    "report": {"_validation", "nn", "data", "training", "experiments", "io"},
    "cli": {"_validation", "nn", "data", "training", "gradcheck", "experiments", "report", "io",
            "playground"},
    "playground": {"_validation", "nn", "data", "training", "gradcheck", "experiments", "io"},
    "estimator": {"_validation", "nn", "data", "training", "io"},
    "__init__": {"_validation", "nn", "data", "training", "gradcheck", "experiments", "io", "estimator"},
    "__main__": {"cli"},
}


def layer_of(parts: tuple[str, ...]) -> str:
    """``("nn", "network")`` -> ``"nn"``; ``("io",)`` -> ``"io"``."""
    return parts[0]


def reglab_imports(path: Path, source: str | None = None) -> list[tuple[int, tuple[str, ...]]]:
    """``(line, module path below reglab)`` for every reglab import of the module at
    ``path`` (its text read from the file unless ``source`` is given)."""
    package = path.relative_to(PACKAGE).with_suffix("").parts[:-1]
    found = []
    source = path.read_text() if source is None else source
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + tuple(node.module.split(".")) if node.module else base
            elif node.module and node.module.split(".")[0] == "reglab":
                target = tuple(node.module.split(".")[1:])
            else:
                continue
            if not target:  # ``from . import x`` at the top: x names the layer
                found += [(node.lineno, (alias.name,)) for alias in node.names]
            else:
                found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "reglab" and len(parts) > 1:
                    found.append((node.lineno, tuple(parts[1:])))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_top_level_holds_at_most_eight_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    assert set(top) == {"__init__.py", "__main__.py", "_validation.py", "io.py", "estimator.py"}


def test_every_subpackage_says_what_it_holds_and_may_import():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc, f"{init.parent.name}/__init__.py has no docstring"
        assert "import" in doc, f"{init.parent.name}/__init__.py does not say what it may import"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_reaches_a_higher_layer(path):
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    layer = layer_of(parts)
    allowed = ALLOWED[layer] | {layer}
    bad = [(line, ".".join(target)) for line, target in reglab_imports(path)
           if layer_of(target) not in allowed]
    assert not bad, f"{path.relative_to(PACKAGE)} (layer {layer}) imports above its layer: {bad}"


def test_nothing_imports_the_edge():
    """The CLI is imported by nothing; the estimator only by ``reglab/__init__.py``."""
    for path in MODULES:
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        targets = {target[0] for _, target in reglab_imports(path)}
        if parts[0] not in ("cli", "__main__"):
            assert "cli" not in targets, path
        if parts[0] not in ("estimator", "__init__"):
            assert "estimator" not in targets, path


def test_the_checker_sees_upward_imports():
    """The rule is live: imports planted in an ``nn`` module are resolved and refused."""
    planted = PACKAGE / "nn" / "planted.py"  # never written: its text is passed in
    source = ("from ..experiments.compare import compare\n"
              "def f():\n    import reglab.cli.main\n"
              "from .. import report\n"
              "from .activations import relu\n")
    found = reglab_imports(planted, source)
    assert sorted(found) == [(1, ("experiments", "compare")), (3, ("cli", "main")),
                             (4, ("report",)), (5, ("nn", "activations"))]
    refused = [t for _, t in found if layer_of(t) not in ALLOWED["nn"] | {"nn"}]
    assert sorted(refused) == [("cli", "main"), ("experiments", "compare"), ("report",)]


def test_readme_module_references_resolve():
    """Every ``reglab.x.y`` the README names (the API notes, the course-to-reglab
    table) is a real module or attribute at that path."""
    import importlib
    import re

    readme = (PACKAGE.parents[1] / "README.md").read_text()
    names = sorted(set(re.findall(r"`(reglab(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", readme)))
    assert len(names) > 20
    unresolved = []
    for name in names:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                unresolved.append(name)
            break
        else:
            unresolved.append(name)
    assert not unresolved, unresolved
