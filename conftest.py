"""Collection rules for the whole repository (tests, docs and doctests in src/)."""

from __future__ import annotations

import importlib.util

# Doctests of modules whose examples need an optional extra are skipped when
# it is not installed, so the suite passes on a core-only install.
collect_ignore = []
if importlib.util.find_spec("matplotlib") is None:
    collect_ignore.append("src/salesflow/plot.py")
if importlib.util.find_spec("pandas") is None:
    collect_ignore += ["src/salesflow/io/_frame.py", "src/salesflow/_frames.py"]
