"""Errors and warnings raised by salesflow.

Every error derives from :class:`SalesflowError`, and each also derives from the
builtin exception a caller would naturally catch (``ValueError``, ``KeyError``,
``TypeError``), so ``except ValueError`` keeps working around salesflow calls.
Errors carry the offending values as attributes, so programs need not parse
messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CurrencyMismatchError",
    "EmptySourceWarning",
    "InvalidPipelineError",
    "LoadError",
    "MissingDependencyError",
    "MoneyError",
    "NotSerializableError",
    "SalesflowError",
    "SalesflowWarning",
    "SchemaError",
    "TransitionError",
    "UnknownFieldError",
    "UnknownStageError",
    "UnknownZoneError",
]


class SalesflowError(Exception):
    """Root of every error salesflow raises on purpose."""


class SalesflowWarning(UserWarning):
    """Input that is valid but doubtful: salesflow flags it rather than refusing it."""


class EmptySourceWarning(SalesflowWarning):
    """A loader read a source with no data rows (a header alone, or nothing): the result is empty.

    An empty export is legal, but far more often a wrong file, a filter that
    matched nothing or a truncated download, so it is said rather than
    returned without a word.
    """


class CurrencyMismatchError(SalesflowError, ValueError):
    """Amounts in different currencies were combined.

    Attributes:
        currencies: The currencies that met, in the order they were seen.
    """

    def __init__(self, msg: str, *, currencies: Sequence[str] = ()) -> None:
        super().__init__(msg)
        self.currencies = tuple(currencies)


class MoneyError(SalesflowError, ValueError):
    """An amount or a currency that :class:`~salesflow.Money` cannot hold.

    Raised for an amount outside Money's documented range or precision (also
    when arithmetic would leave it), and for a currency code that is neither
    ISO 4217 nor registered with :meth:`~salesflow.Money.register_currency`.

    Attributes:
        field: ``"amount"`` or ``"currency"``: which part is at fault.
        value: The offending amount or code.
    """

    def __init__(self, msg: str, *, field: str = "amount", value: object = None) -> None:
        super().__init__(msg)
        self.field = field
        self.value = value


class UnknownStageError(SalesflowError, KeyError):
    """A stage key or name that the pipeline does not define.

    Attributes:
        stage: The key that was asked for.
        pipeline: The name of the pipeline that was searched.
        known: The keys the pipeline does define, in order.
    """

    def __init__(self, stage: object, *, pipeline: str, known: Sequence[str]) -> None:
        self.stage = stage
        self.pipeline = pipeline
        self.known = tuple(known)
        msg = (
            f"Pipeline {pipeline!r} has no stage {stage!r}; "
            f"known stages are {', '.join(repr(k) for k in self.known)}."
        )
        super().__init__(msg)

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message and wrap it in quotes.
        return str(self.args[0])


class UnknownFieldError(SalesflowError, KeyError):
    """A ``by=`` field that no deal has: neither a built-in field nor an attribute key.

    Attributes:
        field: The name that was asked for.
        known: The fields the deals do have (built-in fields and attribute
            keys), sorted.
        suggestion: The closest known name, or ``None`` when none is close.
    """

    def __init__(self, field: str, *, known: Sequence[str], suggestion: str | None = None) -> None:
        self.field = field
        self.known = tuple(sorted(known))
        self.suggestion = suggestion
        hint = (
            f"did you mean {suggestion!r}?"
            if suggestion is not None
            else "pass one of them, or a function of the deal."
        )
        msg = (
            f"No deal has a field {field!r}; the deals have "
            f"{', '.join(repr(k) for k in self.known)}; {hint}"
        )
        super().__init__(msg)

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message and wrap it in quotes.
        return str(self.args[0])


class UnknownZoneError(SalesflowError, ValueError):
    """A time zone name that is not in the IANA database (``"Europe/Pari"``).

    Attributes:
        zone: The name that was given.
        suggestions: The closest known zone names, best first (may be empty).
    """

    def __init__(self, zone: str, *, suggestions: Sequence[str] = ()) -> None:
        self.zone = zone
        self.suggestions = tuple(suggestions)
        hint = (
            f"did you mean {' or '.join(repr(s) for s in self.suggestions)}?"
            if self.suggestions
            else "pass an IANA zone name such as 'UTC' or 'Europe/Paris'."
        )
        msg = f"Time zone {zone!r} is not a known IANA zone name; {hint}"
        super().__init__(msg)


class InvalidPipelineError(SalesflowError, ValueError):
    """A pipeline definition that breaks one of the structural rules.

    Every broken rule is reported at once: the message lists them all.

    Attributes:
        stages: The keys of the offending stages (may be empty when the problem
            is the pipeline as a whole, e.g. no stages at all).
        problems: One sentence per broken rule.
        rules: The name of each broken rule, in the order of ``problems``
            (``"has_won"``, ``"unique_keys"``, ``"reachable"`` …).
    """

    def __init__(
        self,
        msg: str,
        *,
        stages: Sequence[str] = (),
        problems: Sequence[str] = (),
        rules: Sequence[str] = (),
    ) -> None:
        super().__init__(msg)
        self.stages = tuple(stages)
        self.problems = tuple(problems) or (msg,)
        self.rules = tuple(rules)


class TransitionError(SalesflowError, ValueError):
    """A stage change that the pipeline's rules refuse.

    Attributes:
        deal_id: The deal (or lead) that was to move.
        source: The key of the stage it was in (``None`` when opening).
        target: The key of the stage it was to move to.
        reasons: Every reason the move was refused, one sentence each.
        allowed: The keys of the stages the deal could have moved to.
        event: For a replayed history (:meth:`Pipeline.check`), the index of
            the offending event; ``None`` for a live move.
    """

    def __init__(
        self,
        msg: str,
        *,
        deal_id: str,
        source: str | None,
        target: str,
        reasons: Sequence[str],
        allowed: Sequence[str] = (),
        event: int | None = None,
    ) -> None:
        super().__init__(msg)
        self.event = event
        self.deal_id = deal_id
        self.source = source
        self.target = target
        self.reasons = tuple(reasons)
        self.allowed = tuple(allowed)


class SchemaError(SalesflowError, ValueError):
    """Data that cannot be turned into a salesflow object (``from_dict``, loaders).

    Attributes:
        path: Where in the input the problem is, e.g. ``$.history[2].at``.
        value: The offending value, when there is one.
    """

    def __init__(self, msg: str, *, path: str = "$", value: Any = None) -> None:
        super().__init__(msg)
        self.path = path
        self.value = value


class NotSerializableError(SalesflowError, TypeError):
    """An object that cannot be written as a plain record.

    For example a pipeline whose guard is a plain function.
    """


class LoadError(SalesflowError, ValueError):
    """A row of an input file that cannot be turned into salesflow objects.

    Attributes:
        file: The file's name (or ``"<stream>"`` for an open file without one).
        line: The 1-based line number of the row in the file.
        column: The column at fault, when one is.
        value: The offending value, when there is one.
        reason: What is wrong, in a short phrase.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str,
        line: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.value = value
        self.reason = reason
        where = file if line is None else f"{file}, line {line}"
        what = "" if column is None else f", column {column!r}"
        shown = "" if value is None else f" (value {value!r})"
        super().__init__(f"{where}{what}: {reason}{shown}.")

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe dict of the location and reason."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": None if self.value is None else str(self.value),
            "reason": self.reason,
        }


class MissingDependencyError(SalesflowError, ImportError):
    """An optional dependency is not installed.

    Attributes:
        package: The package that is missing (``"pandas"``).
        extra: The salesflow extra that installs it (``"salesflow[pandas]"``),
            or the pip requirement to install.
    """

    def __init__(self, msg: str, *, package: str, extra: str) -> None:
        super().__init__(msg, name=package)
        self.package = package
        self.extra = extra
