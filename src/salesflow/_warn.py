"""One way to warn: at the user's line, never at a line inside salesflow.

A fixed ``stacklevel`` points at the right line only for one call depth: the
same accumulator warns from ``win_rate()``, from ``report()`` and from a
user's own ``acc.result()``. Pointed inside the library, two different
warnings from one user line could hide each other, and ``-W error::...:module``
filters could not select the user's module. :func:`warn` therefore walks the
stack to the first frame outside the package, as ``skip_file_prefixes`` does
on Python 3.12+ (the package supports 3.11).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from contextvars import ContextVar

from .exceptions import SalesflowWarning

__all__ = ["collecting", "warn"]

#: The package directory with a trailing separator, so ``salesflow_extra/`` is outside.
#: Taken from ``__file__`` as it is, since code objects carry the same spelling.
_PACKAGE = os.path.dirname(__file__) + os.sep


def _inside(filename: str) -> bool:
    return filename.startswith(_PACKAGE)


def stacklevel() -> int:
    """The ``stacklevel`` that names the first caller outside salesflow, for the caller's ``warn``.

    Level 1 is the function calling this one; the count goes up one per frame
    inside the package. When every frame is inside (salesflow's own command
    line), the outermost frame is named.
    """
    frame = sys._getframe(1)
    level = 1
    while _inside(frame.f_code.co_filename) and frame.f_back is not None:
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = SalesflowWarning) -> None:
    """Issue *message* as a warning located at the first line outside salesflow.

    The default warning filter shows a warning once per message and location,
    so two different messages from one line of the user's code both show, and
    the same message from a loop shows once.

    Args:
        message: One sentence: what is doubtful and what to do.
        category: The warning class; :class:`~salesflow.SalesflowWarning` by default.
    """
    sink = _SINK.get()
    if sink is not None:
        sink.append(message)
    # warnings.warn counts from its caller (this frame) as level 1; stacklevel()
    # counts from its caller (this frame too) the same way.
    warnings.warn(message, category, stacklevel=stacklevel())


#: Where :func:`collecting` gathers the messages warned meanwhile (``None``: nowhere).
_SINK: ContextVar[list[str] | None] = ContextVar("salesflow_warnings", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[list[str]]:
    """Gather the messages of every :func:`warn` in the block, which still warns.

    Unlike ``warnings.catch_warnings`` this changes no filter, so the default
    filter's once-per-line memory survives, and it is safe across threads
    and tasks (a context variable).
    """
    sink: list[str] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)
