"""salesflow: model sales pipelines and funnels, and measure them honestly."""

# No ``from __future__ import annotations`` here: it would leave a public
# ``salesflow.annotations`` behind, and this module has no annotations.
from . import datasets, io, metrics, plot, templates
from ._deal import Deal
from ._field_change import FieldChange
from ._guards import RequireTouchpoint, RequireValue
from ._lead import Lead, LeadStatus, StatusChange
from ._money import Money
from ._moves import MoveKind, MoveTable
from ._pipeline import Pipeline, Verdict
from ._stage import Outcome, Stage
from ._stage_change import StageChange
from ._table import EventTable
from ._touchpoint import Touchpoint
from .exceptions import (
    CurrencyMismatchError,
    EmptySourceWarning,
    InvalidPipelineError,
    LoadError,
    MissingDependencyError,
    MoneyError,
    NotSerializableError,
    SalesflowError,
    SalesflowWarning,
    SchemaError,
    TransitionError,
    UnknownFieldError,
    UnknownStageError,
    UnknownZoneError,
)
from .metrics import Report, report

__version__ = "0.1.0.dev0"

__all__ = [
    "CurrencyMismatchError",
    "Deal",
    "EmptySourceWarning",
    "EventTable",
    "FieldChange",
    "InvalidPipelineError",
    "Lead",
    "LeadStatus",
    "LoadError",
    "MissingDependencyError",
    "Money",
    "MoneyError",
    "MoveKind",
    "MoveTable",
    "NotSerializableError",
    "Outcome",
    "Pipeline",
    "Report",
    "RequireTouchpoint",
    "RequireValue",
    "SalesflowError",
    "SalesflowWarning",
    "SchemaError",
    "Stage",
    "StageChange",
    "StatusChange",
    "Touchpoint",
    "TransitionError",
    "UnknownFieldError",
    "UnknownStageError",
    "UnknownZoneError",
    "Verdict",
    "datasets",
    "io",
    "metrics",
    "plot",
    "report",
    "templates",
]
