"""Collection rules for the whole repository (tests, docs and doctests in src/)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# Doctests of modules whose examples need an optional extra are skipped when
# it is not installed, so the suite passes on a core-only install.
collect_ignore = []
if importlib.util.find_spec("matplotlib") is None:
    collect_ignore.append("src/salesflow/plot.py")
if importlib.util.find_spec("pandas") is None:
    collect_ignore += ["src/salesflow/io/_frame.py", "src/salesflow/_frames.py"]

# The real-data how-tos read published data sets from a `shared/data` folder
# beside the repository clone; the data is not in the repository.
_SHARED_DATA = Path(__file__).parent.parent / "shared" / "data"
_REAL_DATA_PAGES = frozenset(
    (Path(__file__).parent / "docs" / "how-to" / name).resolve()
    for name in (
        "analyse-a-crm-export.md",
        "analyse-a-marketing-funnel.md",
        "how-good-is-my-forecast.md",
    )
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the real-data how-tos' doctests when ``../shared/data`` is absent."""
    if _SHARED_DATA.exists():
        return
    skip = pytest.mark.skip(
        reason="../shared/data is not beside this clone; the real-data how-tos need it"
    )
    for item in items:
        if item.path.resolve() in _REAL_DATA_PAGES:
            item.add_marker(skip)
