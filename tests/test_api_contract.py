"""The public API contract of issue 2: names, signatures and error classes.

Other projects' tests use these names and call shapes, so a change here is a
breaking change and needs a changelog entry, not just a test update.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

import salesflow as sf
import salesflow.exceptions
import salesflow.templates
import salesflow.typing

P = inspect.Parameter
POS = P.POSITIONAL_OR_KEYWORD
KW = P.KEYWORD_ONLY
REQUIRED = P.empty

Spec = list[tuple[str, Any, object]]


def assert_signature(func: Callable[..., Any], expected: Spec) -> None:
    """Check *func* against the contract's parameters (name, kind, default).

    The positional parameters must be exactly the contract's, in order. Every
    keyword-only parameter of the contract must be there with its default.
    Parameters the contract does not name are allowed (the issue lets the
    implementation add) but must be keyword-only with a default, so that no
    caller written against the contract can break.
    """
    params = [p for p in inspect.signature(func).parameters.values() if p.name != "self"]
    positional = [(p.name, p.kind, p.default) for p in params if p.kind in (POS, P.POSITIONAL_ONLY)]
    assert positional == [e for e in expected if e[1] is POS]
    by_name = {p.name: p for p in params}
    for name, kind, default in expected:
        assert name in by_name, f"{func.__qualname__} lacks {name!r}"
        assert by_name[name].kind is kind, f"{func.__qualname__}({name}) kind"
        assert by_name[name].default == default, f"{func.__qualname__}({name}) default"
    named = {e[0] for e in expected}
    for param in params:
        if param.name not in named:
            assert param.kind is KW, f"{func.__qualname__}({param.name}) must be keyword-only"
            assert param.default is not REQUIRED, (
                f"{func.__qualname__}({param.name}) needs a default"
            )


class TestNames:
    def test_all_is_pinned(self) -> None:
        """salesflow.__all__ holds exactly the public names."""
        assert sorted(sf.__all__) == [
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

    def test_metrics_contract_names(self) -> None:
        """salesflow.metrics exports every name the metrics issue fixes."""
        contract = {
            "Rate", "win_rate", "funnel", "stage_conversion", "average_deal_size", "sales_cycle",
            "time_in_stage", "sales_velocity", "pipeline_value", "weighted_pipeline",
            "pipeline_coverage", "cac", "cac_payback", "ltv", "ltv_to_cac", "retention_rate",
            "churn_rate", "net_revenue_retention", "gross_revenue_retention",
            "lead_velocity_rate", "touchpoints_per_conversion", "attribution",
            "wilson_interval", "jeffreys_interval", "kaplan_meier",
        }  # fmt: skip
        assert contract <= set(sf.metrics.__all__)
        assert callable(sf.report)

    def test_report_lives_in_metrics(self) -> None:
        """salesflow.metrics exports report and Report; the top level re-exports the same objects."""
        assert {"Report", "report"} <= set(sf.metrics.__all__)
        assert sf.report is sf.metrics.report
        assert sf.Report is sf.metrics.Report

    def test_all_is_sorted_and_importable(self) -> None:
        """__all__ is kept sorted and every name in it exists."""
        assert sf.__all__ == sorted(sf.__all__)
        for name in sf.__all__:
            assert getattr(sf, name) is not None

    def test_exceptions_module(self) -> None:
        """salesflow.exceptions exports every error and the warning, the same objects."""
        assert sorted(salesflow.exceptions.__all__) == [
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
        for name in salesflow.exceptions.__all__:
            assert getattr(salesflow.exceptions, name) is getattr(sf, name)

    def test_templates_module(self) -> None:
        """salesflow.templates offers the three contract templates."""
        assert sorted(salesflow.templates.__all__) == ["b2b", "hubspot_default", "investor"]
        assert sf.templates is salesflow.templates

    def test_typing_module(self) -> None:
        """salesflow.typing exports the public aliases and the Guard and Accumulator protocols."""
        assert sorted(salesflow.typing.__all__) == [
            "Accumulator",
            "Attributes",
            "Direction",
            "Guard",
            "StageRef",
        ]

    def test_outcome_members(self) -> None:
        """Outcome has OPEN, WON and LOST."""
        assert [o.name for o in sf.Outcome] == ["OPEN", "WON", "LOST"]


class TestSignatures:
    def test_money(self) -> None:
        """Money(amount, currency)."""
        assert_signature(sf.Money, [("amount", POS, REQUIRED), ("currency", POS, REQUIRED)])

    def test_money_zero_and_total(self) -> None:
        """Money.zero(currency) and Money.total(amounts) are classmethods."""
        assert_signature(sf.Money.zero, [("currency", POS, REQUIRED)])
        # The issue calls the argument iterable_of_money; it is pinned as implemented.
        assert_signature(sf.Money.total, [("amounts", POS, REQUIRED)])
        assert isinstance(inspect.getattr_static(sf.Money, "zero"), classmethod)
        assert isinstance(inspect.getattr_static(sf.Money, "total"), classmethod)

    def test_stage(self) -> None:
        """Stage(key, name=None, outcome=OPEN, probability=None, rotting_after=None)."""
        assert_signature(
            sf.Stage,
            [
                ("key", POS, REQUIRED),
                ("name", POS, None),
                ("outcome", POS, sf.Outcome.OPEN),
                ("probability", POS, None),
                ("rotting_after", POS, None),
            ],
        )

    def test_pipeline(self) -> None:
        """Pipeline(name, stages, *, allow_skip=False, allow_backward=True, allow_reopen=True, guards=())."""
        assert_signature(
            sf.Pipeline,
            [
                ("name", POS, REQUIRED),
                ("stages", POS, REQUIRED),
                ("allow_skip", KW, False),
                ("allow_backward", KW, True),
                ("allow_reopen", KW, True),
                ("guards", KW, ()),
            ],
        )

    def test_pipeline_linear(self) -> None:
        """Pipeline.linear(name, open_stages, *, won=..., lost=..., probabilities=None, **rules)."""
        assert_signature(
            sf.Pipeline.linear,
            [
                ("name", POS, REQUIRED),
                ("open_stages", POS, REQUIRED),
                ("won", KW, "Closed won"),
                ("lost", KW, "Closed lost"),
                ("probabilities", KW, None),
            ],
        )

    def test_pipeline_linear_takes_every_rule(self) -> None:
        """linear() accepts each keyword rule of Pipeline, with the same default."""
        linear = inspect.signature(sf.Pipeline.linear).parameters
        for rule in inspect.signature(sf.Pipeline).parameters.values():
            if rule.kind is KW:
                assert rule.name in linear, rule.name
                assert linear[rule.name].kind is KW
                assert linear[rule.name].default == rule.default

    def test_pipeline_methods(self) -> None:
        """open_deal, can_move, allowed_targets, check, stage and the records."""
        assert_signature(
            sf.Pipeline.open_deal,
            [
                ("id", POS, REQUIRED),
                ("at", KW, REQUIRED),
                ("value", KW, None),
                ("owner", KW, None),
                ("source", KW, None),
                ("stage", KW, None),
                ("attributes", KW, None),
            ],
        )
        assert_signature(
            sf.Pipeline.can_move,
            [("deal", POS, REQUIRED), ("target", POS, REQUIRED), ("at", KW, None)],
        )
        assert_signature(sf.Pipeline.allowed_targets, [("deal", POS, REQUIRED)])
        assert_signature(sf.Pipeline.check, [("deal", POS, REQUIRED), ("guards", KW, False)])
        # The issue calls the argument key_or_stage; it is pinned as implemented.
        assert_signature(sf.Pipeline.stage, [("ref", POS, REQUIRED)])
        assert_signature(sf.Pipeline.to_dict, [])
        assert_signature(sf.Pipeline.from_dict, [("data", POS, REQUIRED)])
        assert_signature(sf.Pipeline.to_mermaid, [])
        assert_signature(sf.Pipeline.to_markdown, [])

    def test_deal_moves(self) -> None:
        """advance, move_to, win, lose and reopen take keyword-only times and options."""
        assert_signature(
            sf.Deal.advance, [("at", KW, REQUIRED), ("actor", KW, None), ("note", KW, None)]
        )
        assert_signature(
            sf.Deal.move_to,
            [
                ("target", POS, REQUIRED),
                ("at", KW, REQUIRED),
                ("actor", KW, None),
                ("note", KW, None),
            ],
        )
        assert_signature(sf.Deal.win, [("at", KW, REQUIRED), ("stage", KW, None)])
        assert_signature(
            sf.Deal.lose, [("at", KW, REQUIRED), ("reason", KW, None), ("stage", KW, None)]
        )
        assert_signature(sf.Deal.reopen, [("at", KW, REQUIRED), ("to", KW, None)])

    def test_deal_records(self) -> None:
        """log(touchpoint), to_dict() and Deal.from_dict(data, pipeline)."""
        assert_signature(sf.Deal.log, [("touchpoint", POS, REQUIRED)])
        assert_signature(sf.Deal.to_dict, [])
        assert_signature(sf.Deal.from_dict, [("data", POS, REQUIRED), ("pipeline", POS, REQUIRED)])

    def test_stage_change(self) -> None:
        """StageChange(stage, at, *, actor=None, reason=None, note=None)."""
        assert_signature(
            sf.StageChange,
            [
                ("stage", POS, REQUIRED),
                ("at", POS, REQUIRED),
                ("actor", KW, None),
                ("reason", KW, None),
                ("note", KW, None),
            ],
        )

    def test_touchpoint(self) -> None:
        """Touchpoint(at, channel, *, direction=None, campaign=None, cost=None, note=None)."""
        assert_signature(
            sf.Touchpoint,
            [
                ("at", POS, REQUIRED),
                ("channel", POS, REQUIRED),
                ("direction", KW, None),
                ("campaign", KW, None),
                ("cost", KW, None),
                ("note", KW, None),
            ],
        )

    def test_lead(self) -> None:
        """Lead(id, *, created_at, source=None, ...)."""
        assert_signature(
            sf.Lead, [("id", POS, REQUIRED), ("created_at", KW, REQUIRED), ("source", KW, None)]
        )

    def test_lead_methods(self) -> None:
        """contact/qualify/disqualify(at=...), log(touchpoint), convert(pipeline, *, at, ...)."""
        assert_signature(sf.Lead.contact, [("at", KW, REQUIRED)])
        assert_signature(sf.Lead.qualify, [("at", KW, REQUIRED)])
        assert_signature(sf.Lead.disqualify, [("at", KW, REQUIRED), ("reason", KW, None)])
        assert_signature(sf.Lead.log, [("touchpoint", POS, REQUIRED)])
        assert_signature(
            sf.Lead.convert,
            [
                ("pipeline", POS, REQUIRED),
                ("at", KW, REQUIRED),
                ("deal_id", KW, None),
                ("value", KW, None),
                ("owner", KW, None),
            ],
        )

    @pytest.mark.parametrize("name", ["b2b", "investor", "hubspot_default"])
    def test_templates_take_rules(self, name: str) -> None:
        """Each template takes only keyword rules."""
        params = list(inspect.signature(getattr(sf.templates, name)).parameters.values())
        assert [p.kind for p in params] == [P.VAR_KEYWORD]


class TestErrors:
    @pytest.mark.parametrize(
        ("error", "builtin"),
        [
            (sf.TransitionError, ValueError),
            (sf.InvalidPipelineError, ValueError),
            (sf.UnknownStageError, KeyError),
            (sf.UnknownFieldError, KeyError),
            (sf.UnknownZoneError, ValueError),
            (sf.CurrencyMismatchError, ValueError),
            (sf.SchemaError, ValueError),
            (sf.NotSerializableError, TypeError),
        ],
    )
    def test_error_bases(self, error: type[Exception], builtin: type[Exception]) -> None:
        """Each error derives from SalesflowError and from the matching builtin."""
        assert issubclass(error, sf.SalesflowError)
        assert issubclass(error, builtin)

    def test_root(self) -> None:
        """SalesflowError is an Exception; SalesflowWarning is a UserWarning."""
        assert issubclass(sf.SalesflowError, Exception)
        assert issubclass(sf.SalesflowWarning, UserWarning)
        assert not issubclass(sf.SalesflowWarning, sf.SalesflowError)

    def test_transition_error_attributes(
        self, open_deal: sf.Deal, utc_day: Callable[..., datetime]
    ) -> None:
        """A refused move carries deal_id, source, target, reasons and allowed."""
        with pytest.raises(sf.TransitionError) as info:
            open_deal.move_to("Proposal", at=utc_day(2))
        error = info.value
        assert (error.deal_id, error.source, error.target) == ("D-1", "Prospecting", "Proposal")
        assert isinstance(error.reasons, tuple)
        assert error.reasons
        assert error.allowed == ("Lead generation", "Closed won", "Closed lost")

    def test_invalid_pipeline_error_stages(self) -> None:
        """InvalidPipelineError carries the offending stages."""
        with pytest.raises(sf.InvalidPipelineError) as info:
            sf.Pipeline("p", ["a", "a", sf.Stage("w", outcome="won")])
        assert info.value.stages == ("a",)


class TestShapes:
    def test_pipeline_stage_tuples(self, b2b: sf.Pipeline) -> None:
        """stages, open_stages, won_stages and lost_stages are tuples of Stage."""
        for attr in ("stages", "open_stages", "won_stages", "lost_stages"):
            value = getattr(b2b, attr)
            assert isinstance(value, tuple), attr
            assert value
            assert all(isinstance(s, sf.Stage) for s in value), attr

    def test_deal_fields(self, open_deal: sf.Deal) -> None:
        """A deal exposes every field the contract names."""
        assert open_deal.id == "D-1"
        assert isinstance(open_deal.pipeline, sf.Pipeline)
        assert isinstance(open_deal.value, sf.Money)
        assert open_deal.owner == "ann"
        assert open_deal.source is None
        assert isinstance(open_deal.created_at, datetime)
        assert isinstance(open_deal.history, tuple)
        assert all(isinstance(c, sf.StageChange) for c in open_deal.history)
        assert open_deal.touchpoints == ()
        assert dict(open_deal.attributes) == {}
        assert isinstance(open_deal.stage, sf.Stage)
        assert (open_deal.is_open, open_deal.is_won, open_deal.is_lost) == (True, False, False)
        assert open_deal.closed_at is None
        assert open_deal.lost_reason is None

    def test_verdict(self, open_deal: sf.Deal) -> None:
        """can_move returns a Verdict usable as a bool, with reasons."""
        verdict = open_deal.pipeline.can_move(open_deal, "Proposal")
        assert isinstance(verdict, sf.Verdict)
        assert bool(verdict) is False
        assert isinstance(verdict.reasons, tuple)

    def test_lead_status_history(self, utc_day: Callable[..., datetime]) -> None:
        """A lead has a status history of StatusChange values."""
        lead = sf.Lead("L", created_at=utc_day(1)).contact(at=utc_day(2))
        assert [c.status for c in lead.history] == [sf.LeadStatus.NEW, sf.LeadStatus.CONTACTED]
        assert all(isinstance(c, sf.StatusChange) for c in lead.history)
