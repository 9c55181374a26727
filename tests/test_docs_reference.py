"""The API reference cannot drift: its pages show every public name, and nothing else.

The reference pages are mkdocstrings ``:::`` directives. A directive naming a
public module shows the names of its ``members:`` option, or, without one,
every name in the module's ``__all__``; a directive naming one object shows
that object. These tests read the directives from the Markdown, then ask
griffe (which mkdocstrings uses) what each module directive will render.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import salesflow

yaml = pytest.importorskip("yaml", reason="the docs tools are not installed (salesflow[docs])")
griffe = pytest.importorskip("griffe", reason="the docs tools are not installed (salesflow[docs])")
mkdocstrings_python = pytest.importorskip(
    "mkdocstrings_handlers.python", reason="the docs tools are not installed (salesflow[docs])"
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The package itself and every submodule without a leading underscore.
PUBLIC_MODULES = (
    "salesflow",
    *(
        f"salesflow.{info.name}"
        for info in pkgutil.iter_modules(salesflow.__path__)
        if not info.name.startswith("_")
    ),
)

# mkdocstrings' directive: `::: identifier`, then an indented YAML block.
_DIRECTIVE = re.compile(r"^(?:#{1,6} *)?::: ?(?P<identifier>\S+) *$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Directive:
    """One ``::: identifier`` directive of a docs page, with its options."""

    page: str
    line: int
    identifier: str
    options: dict[str, Any]

    @property
    def where(self) -> str:
        """``page:line``, for failure messages."""
        return f"{self.page}:{self.line}"


def _parse_page(path: Path) -> list[Directive]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    in_fence = False
    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _DIRECTIVE.match(line)
        if match is None:
            continue
        block = []
        for following in lines[number:]:
            if not following.strip():
                break
            block.append(following)
        config = yaml.safe_load(textwrap.dedent("\n".join(block))) if block else None
        options = (config or {}).get("options") or {}
        page = path.relative_to(DOCS).as_posix()
        found.append(Directive(page, number, match["identifier"], options))
    return found


@functools.cache
def directives() -> tuple[Directive, ...]:
    """Every directive of every docs page."""
    return tuple(d for path in sorted(DOCS.rglob("*.md")) for d in _parse_page(path))


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def public_names(module_name: str) -> set[str]:
    """The module's ``__all__``, without the submodules that have pages of their own."""
    module = _module(module_name)
    return {n for n in module.__all__ if not inspect.ismodule(getattr(module, n))}


def shown(directive: Directive) -> list[tuple[str, str]]:
    """The ``(module, name)`` pairs that *directive* asks mkdocstrings to show."""
    if directive.identifier in PUBLIC_MODULES:
        members = directive.options.get("members")
        if members is None:
            names = sorted(public_names(directive.identifier))
        elif isinstance(members, list):
            names = members
        else:
            pytest.fail(f"{directive.where}: give `members:` as a list, or leave it out")
        return [(directive.identifier, name) for name in names]
    module_name, _, name = directive.identifier.rpartition(".")
    return [(module_name, name)]


def _entries() -> list[tuple[str, str]]:
    return [entry for d in directives() for entry in shown(d)]


_MISSING = object()


def _object(module_name: str, name: str) -> object:
    """The object a page names, or a sentinel when there is none (reported elsewhere)."""
    try:
        return getattr(_module(module_name), name, _MISSING)
    except ImportError:
        return _MISSING


def _is_shown_somewhere(module_name: str, name: str, entries: list[tuple[str, str]]) -> bool:
    """Whether the name, or the object it names under another public path, is on a page."""
    if (module_name, name) in entries:
        return True
    target = _object(module_name, name)
    return any(_object(*entry) is target for entry in entries if entry[0] in PUBLIC_MODULES)


@functools.cache
def global_options() -> dict[str, Any]:
    """The python handler's options from ``mkdocs.yml``."""

    class Loader(yaml.SafeLoader):
        """Reads ``mkdocs.yml``, ignoring its ``!!python/name:`` tags."""

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            return dict(plugin["mkdocstrings"]["handlers"]["python"].get("options", {}))
    pytest.fail("mkdocs.yml does not configure the mkdocstrings plugin")


@functools.cache
def griffe_package() -> Any:
    """The package as mkdocstrings sees it: loaded by griffe from ``src``."""
    return griffe.load(
        "salesflow",
        search_paths=[str(ROOT / "src")],
        resolve_aliases=True,
        resolve_external=False,
    )


def rendered(directive: Directive) -> set[str]:
    """The names mkdocstrings renders under a module directive (its filters, as its templates apply them)."""
    options = mkdocstrings_python.PythonOptions.from_data(
        **{**global_options(), **directive.options}
    )
    package = griffe_package()
    path = directive.identifier.removeprefix("salesflow").lstrip(".")
    module = package[path] if path else package
    kept = mkdocstrings_python.do_filter_objects(
        module.members,
        filters=options.filters,
        members_list=options.members,
        inherited_members=options.inherited_members,
        keep_no_docstrings=options.show_if_no_docstring,
    )
    return {
        member.name
        for member in kept
        if (
            options.filters == "public"
            or options.members is not None
            or not member.is_imported
            or member.is_public
        )
        and (options.show_submodules or not member.is_module)
    }


class TestReferencePages:
    """The ``:::`` directives of the docs pages, against each module's ``__all__``."""

    def test_public_modules_are_found(self) -> None:
        """The public modules are the package and its submodules without an underscore."""
        assert set(PUBLIC_MODULES) >= {
            "salesflow",
            "salesflow.datasets",
            "salesflow.exceptions",
            "salesflow.io",
            "salesflow.metrics",
            "salesflow.plot",
            "salesflow.templates",
            "salesflow.typing",
        }

    @pytest.mark.parametrize("module_name", PUBLIC_MODULES)
    def test_every_public_name_is_on_a_page(self, module_name: str) -> None:
        """Each name in a public module's __all__ is shown by some directive."""
        entries = _entries()
        missing = sorted(
            name
            for name in public_names(module_name)
            if not _is_shown_somewhere(module_name, name, entries)
        )
        assert not missing, (
            f"{module_name}.__all__ names {missing}, which no page in docs/ shows; "
            f"add a `::: {module_name}.<name>` directive to a page of docs/reference/, "
            f"or a `::: {module_name}` directive that shows them"
        )

    def test_pages_show_only_public_names(self) -> None:
        """Each name a directive shows is in the __all__ of a public module."""
        wrong = [
            f"{d.where}: {module_name}.{name}"
            for d in directives()
            for module_name, name in shown(d)
            if module_name not in PUBLIC_MODULES or name not in public_names(module_name)
        ]
        assert not wrong, f"pages show names that are not in a public module's __all__: {wrong}"

    def test_no_object_is_shown_twice(self) -> None:
        """No class or function appears on two pages, or twice on one."""
        paths: dict[int, list[str]] = {}
        for module_name, name in _entries():
            if module_name not in PUBLIC_MODULES or name not in public_names(module_name):
                continue  # reported by test_pages_show_only_public_names
            target = _object(module_name, name)
            if inspect.isclass(target) or inspect.isfunction(target):
                paths.setdefault(id(target), []).append(f"{module_name}.{name}")
        twice = [found for found in paths.values() if len(found) > 1]
        assert not twice, f"shown more than once: {twice}"


MODULE_DIRECTIVES = [d for d in directives() if d.identifier in PUBLIC_MODULES]


class TestRenderedReference:
    """What mkdocstrings will render, as computed from griffe's view of the source."""

    def test_pages_have_module_directives(self) -> None:
        """The reference renders the public modules through module directives."""
        assert {d.identifier for d in MODULE_DIRECTIVES} >= {
            "salesflow.exceptions",
            "salesflow.io",
            "salesflow.metrics",
        }

    @pytest.mark.parametrize(
        "directive", MODULE_DIRECTIVES, ids=[d.identifier for d in MODULE_DIRECTIVES]
    )
    def test_module_directive_renders_what_it_shows(self, directive: Directive) -> None:
        """A module directive renders exactly the names it asks for."""
        # Names outside __all__ are reported by test_pages_show_only_public_names.
        asked = {name for _, name in shown(directive)} & public_names(directive.identifier)
        got = rendered(directive)
        unrendered = sorted(asked - got)
        extra = sorted(got - asked)
        assert not unrendered, (
            f"{directive.where}: mkdocstrings will not render {unrendered} of "
            f"{directive.identifier}; a module-level name needs a docstring "
            f"(a string literal right after the assignment) to be rendered"
        )
        assert not extra, (
            f"{directive.where}: mkdocstrings will also render {extra}, which "
            f"{directive.identifier}.__all__ does not list"
        )
