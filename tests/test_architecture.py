"""The walls of the package: who may read what."""

from __future__ import annotations

import ast
from pathlib import Path

import salesflow as sf

SRC = Path(sf.__file__).parent

#: The model: the only modules that may read a Deal's or a Pipeline's private fields.
MODEL = {"_deal.py", "_pipeline.py"}


def _private_names(cls: type) -> set[str]:
    # _repr_html_ and the like are protocols, not private fields.
    names = {n for n in dir(cls) if n.startswith("_") and not n.endswith("_")}
    return names | {n for n in getattr(cls, "__slots__", ()) if n.startswith("_")}


def _private_reads(source: str, private: set[str]) -> list[tuple[int, str]]:
    """(line, name) of every read of a name in *private* on something other than self/cls."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or node.attr not in private:
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in {"self", "cls"}:
            continue  # another class's own private field of the same name
        found.append((node.lineno, node.attr))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).as_posix() not in MODEL)


class TestModelInterface:
    def test_model_privates_are_known(self) -> None:
        """The scan below looks for the model's real private names (the list is not empty)."""
        private = _private_names(sf.Deal) | _private_names(sf.Pipeline)
        assert {"_stages", "_times", "_meta", "_info", "_by_key", "_next", "_free"} <= private

    def test_no_module_outside_the_model_reads_a_private_field(self) -> None:
        """Outside _deal.py and _pipeline.py, nothing reads deal._x or pipeline._x."""
        private = _private_names(sf.Deal) | _private_names(sf.Pipeline)
        found = [
            f"{path.relative_to(SRC)}:{line}: .{name}"
            for path in _modules()
            for line, name in _private_reads(path.read_text(encoding="utf-8"), private)
        ]
        assert found == []

    def test_the_scan_would_catch_a_reader(self) -> None:
        """The scan flags deal._stages but not a class's own self._stages (so an empty result means something)."""
        private = _private_names(sf.Deal)
        source = "keys = deal._stages\nclass X:\n    def f(self):\n        return self._stages\n"
        assert _private_reads(source, private) == [(1, "_stages")]


#: The io modules every loader may share; the others are loaders (or writers).
# _arrow: its reader and checks are shared by the Arrow lane and the EventTable lane.
IO_SHARED = {"_common", "_cells", "_intake", "_tables", "_event_rows", "_arrow"}


class TestLoaders:
    def test_no_loader_imports_another_loaders_privates(self) -> None:
        """An io module imports private names only from io's shared pieces."""
        found = []
        for path in sorted((SRC / "io").glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom) or node.level != 1:
                    continue
                if node.module in IO_SHARED or node.module is None:
                    continue
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private:
                    found.append(f"io/{path.name}:{node.lineno}: {node.module} {private}")
        assert found == []

    def test_loaders_build_deals_only_through_the_intake(self) -> None:
        """Only io/_intake.py calls the model's trusted constructor."""
        callers = {
            path.name
            for path in (SRC / "io").glob("*.py")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Name) and node.id == "assemble"
        }
        assert callers == {"_intake.py"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _private_metrics_imports(tree: ast.Module) -> list[str]:
    """Imports of ``salesflow.metrics._x`` (or of a private name of metrics) by a top-level module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A top-level module's ".metrics._x" is "salesflow.metrics._x".
            base = "salesflow." if node.level == 1 else ""
            module = base + (node.module or "")
            modules = [module] + [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        private = [
            module
            for module in modules
            if module.split(".")[:2] == ["salesflow", "metrics"]
            and any(part.startswith("_") for part in module.split(".")[2:])
        ]
        if private:
            found.append(f"{node.lineno}: {private[0]}")
    return found


def _lazy_frames_imports(tree: ast.Module) -> list[str]:
    """Imports of the ``_frames`` module made inside a function (a call back into a hub)."""
    return [
        f"{node.lineno}: {func.name}"
        for func in ast.walk(tree)
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(func)
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_frames")
    ]


class TestLayers:
    def test_the_top_level_uses_only_public_metrics(self) -> None:
        """No module directly under salesflow/ imports a private metrics module or name."""
        # salesflow.dask is the metrics' distributed face: it runs the report's
        # accumulators per partition and merges their states, so it is of the metrics layer.
        found = [
            f"{path.name}:{hit}"
            for path in sorted(SRC.glob("*.py"))
            if path.name != "dask.py"
            for hit in _private_metrics_imports(_tree(path))
        ]
        assert found == []

    def test_the_metrics_scan_would_catch_an_import(self) -> None:
        """Both spellings of a private metrics import are flagged."""
        tree = ast.parse(
            "from .metrics._summary import stamp\n"
            "from .metrics import _EPOCH\n"
            "import salesflow.metrics._rate\n"
            "from .metrics import Report\n"
        )
        assert len(_private_metrics_imports(tree)) == 3

    def test_results_build_their_own_frames(self) -> None:
        """No module imports _frames inside a function: results own their to_frame()."""
        found = [
            f"{path.relative_to(SRC)}:{hit}"
            for path in sorted(SRC.rglob("*.py"))
            for hit in _lazy_frames_imports(_tree(path))
        ]
        assert found == []
        assert _lazy_frames_imports(ast.parse("def f():\n    from .._frames import rate_frame\n"))

    def test_the_frames_layer_knows_no_result(self) -> None:
        """_frames.py (the column helpers) imports nothing from metrics."""
        tree = _tree(SRC / "_frames.py")
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert modules
        assert not any("metrics" in (m or "") or "report" in (m or "") for m in modules)

    def test_the_cli_maps_formats_to_functions(self) -> None:
        """The CLI does not load loaders by module-path strings through importlib."""
        tree = _tree(SRC / "_cli.py")
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        calls = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert "importlib" not in names | modules
        assert not {"importlib", "__import__"} & calls

    def test_optional_extras_come_through_one_helper(self) -> None:
        """Only salesflow/_optional.py imports modules by name (and names the extra)."""
        users = {
            path.relative_to(SRC).as_posix()
            for path in SRC.rglob("*.py")
            if "import_module" in path.read_text(encoding="utf-8")
        }
        assert users == {"_optional.py"}
