"""Records: every type round-trips through JSON-safe dicts, and malformed ones fail cleanly.

A malformed record must raise ``SchemaError`` (a ``ValueError``) whose ``.path``
says where the problem is; a well-formed record whose history breaks the
pipeline's rules raises ``TransitionError``; and no mangled record may leak an
``AttributeError``, ``KeyError`` or ``IndexError`` from inside the loader.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from tests.strategies import (
    Path,
    deals,
    draw_stage,
    leads,
    money,
    mutate,
    mutations,
    pipelines,
    stage_changes,
    stage_keys,
    touchpoints,
)

DAY = [datetime(2026, 3, d, 9, 30, tzinfo=UTC) for d in range(1, 29)]
NAIVE = "2026-03-01T09:30:00"


def via_json(record: dict[str, Any]) -> Any:
    """*record* written as strict JSON (no NaN) and read back."""
    return json.loads(json.dumps(record, allow_nan=False))


def attempt(call: Callable[[], Any]) -> Any:
    """The result of *call*, or the exception it raised."""
    try:
        return call()
    except Exception as exc:  # any leak is the finding
        return exc


def sales(**rules: Any) -> sf.Pipeline:
    """A small linear pipeline: Lead, Demo, Proposal, then Closed won / Closed lost."""
    return sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"], **rules)


def deal_record(*events: tuple[str, datetime], **fields: Any) -> dict[str, Any]:
    """A hand-written deal record for pipeline 'Sales' with these (stage, at) events."""
    history = [{"stage": stage, "at": at.isoformat()} for stage, at in events]
    return {"schema": 1, "id": "D-1", "pipeline": "Sales", "history": history, **fields}


def sample_deal() -> sf.Deal:
    """A deal with every kind of field set: value, owner, touchpoint, notes, a lost reason."""
    pipeline = sales()
    deal = pipeline.open_deal(
        "D-1",
        at=DAY[0],
        value=sf.Money("48000.00", "EUR"),
        owner="ana",
        source="webinar",
        attributes={"region": "EMEA", "seats": [10, 20]},
    )
    deal = deal.log(sf.Touchpoint(DAY[1], "call", cost=sf.Money("12.50", "EUR")))
    return deal.advance(at=DAY[2], actor="ana", note="demo booked").lose(at=DAY[3], reason="price")


def sample_lead() -> sf.Lead:
    """A lead that was contacted, then disqualified, with a touchpoint and attributes."""
    lead = sf.Lead("L-1", created_at=DAY[0], source="event", attributes={"size": 40})
    lead = lead.log(sf.Touchpoint(DAY[1], "email", direction="inbound"))
    return lead.contact(at=DAY[1]).disqualify(at=DAY[2], reason="no budget")


def sample_pipeline() -> sf.Pipeline:
    """A pipeline with both built-in guards, a stage probability and a rotting time."""
    return sf.Pipeline(
        "Sales",
        [
            sf.Stage("Lead", probability=0.1, rotting_after=timedelta(days=14)),
            sf.Stage("Demo", "Product demo", probability=0.4),
            sf.Stage("Won", outcome="won"),
            sf.Stage("Lost", outcome="lost"),
        ],
        allow_skip=True,
        guards=[
            sf.RequireValue("Demo"),
            sf.RequireTouchpoint("Won", "meeting", within=timedelta(days=30)),
        ],
    )


def assert_clean_failure(exc: BaseException, mutation: str) -> None:
    """A loader's error must be one of salesflow's, and a SchemaError must say where."""
    assert isinstance(exc, sf.SalesflowError), f"{mutation}: leaked {exc!r}"
    if isinstance(exc, sf.SchemaError):
        assert exc.path.startswith("$"), f"{mutation}: path {exc.path!r}"


class TestRecordMethods:
    """The contract's promise that every domain object has to_dict / from_dict."""

    @pytest.mark.parametrize(
        "cls",
        [sf.Money, sf.Stage, sf.Touchpoint, sf.StageChange, sf.Pipeline, sf.Deal, sf.Lead],
        ids=lambda cls: cls.__name__,
    )
    def test_type_has_record_methods(self, cls: type) -> None:
        """Each domain type offers to_dict() and from_dict() of its own."""
        assert callable(getattr(cls, "to_dict", None))
        assert callable(getattr(cls, "from_dict", None))

    @pytest.mark.parametrize("make", [sample_pipeline, sample_lead], ids=lambda f: f.__name__)
    def test_records_carry_schema_version_1(self, make: Callable[[], Any]) -> None:
        """Pipeline and lead records start with "schema": 1."""
        assert make().to_dict()["schema"] == 1

    def test_deal_records_carry_schema_version_2(self) -> None:
        """Deal records are at version 2 since they carry expected_close and changes."""
        assert sample_deal().to_dict()["schema"] == 2


class TestMoneyRecord:
    """Money.to_dict / Money.from_dict."""

    @given(money())
    def test_round_trips_exactly(self, amount: sf.Money) -> None:
        """An amount comes back equal, with the same digits and exponent, through JSON."""
        record = via_json(amount.to_dict())
        back = sf.Money.from_dict(record)
        assert back == amount
        assert str(back.amount) == str(amount.amount)
        assert back.currency == amount.currency

    @given(money())
    def test_amount_is_written_as_text(self, amount: sf.Money) -> None:
        """The amount is a decimal string, never a float that would lose cents."""
        assert isinstance(amount.to_dict()["amount"], str)

    @pytest.mark.parametrize(
        ("record", "path"),
        [
            ({"currency": "USD"}, "$.amount"),
            ({"amount": "1.00"}, "$.currency"),
            ({"amount": "twelve", "currency": "USD"}, "$.amount"),
            ({"amount": 1.5, "currency": "USD"}, "$.amount"),
            ({"amount": "NaN", "currency": "USD"}, "$.amount"),
            ({"amount": "1.00", "currency": "usd"}, "$.currency"),
            ({"amount": "1.00", "currency": "USD", "rate": 2}, "$.rate"),
        ],
        ids=[
            "missing-amount",
            "missing-currency",
            "not-a-number",
            "float",
            "nan",
            "lower",
            "extra",
        ],
    )
    def test_malformed_record_raises_schema_error(self, record: Any, path: str) -> None:
        """A bad money record raises SchemaError naming the field, not KeyError or TypeError."""
        with pytest.raises(sf.SchemaError) as info:
            sf.Money.from_dict(record)
        assert info.value.path.startswith(path)

    @given(money(), st.data())
    def test_mangled_record_fails_cleanly(self, amount: sf.Money, data: st.DataObject) -> None:
        """Dropping a key or writing garbage gives a valid Money or a salesflow error."""
        mutation, record = data.draw(mutations(amount.to_dict()))
        result = attempt(lambda: sf.Money.from_dict(record))
        if isinstance(result, BaseException):
            assert_clean_failure(result, mutation)
        else:
            assert isinstance(result, sf.Money)
            assert sf.Money.from_dict(via_json(result.to_dict())) == result


class TestStageRecord:
    """Stages round-trip inside their pipeline's record."""

    @given(st.sampled_from(sf.Outcome), stage_keys(), st.data())
    def test_round_trips_in_a_pipeline(
        self, outcome: sf.Outcome, key: str, data: st.DataObject
    ) -> None:
        """Key, name, outcome, probability and rotting time all come back."""
        stage = draw_stage(data.draw, outcome, key)
        others = [sf.Stage("filler (open)"), sf.Stage("filler (won)", outcome="won")]
        pipeline = sf.Pipeline("Holder", [stage, *others])
        back = sf.Pipeline.from_dict(via_json(pipeline.to_dict()))
        assert back.stages[0] == stage
        assert back.stages[0].rotting_after == stage.rotting_after
        assert back.stages[0].probability == stage.probability


class TestTouchpointRecord:
    """Touchpoints round-trip inside deal and lead records."""

    @given(st.lists(touchpoints(), min_size=1, max_size=4))
    def test_round_trip_on_a_deal(self, touches: list[sf.Touchpoint]) -> None:
        """Every field of every touchpoint, in time order, comes back on the deal."""
        pipeline = sales()
        deal = pipeline.open_deal("D-1", at=DAY[0])
        for touch in touches:
            deal = deal.log(touch)
        back = sf.Deal.from_dict(via_json(deal.to_dict()), pipeline)
        assert back.touchpoints == deal.touchpoints
        assert sorted(back.touchpoints, key=lambda t: t.at) == list(back.touchpoints)

    @given(st.lists(touchpoints(), min_size=1, max_size=4))
    def test_round_trip_on_a_lead(self, touches: list[sf.Touchpoint]) -> None:
        """Every field of every touchpoint comes back on the lead."""
        lead = sf.Lead("L-1", created_at=DAY[0], touchpoints=touches)
        back = sf.Lead.from_dict(via_json(lead.to_dict()))
        assert back.touchpoints == lead.touchpoints


class TestStageChangeRecord:
    """Stage changes round-trip inside a deal's history."""

    @given(stage_changes())
    def test_any_opening_event_round_trips(self, change: sf.StageChange) -> None:
        """Stage, time (any zone) and actor, reason and note come back."""
        pipeline = sf.Pipeline.linear("Holder", [change.stage], won="won (stage)", lost=None)
        deal = sf.Deal.from_history(pipeline, "D-1", [change])
        back = sf.Deal.from_dict(via_json(deal.to_dict()), pipeline)
        assert back.history == (change,)
        assert back.history[0].at.utcoffset() == change.at.utcoffset()

    @given(deals())
    def test_history_round_trips(self, deal: sf.Deal) -> None:
        """Every event of a random deal's history comes back, in order."""
        back = sf.Deal.from_dict(via_json(deal.to_dict()), deal.pipeline)
        assert back.history == deal.history
        assert [e.actor for e in back.history] == [e.actor for e in deal.history]
        assert [e.reason for e in back.history] == [e.reason for e in deal.history]
        assert [e.note for e in back.history] == [e.note for e in deal.history]


class TestPipelineRecord:
    """Pipeline.to_dict / Pipeline.from_dict."""

    @given(pipelines())
    def test_round_trips(self, pipeline: sf.Pipeline) -> None:
        """A random pipeline, with its rules and built-in guards, comes back equal."""
        record = pipeline.to_dict()
        back = sf.Pipeline.from_dict(via_json(record))
        assert back == pipeline
        assert back.guards == pipeline.guards
        assert (back.allow_skip, back.allow_backward, back.allow_reopen, back.lose_from) == (
            pipeline.allow_skip,
            pipeline.allow_backward,
            pipeline.allow_reopen,
            pipeline.lose_from,
        )
        assert back.to_dict() == record
        assert record["schema"] == 1

    @pytest.mark.parametrize(
        "make",
        [sf.templates.b2b, sf.templates.investor, sf.templates.hubspot_default, sample_pipeline],
        ids=lambda f: f.__name__,
    )
    def test_templates_round_trip(self, make: Callable[[], sf.Pipeline]) -> None:
        """The shipped templates and a guarded pipeline come back equal."""
        pipeline = make()
        assert sf.Pipeline.from_dict(via_json(pipeline.to_dict())) == pipeline

    def test_plain_callable_guard_does_not_serialise(self) -> None:
        """A plain function guard makes to_dict raise NotSerializableError, saying why."""

        def weekdays_only(deal: sf.Deal, target: sf.Stage, at: datetime) -> str | None:
            return "not on weekends" if at.weekday() >= 5 else None

        pipeline = sales(guards=[weekdays_only])
        with pytest.raises(sf.NotSerializableError, match=r"plain callable.*not serialise"):
            pipeline.to_dict()

    def test_plain_callable_guard_can_be_passed_again(self) -> None:
        """from_dict(data, guards=[...]) puts a plain guard back after the built-in ones."""

        def never(deal: sf.Deal, target: sf.Stage, at: datetime) -> str | None:
            return None

        pipeline = sample_pipeline()
        back = sf.Pipeline.from_dict(via_json(pipeline.to_dict()), guards=[never])
        assert back.guards == (*pipeline.guards, never)

    def test_not_serializable_error_is_a_type_error(self) -> None:
        """NotSerializableError derives from SalesflowError and TypeError."""
        assert issubclass(sf.NotSerializableError, sf.SalesflowError)
        assert issubclass(sf.NotSerializableError, TypeError)

    @pytest.mark.parametrize(
        ("path", "value", "where"),
        [
            (("schema",), 2, "$.schema"),
            (("name",), None, "$.name"),
            (("stages",), None, "$.stages"),
            (("colour",), "red", "$.colour"),
            (("stages",), {"key": "Lead"}, "$.stages"),
            (("stages", 0, "key"), None, "$.stages[0].key"),
            (("stages", 0, "outcome"), "maybe", "$.stages[0].outcome"),
            (("stages", 0, "probability"), 40, "$.stages[0]"),
            (("stages", 0, "rotting_after"), "two weeks", "$.stages[0].rotting_after"),
            (("stages", 0, "colour"), "red", "$.stages[0]"),
            (("allow_skip",), "yes", "$.allow_skip"),
            (("guards", 1, "type"), "weekdays_only", "$.guards[1]"),
            (("guards", 0, "stage"), None, "$.guards[0]"),
            (("guards", 1, "within"), "a month", "$.guards[1]"),
            (("guards", 0), 5, "$.guards[0]"),
            (("guards",), 5, "$.guards"),
            (("name",), 5, "$.name"),
            (("lose_from",), 5, "$.lose_from"),
            (("stages", 0, "key"), 5, "$.stages[0].key"),
        ],
        ids=[
            "schema-2",
            "missing-name",
            "missing-stages",
            "unknown-field",
            "stages-not-a-list",
            "missing-stage-key",
            "unknown-outcome",
            "percent-probability",
            "rotting-not-seconds",
            "unknown-stage-field",
            "rule-not-bool",
            "unknown-guard-type",
            "guard-missing-stage",
            "guard-within-not-seconds",
            "guard-not-a-mapping",
            "guards-not-a-list",
            "name-wrong-type",
            "lose-from-wrong-type",
            "stage-key-wrong-type",
        ],
    )
    def test_malformed_record_raises_schema_error(self, path: Path, value: Any, where: str) -> None:
        """A malformed pipeline record raises SchemaError whose path names the spot."""
        record = via_json(sample_pipeline().to_dict())
        bad = mutate(record, path, drop=True) if value is None else mutate(record, path, value)
        with pytest.raises(sf.SchemaError) as info:
            sf.Pipeline.from_dict(bad)
        assert info.value.path.startswith(where), info.value.path
        assert isinstance(info.value, ValueError)

    def test_broken_definition_raises_invalid_pipeline_error(self) -> None:
        """A well-formed record of a pipeline with no won stage names the stages."""
        record = via_json(sample_pipeline().to_dict())
        record["stages"] = [s for s in record["stages"] if s.get("outcome") != "won"]
        record["guards"] = []
        with pytest.raises(sf.InvalidPipelineError) as info:
            sf.Pipeline.from_dict(record)
        assert set(info.value.stages) == {"Lead", "Demo", "Lost"}

    @given(pipelines(), st.data())
    def test_mangled_record_fails_cleanly(self, pipeline: sf.Pipeline, data: st.DataObject) -> None:
        """Dropping a key or writing garbage gives a valid pipeline or a salesflow error."""
        mutation, record = data.draw(mutations(via_json(pipeline.to_dict())))
        result = attempt(lambda: sf.Pipeline.from_dict(record))
        if isinstance(result, BaseException):
            assert_clean_failure(result, mutation)
        else:
            assert isinstance(result, sf.Pipeline), mutation
            assert sf.Pipeline.from_dict(via_json(result.to_dict())) == result


class TestDealRecord:
    """Deal.to_dict / Deal.from_dict."""

    @given(deals())
    def test_round_trips(self, deal: sf.Deal) -> None:
        """A deal built by random legal moves comes back equal through JSON."""
        record = deal.to_dict()
        back = sf.Deal.from_dict(via_json(record), deal.pipeline)
        assert back == deal
        assert (back.value, back.owner, back.source) == (deal.value, deal.owner, deal.source)
        assert (back.lead_id, back.lead_created_at) == (deal.lead_id, deal.lead_created_at)
        assert dict(back.attributes) == dict(deal.attributes)
        assert back.stage == deal.stage
        assert back.to_dict() == record
        assert record["schema"] == 2
        assert record["pipeline"] == deal.pipeline.name

    @given(deals())
    def test_round_trips_with_guards_replayed(self, deal: sf.Deal) -> None:
        """A deal built legally also loads when its guards are replayed."""
        back = sf.Deal.from_dict(via_json(deal.to_dict()), deal.pipeline, guards=True)
        assert back == deal

    def test_ambiguous_wall_time_round_trips(self) -> None:
        """A deal opened in the repeated hour of a DST change comes back equal."""
        new_york = ZoneInfo("America/New_York")
        # 1:30 happens twice on 1 November 2026; fold=1 is the second, in EST.
        at = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=new_york)
        pipeline = sales()
        deal = pipeline.open_deal("D-1", at=at)
        back = sf.Deal.from_dict(via_json(deal.to_dict()), pipeline)
        assert back.created_at.astimezone(UTC) == at.astimezone(UTC)
        assert back == deal

    def test_non_json_attribute_does_not_serialise(self) -> None:
        """An attribute value that JSON cannot hold raises NotSerializableError."""
        deal = sales().open_deal("D-1", at=DAY[0], attributes={"blob": object()})
        with pytest.raises(sf.NotSerializableError, match="attributes"):
            deal.to_dict()

    @pytest.mark.parametrize(
        ("path", "value", "where"),
        [
            (("history", 0, "at"), NAIVE, "$.history[0].at"),
            (("history", 1, "at"), 1767225600, "$.history[1].at"),
            (("history", 1, "at"), "yesterday", "$.history[1].at"),
            (("touchpoints", 0, "at"), NAIVE, "$.touchpoints[0].at"),
            (("lead_created_at",), NAIVE, "$.lead_created_at"),
            (("id",), None, "$.id"),
            (("history",), None, "$.history"),
            (("history", 0, "at"), None, "$.history[0].at"),
            (("touchpoints", 0, "channel"), None, "$.touchpoints[0].channel"),
            (("colour",), "red", "$.colour"),
            (("history", 0, "colour"), "red", "$.history[0]"),
            (("schema",), 3, "$.schema"),
            (("value",), "48000", "$.value"),
            (("value", "amount"), "lots", "$.value"),
            (("history",), {"stage": "Lead"}, "$.history"),
            (("pipeline",), "Other", "$.pipeline"),
            (("id",), 5, "$.id"),
            (("id",), "  ", "$.id"),
            (("history",), [], "$.history"),
            (("owner",), 5, "$.owner"),
            (("history", 0, "stage"), 5, "$.history[0].stage"),
        ],
        ids=[
            "naive-event-time",
            "event-time-wrong-type",
            "event-time-not-iso",
            "naive-touchpoint-time",
            "naive-lead-created-at",
            "missing-id",
            "missing-history",
            "missing-event-time",
            "missing-touchpoint-channel",
            "unknown-field",
            "unknown-event-field",
            "schema-2",
            "value-wrong-type",
            "amount-not-a-number",
            "history-not-a-list",
            "other-pipeline",
            "id-wrong-type",
            "blank-id",
            "empty-history",
            "owner-wrong-type",
            "stage-wrong-type",
        ],
    )
    def test_malformed_record_raises_schema_error(self, path: Path, value: Any, where: str) -> None:
        """A malformed deal record raises SchemaError whose path names the spot."""
        deal = sample_deal()
        record = via_json(deal.to_dict())
        record["lead_created_at"] = DAY[0].isoformat()
        bad = mutate(record, path, drop=True) if value is None else mutate(record, path, value)
        with pytest.raises(sf.SchemaError) as info:
            sf.Deal.from_dict(bad, deal.pipeline)
        assert info.value.path.startswith(where), info.value.path
        assert isinstance(info.value, ValueError)

    @pytest.mark.parametrize(
        ("pipeline", "events"),
        [
            (sales(), [("Lead", DAY[0]), ("Proposal", DAY[1])]),
            (sales(), [("Lead", DAY[1]), ("Demo", DAY[0])]),
            (sales(), [("Closed won", DAY[0])]),
            (sales(), [("Lead", DAY[0]), ("Lead", DAY[1])]),
            (sales(), [("Lead", DAY[0]), ("Closed won", DAY[1]), ("Closed lost", DAY[2])]),
            (sales(), [("Lead", DAY[0]), ("Closed won", DAY[1]), ("Closed won", DAY[2])]),
            (
                sales(allow_reopen=False),
                [("Lead", DAY[0]), ("Closed lost", DAY[1]), ("Lead", DAY[2])],
            ),
            (sales(allow_backward=False), [("Lead", DAY[0]), ("Demo", DAY[1]), ("Lead", DAY[2])]),
            (sales(lose_from=["Demo"]), [("Lead", DAY[0]), ("Closed lost", DAY[1])]),
        ],
        ids=[
            "skip",
            "time-goes-back",
            "opens-closed",
            "same-stage-twice",
            "won-then-lost",
            "won-twice",
            "reopen-forbidden",
            "backward-forbidden",
            "lose-from-forbidden",
        ],
    )
    def test_history_breaking_the_rules_raises_transition_error(
        self, pipeline: sf.Pipeline, events: list[tuple[str, datetime]]
    ) -> None:
        """A well-formed record whose history the pipeline forbids raises TransitionError."""
        with pytest.raises(sf.TransitionError) as info:
            sf.Deal.from_dict(deal_record(*events), pipeline)
        assert info.value.deal_id == "D-1"
        assert info.value.reasons

    def test_legal_history_with_those_stages_loads(self) -> None:
        """The same stages in a legal order load, so the refusals above are about the rules."""
        events = [("Lead", DAY[0]), ("Demo", DAY[1]), ("Lead", DAY[1]), ("Closed lost", DAY[2])]
        deal = sf.Deal.from_dict(deal_record(*events), sales())
        assert [e.stage for e in deal.history] == [stage for stage, _ in events]
        assert deal.is_lost

    def test_guards_are_replayed_only_when_asked(self) -> None:
        """A history that a guard would refuse loads, unless guards=True."""
        pipeline = sales(guards=[sf.RequireValue("Demo")])
        record = deal_record(("Lead", DAY[0]), ("Demo", DAY[1]))
        assert sf.Deal.from_dict(record, pipeline).stage.key == "Demo"
        with pytest.raises(sf.TransitionError) as info:
            sf.Deal.from_dict(record, pipeline, guards=True)
        assert len(info.value.reasons) == 1

    @given(deals().filter(lambda deal: len(deal.history) >= 2), st.data())
    def test_event_before_its_predecessor_is_refused(
        self, deal: sf.Deal, data: st.DataObject
    ) -> None:
        """Dating any event before the one it follows makes the record illegal."""
        i = data.draw(st.integers(1, len(deal.history) - 1))
        earlier = deal.history[i - 1].at - timedelta(seconds=1)
        record = mutate(via_json(deal.to_dict()), ("history", i, "at"), earlier.isoformat())
        with pytest.raises(sf.TransitionError) as info:
            sf.Deal.from_dict(record, deal.pipeline)
        assert info.value.deal_id == deal.id

    @given(deals(), st.data())
    def test_mangled_record_fails_cleanly(self, deal: sf.Deal, data: st.DataObject) -> None:
        """Dropping a key or writing garbage gives a valid deal or a salesflow error."""
        mutation, record = data.draw(mutations(via_json(deal.to_dict())))
        pipeline = deal.pipeline
        result = attempt(lambda: sf.Deal.from_dict(record, pipeline))
        if isinstance(result, BaseException):
            assert_clean_failure(result, mutation)
        else:
            assert isinstance(result, sf.Deal), mutation
            pipeline.check(result)
            assert sf.Deal.from_dict(via_json(result.to_dict()), pipeline) == result


class TestLeadRecord:
    """Lead.to_dict / Lead.from_dict."""

    @given(leads())
    def test_round_trips(self, lead: sf.Lead) -> None:
        """A lead with a random status history comes back equal through JSON."""
        record = lead.to_dict()
        back = sf.Lead.from_dict(via_json(record))
        assert back == lead
        assert back.history == lead.history
        assert back.status is lead.status
        assert back.to_dict() == record
        assert record["schema"] == 1

    @pytest.mark.parametrize(
        ("path", "value", "where"),
        [
            (("created_at",), NAIVE, "$.created_at"),
            (("created_at",), 5, "$.created_at"),
            (("id",), None, "$.id"),
            (("created_at",), None, "$.created_at"),
            (("history", 1, "at"), NAIVE, "$.history[1].at"),
            (("history", 1, "status"), "promising", "$.history[1].status"),
            (("touchpoints", 0, "direction"), "sideways", "$.touchpoints[0]"),
            (("attributes",), 5, "$.attributes"),
            (("schema",), 2, "$.schema"),
            (("colour",), "red", "$.colour"),
            (("id",), 5, "$.id"),
            (("source",), 5, "$.source"),
        ],
        ids=[
            "naive-created-at",
            "created-at-wrong-type",
            "missing-id",
            "missing-created-at",
            "naive-status-time",
            "unknown-status",
            "bad-direction",
            "attributes-wrong-type",
            "schema-2",
            "unknown-field",
            "id-wrong-type",
            "source-wrong-type",
        ],
    )
    def test_malformed_record_raises_schema_error(self, path: Path, value: Any, where: str) -> None:
        """A malformed lead record raises SchemaError whose path names the spot."""
        record = via_json(sample_lead().to_dict())
        bad = mutate(record, path, drop=True) if value is None else mutate(record, path, value)
        with pytest.raises(sf.SchemaError) as info:
            sf.Lead.from_dict(bad)
        assert info.value.path.startswith(where), info.value.path
        assert isinstance(info.value, ValueError)

    def test_illegal_status_history_is_refused(self) -> None:
        """A converted lead that becomes new again is refused with a ValueError from salesflow."""
        record = via_json(sample_lead().to_dict())
        record["history"] = [
            {"status": "new", "at": DAY[0].isoformat()},
            {"status": "converted", "at": DAY[1].isoformat()},
            {"status": "new", "at": DAY[2].isoformat()},
        ]
        with pytest.raises(sf.SalesflowError) as info:
            sf.Lead.from_dict(record)
        assert isinstance(info.value, ValueError)

    @given(leads(), st.data())
    def test_mangled_record_fails_cleanly(self, lead: sf.Lead, data: st.DataObject) -> None:
        """Dropping a key or writing garbage gives a valid lead or a salesflow error."""
        mutation, record = data.draw(mutations(via_json(lead.to_dict())))
        result = attempt(lambda: sf.Lead.from_dict(record))
        if isinstance(result, BaseException):
            assert_clean_failure(result, mutation)
        else:
            assert isinstance(result, sf.Lead), mutation
            assert sf.Lead.from_dict(via_json(result.to_dict())) == result
