"""Generated data: realistic, deterministic samples for demos, docs and benchmarks."""

from __future__ import annotations

from ._synthetic import synthetic

__all__ = ["synthetic"]
