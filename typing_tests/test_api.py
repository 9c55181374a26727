"""Static checks of the public API's types: run by `mypy --strict typing_tests`, never executed.

Each `assert_type` pins what a type checker infers for a contract call, and each
`# type: ignore[...]` pins a misuse the checker must reject (mypy --strict
reports an ignore that is no longer needed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, assert_type

import salesflow as sf
from salesflow.typing import Guard

at = datetime(2026, 1, 1, tzinfo=UTC)

# Money
money = sf.Money("12.50", "USD")
assert_type(money, sf.Money)
assert_type(money.amount, Decimal)
assert_type(money.currency, str)
assert_type(money + money, sf.Money)
assert_type(money - money, sf.Money)
assert_type(money * 3, sf.Money)
assert_type(money * Decimal("0.5"), sf.Money)
assert_type(3 * money, sf.Money)
assert_type(money / 4, sf.Money)
assert_type(-money, sf.Money)
assert_type(money < money, bool)
assert_type(money == money, bool)
assert_type(money.ratio(money), Decimal)
assert_type(sf.Money.zero("EUR"), sf.Money)
assert_type(sf.Money.total([money, money]), sf.Money)
assert_type(sf.Money.total([], currency="USD"), sf.Money)
assert_type(sum([money, money], sf.Money.zero("USD")), sf.Money)
assert_type(money.to_dict(), dict[str, Any])
money * 1.5  # type: ignore[operator]
money + 1  # type: ignore[operator]
sf.Money(1.5, "USD")  # type: ignore[arg-type]
sf.Money(1, 840)  # type: ignore[arg-type]

# Stage and Outcome
stage = sf.Stage("proposal", "Proposal", probability=0.6)
assert_type(stage.key, str)
assert_type(stage.name, str)
assert_type(stage.outcome, sf.Outcome)
assert_type(stage.probability, float | None)
assert_type(stage.rotting_after, timedelta | None)
assert_type(stage.is_open, bool)
sf.Stage("won", outcome=sf.Outcome.WON)
sf.Stage("won", outcome="won")
sf.Stage(1)  # type: ignore[arg-type]

# Pipeline
pipeline = sf.Pipeline.linear("Sales", ["Lead", sf.Stage("Demo")], probabilities=[0.1, 0.5])
assert_type(pipeline, sf.Pipeline)
assert_type(sf.Pipeline("p", ["a", sf.Stage("w", outcome="won")], allow_skip=True), sf.Pipeline)
assert_type(sf.templates.b2b(), sf.Pipeline)
assert_type(sf.templates.investor(allow_skip=True), sf.Pipeline)
assert_type(sf.templates.hubspot_default(), sf.Pipeline)
assert_type(pipeline.stages, tuple[sf.Stage, ...])
assert_type(pipeline.open_stages, tuple[sf.Stage, ...])
assert_type(pipeline.won_stages, tuple[sf.Stage, ...])
assert_type(pipeline.lost_stages, tuple[sf.Stage, ...])
assert_type(pipeline.stage("Lead"), sf.Stage)
assert_type(pipeline.stage(stage), sf.Stage)
assert_type(pipeline.to_dict(), dict[str, Any])
assert_type(sf.Pipeline.from_dict(pipeline.to_dict()), sf.Pipeline)
assert_type(pipeline.to_mermaid(), str)
assert_type(pipeline.to_markdown(), str)
pipeline.stage(3)  # type: ignore[arg-type]
sf.Pipeline("p", ["a"], True)  # type: ignore[call-arg]


def no_fridays(deal: sf.Deal, target: sf.Stage, at: datetime, /) -> str | None:
    return "closed on Fridays" if at.weekday() == 4 else None


guard: Guard = no_fridays
guarded = sf.Pipeline.linear(
    "Sales", ["Lead"], guards=[no_fridays, sf.RequireTouchpoint("Lead", "call")]
)
assert_type(guarded.guards, tuple[Guard, ...])

# Deal
deal = pipeline.open_deal("D-1", at=at, value=money, owner="ann", attributes={"tier": 1})
assert_type(deal, sf.Deal)
assert_type(deal.id, str)
assert_type(deal.pipeline, sf.Pipeline)
assert_type(deal.value, sf.Money | None)
assert_type(deal.owner, str | None)
assert_type(deal.source, str | None)
assert_type(deal.created_at, datetime)
assert_type(deal.history, tuple[sf.StageChange, ...])
assert_type(deal.touchpoints, tuple[sf.Touchpoint, ...])
assert_type(deal.attributes, Mapping[str, Any])
assert_type(deal.stage, sf.Stage)
assert_type(deal.is_open, bool)
assert_type(deal.is_won, bool)
assert_type(deal.is_lost, bool)
assert_type(deal.closed_at, datetime | None)
assert_type(deal.lost_reason, str | None)
assert_type(deal.lead_id, str | None)
assert_type(deal.advance(at=at), sf.Deal)
assert_type(deal.move_to("Demo", at=at, actor="ann"), sf.Deal)
assert_type(deal.move_to(stage, at=at), sf.Deal)
assert_type(deal.win(at=at), sf.Deal)
assert_type(deal.lose(at=at, reason="price"), sf.Deal)
assert_type(deal.reopen(at=at, to="Lead"), sf.Deal)
assert_type(deal.log(sf.Touchpoint(at, "call")), sf.Deal)
assert_type(deal.as_of(at), sf.Deal | None)
assert_type(deal.age(at), timedelta)
assert_type(deal.to_dict(), dict[str, Any])
assert_type(sf.Deal.from_dict(deal.to_dict(), pipeline), sf.Deal)
deal.advance(at)  # type: ignore[call-arg]
deal.move_to("Demo", at="2026-01-01")  # type: ignore[arg-type]
deal.log("call")  # type: ignore[arg-type]
deal.value = None  # type: ignore[misc]

# The rules
verdict = pipeline.can_move(deal, "x")
assert_type(verdict, sf.Verdict)
assert_type(verdict.reasons, tuple[str, ...])
assert_type(bool(verdict), bool)
assert_type(pipeline.can_move(deal, stage, at=at), sf.Verdict)
assert_type(pipeline.allowed_targets(deal), tuple[sf.Stage, ...])
assert_type(pipeline.check(deal), None)
pipeline.check(deal, guards=True)

# History records
change = sf.StageChange("Demo", at, actor="ann", reason=None, note="n")
assert_type(change.stage, str)
assert_type(change.at, datetime)
assert_type(change.actor, str | None)
touch = sf.Touchpoint(at, "demo", direction="inbound", cost=money)
assert_type(touch.cost, sf.Money | None)
assert_type(touch.channel, str)
assert_type(sf.Deal.from_history(pipeline, "D-2", [change]), sf.Deal)

# Lead
lead = sf.Lead("L-1", created_at=at, source="webinar")
assert_type(lead, sf.Lead)
assert_type(lead.status, sf.LeadStatus)
assert_type(lead.history, tuple[sf.StatusChange, ...])
assert_type(lead.contact(at=at), sf.Lead)
assert_type(lead.qualify(at=at), sf.Lead)
assert_type(lead.disqualify(at=at, reason="spam"), sf.Lead)
assert_type(lead.log(touch), sf.Lead)
assert_type(lead.convert(pipeline, at=at, deal_id="D-3", value=money), sf.Deal)
assert_type(lead.mark_converted(deal), sf.Lead)
sf.Lead("L-2", at)  # type: ignore[call-arg]

# Errors
try:
    deal.advance(at=at)
except sf.TransitionError as error:
    assert_type(error.deal_id, str)
    assert_type(error.source, str | None)
    assert_type(error.target, str)
    assert_type(error.reasons, tuple[str, ...])
    assert_type(error.allowed, tuple[str, ...])
except sf.InvalidPipelineError as error:
    assert_type(error.stages, tuple[str, ...])
except sf.CurrencyMismatchError as error:
    assert_type(error.currencies, tuple[str, ...])

# Breakdowns
by_pair = sf.metrics.win_rate([deal], by=("owner", "product"))
assert_type(by_pair, sf.metrics.Breakdown[sf.metrics.Rate])
assert_type(by_pair.fields, tuple[str, ...])
assert_type(by_pair.missing, int)
sf.metrics.win_rate([deal], by=("owner", len))  # type: ignore[arg-type]
try:
    sf.metrics.win_rate([deal], by="region")
except sf.UnknownFieldError as error:
    assert_type(error.field, str)
    assert_type(error.known, tuple[str, ...])
    assert_type(error.suggestion, str | None)

# Unit economics: Money in, Money out; plain int or Decimal in, Decimal out; floats refused
assert_type(sf.metrics.cac(money, 3), sf.Money | None)
assert_type(sf.metrics.cac(30000, 12), Decimal | None)
assert_type(sf.metrics.ltv(Decimal(100), 0.8, 0.04), Decimal | None)
assert_type(sf.metrics.ltv(money, 0.8, 0.04), sf.Money | None)
assert_type(sf.metrics.net_revenue_retention(1000, 150, 50, 100), float | None)
sf.metrics.cac(1000.0, 3)  # type: ignore[call-overload]
sf.metrics.net_revenue_retention(1000.0, 150, 50, 100)  # type: ignore[arg-type]

# Lead conversion with the deals the leads became
lead = sf.Lead("L1", created_at=at)
assert_type(
    sf.metrics.lead_conversion([lead], [deal]),
    sf.metrics.Rate | sf.metrics.Breakdown[sf.metrics.Rate],
)

# Intervals and comparisons (issue 13)
km_days = sf.metrics.kaplan_meier([timedelta(days=1)], [True], transform="log")
assert_type(km_days.median_interval, tuple[timedelta | None, timedelta | None])
assert_type(km_days.survival_interval(timedelta(days=1)), tuple[float, float] | None)
km_plain = sf.metrics.kaplan_meier([1.0, 2.0], [1, 0], confidence=0.9)
assert_type(km_plain.percentile_interval(0.5), tuple[float | None, float | None])
sf.metrics.kaplan_meier([1.0], [1], transform="logit")  # type: ignore[call-overload]
comparison = sf.metrics.compare(sf.metrics.Rate.of(1, 2), sf.metrics.Rate.of(1, 3))
assert_type(comparison, sf.metrics.Comparison)
assert_type(comparison.p_value, float | None)
assert_type(sf.metrics.logrank(km_plain, km_plain), sf.metrics.Comparison)
assert_type(sf.metrics.compare_groups(by_pair), sf.metrics.GroupComparison)
