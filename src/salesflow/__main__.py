"""``python -m salesflow``: the same as the ``salesflow`` command."""

from ._cli import main

raise SystemExit(main())
