"""Optional extras, imported on first use with an error that names the extra.

salesflow's runtime needs only attrs, cattrs and python-dateutil (DESIGN §2.7).
pandas, matplotlib and pyarrow are extras: every function that needs one asks
this module for it, so that its absence raises one clear
:class:`~salesflow.exceptions.MissingDependencyError` saying what to install,
worded the same everywhere.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .exceptions import MissingDependencyError

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["pandas", "require"]


def require(package: str, extra: str, feature: str) -> ModuleType:
    """Import *package*, or raise :class:`MissingDependencyError` naming *extra*.

    Args:
        package: The module to import (``"matplotlib.figure"``).
        extra: What to install, as pip spells it (``"salesflow[plot]"``).
        feature: What needs it, for the message (``"plot.funnel()"``).

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: *package* is not installed.
    """
    try:
        return importlib.import_module(package)
    except ImportError:
        msg = f"{feature} needs {package}, which is not installed; install {extra} (pip install '{extra}')."
        raise MissingDependencyError(msg, package=package, extra=extra) from None


def pandas(feature: str = "to_frame()") -> ModuleType:
    """The pandas module, or a clear error naming ``salesflow[pandas]``."""
    return require("pandas", "salesflow[pandas]", feature)
