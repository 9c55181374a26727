"""Hypothesis strategies for salesflow's domain types, and a reference model of the rules.

The reference model (:func:`expected_refusals` and its helpers) restates the
pipeline rules of the contract (issue 2, section 3) from the pipeline's public
fields only. Tests compare the library against it; it never calls
``Pipeline.can_move``, ``allowed_targets`` or ``check``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

import salesflow as sf

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF")
CHANNELS = ("email", "call", "meeting", "demo", "event", "ad", "web")
GUARDED_CHANNELS = CHANNELS[:3]

# Sane years: every zone in tzdata has settled, whole-minute offsets here.
MIN_NAIVE = datetime(1990, 1, 1)
MAX_NAIVE = datetime(2080, 12, 31)

# --------------------------------------------------------------------- time


def is_ambiguous(value: datetime) -> bool:
    """True for a wall time whose UTC offset depends on ``fold`` (a DST fold or gap)."""
    return value.replace(fold=1 - value.fold).utcoffset() != value.utcoffset()


@functools.cache
def fixed_offsets() -> st.SearchStrategy[tzinfo]:
    """Fixed-offset zones from UTC-23:59 to UTC+23:59, in whole minutes."""
    return st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )


@functools.cache
def zones() -> st.SearchStrategy[tzinfo]:
    """UTC, fixed offsets, and IANA zones."""
    return st.just(UTC) | fixed_offsets() | st.timezones()


@functools.cache
def aware_datetimes(
    timezones: st.SearchStrategy[tzinfo] | None = None,
) -> st.SearchStrategy[datetime]:
    """Aware datetimes in 1990-2080, in any zone by default.

    Wall times in a DST fold are left out: Python never finds such a time equal
    to the same instant in another zone, and records store only the offset
    (see ``TestDealRecord.test_ambiguous_wall_time_round_trips``).
    """
    return st.datetimes(
        min_value=MIN_NAIVE,
        max_value=MAX_NAIVE,
        timezones=zones() if timezones is None else timezones,
        allow_imaginary=False,
    ).filter(lambda value: not is_ambiguous(value))


@functools.cache
def utc_datetimes() -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes in 1990-2080."""
    return aware_datetimes(st.just(UTC))


@functools.cache
def steps() -> st.SearchStrategy[timedelta]:
    """How far a clock moves between two events: zero (equal times are legal) up to 60 days."""
    return st.just(timedelta(0)) | st.timedeltas(timedelta(0), timedelta(days=60))


def in_zone(instant: datetime, zone: tzinfo) -> datetime:
    """*instant* as a wall time in *zone*, or in UTC where that wall time is ambiguous."""
    local = instant.astimezone(zone)
    return instant.astimezone(UTC) if is_ambiguous(local) else local


# --------------------------------------------------------------------- text


@functools.cache
def texts(*, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    """Any encodable unicode text."""
    return st.text(st.characters(codec="utf-8"), min_size=min_size, max_size=max_size)


@functools.cache
def non_blank() -> st.SearchStrategy[str]:
    """Text with at least one non-whitespace character (ids, channels, names)."""
    return texts(min_size=1).filter(lambda s: bool(s.strip()))


@functools.cache
def optional_texts() -> st.SearchStrategy[str | None]:
    """``None`` or any text."""
    return st.none() | texts()


@functools.cache
def stage_keys() -> st.SearchStrategy[str]:
    """Stage keys: letters, digits and a little punctuation, never a parenthesis.

    Display names made by :func:`pipelines` end in ``" (stage)"``, so a name can
    never collide with another stage's key.
    """
    return st.text(
        st.characters(categories=("L", "N"), include_characters=" -_&'./"),
        min_size=1,
        max_size=10,
    ).filter(lambda s: bool(s.strip()))


@functools.cache
def channels() -> st.SearchStrategy[str]:
    """A common channel, or any non-blank text."""
    return st.sampled_from(CHANNELS) | non_blank()


@functools.cache
def guarded_channels() -> st.SearchStrategy[str]:
    """Mostly the channels that the guards of :func:`pipelines` ask for."""
    return st.sampled_from(GUARDED_CHANNELS) | channels()


@functools.cache
def json_values() -> st.SearchStrategy[Any]:
    """JSON-native values (no tuples, no NaN), as attributes hold them."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | texts()
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts(), inner, max_size=3),
        max_leaves=6,
    )


@functools.cache
def attributes() -> st.SearchStrategy[dict[str, Any] | None]:
    """``None`` or a small mapping of JSON-native values."""
    return st.none() | st.dictionaries(texts(), json_values(), max_size=3)


# -------------------------------------------------------------------- money


@functools.cache
def amounts() -> st.SearchStrategy[Decimal]:
    """Finite decimals with 0 to 4 places, within a trillion either way."""
    return st.integers(0, 4).flatmap(
        lambda places: st.decimals(
            min_value=-(10**12),
            max_value=10**12,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )


@functools.cache
def currencies() -> st.SearchStrategy[str]:
    """A few ISO 4217 codes."""
    return st.sampled_from(CURRENCIES)


@functools.cache
def money(currency: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[sf.Money]:
    """Exact amounts in one of a few currencies."""
    return st.builds(sf.Money, amounts(), currencies() if currency is None else currency)


# ------------------------------------------------------------------- stages


@functools.cache
def probabilities() -> st.SearchStrategy[float | None]:
    """``None`` or a fraction in [0, 1]."""
    return st.none() | st.floats(0, 1)


@functools.cache
def rotting() -> st.SearchStrategy[timedelta | None]:
    """``None`` or a positive duration of up to a year, to the microsecond."""
    return st.none() | st.timedeltas(timedelta(microseconds=1), timedelta(days=365))


def draw_stage(draw: st.DrawFn, outcome: sf.Outcome, key: str) -> sf.Stage:
    """Draw the optional fields of a stage with this outcome and key."""
    return sf.Stage(
        key,
        name=draw(st.none() | st.just(f"{key} (stage)")),
        outcome=outcome,
        probability=draw(probabilities()),
        rotting_after=draw(rotting()),
    )


@st.composite
def stages(draw: st.DrawFn) -> sf.Stage:
    """A stage of any outcome, with every optional field sometimes set."""
    return draw_stage(draw, draw(st.sampled_from(sf.Outcome)), draw(stage_keys()))


# -------------------------------------------------------------------- pipelines


@functools.cache
def within() -> st.SearchStrategy[timedelta | None]:
    """The window of a ``RequireTouchpoint`` guard: ``None``, or zero to 30 days."""
    return st.none() | st.timedeltas(timedelta(0), timedelta(days=30))


def guards(keys: list[str]) -> st.SearchStrategy[sf.RequireTouchpoint | sf.RequireValue]:
    """A built-in guard on one of *keys*."""
    key = st.sampled_from(keys)
    return st.builds(sf.RequireValue, key) | st.builds(
        sf.RequireTouchpoint, key, st.sampled_from(GUARDED_CHANNELS), within=within()
    )


@st.composite
def pipelines(
    draw: st.DrawFn, *, with_guards: bool = True, max_open: int = 8, max_lost: int = 2
) -> sf.Pipeline:
    """A valid pipeline: 1-8 open stages, 1-2 won, 0-2 lost, in any order, random rules.

    ``lose_from`` is either unset or a non-empty subset of the open stages (so
    every lost stage stays reachable); guards, if any, are built-in ones on any stage.
    """
    n_open = draw(st.integers(1, max_open))
    n_won = draw(st.integers(1, 2))
    n_lost = draw(st.integers(0, max_lost))
    total = n_open + n_won + n_lost
    keys = draw(st.lists(stage_keys(), min_size=total, max_size=total, unique=True))
    outcomes = [sf.Outcome.OPEN] * n_open + [sf.Outcome.WON] * n_won + [sf.Outcome.LOST] * n_lost
    made = [draw_stage(draw, outcome, key) for outcome, key in zip(outcomes, keys, strict=True)]
    open_keys = keys[:n_open]
    lose_from = None
    if n_lost:
        lose_from = draw(st.none() | st.lists(st.sampled_from(open_keys), min_size=1, unique=True))
    chosen = []
    if with_guards:
        chosen = draw(st.lists(guards(keys), max_size=2))
    return sf.Pipeline(
        draw(non_blank()),
        draw(st.permutations(made)),
        allow_skip=draw(st.booleans()),
        allow_backward=draw(st.booleans()),
        allow_reopen=draw(st.booleans()),
        lose_from=lose_from,
        guards=chosen,
    )


# ------------------------------------------------------------ small records


def draw_touchpoint(
    draw: st.DrawFn, at: datetime, channel: st.SearchStrategy[str] | None = None
) -> sf.Touchpoint:
    """Draw a touchpoint at *at*, with every optional field sometimes set."""
    return sf.Touchpoint(
        at,
        draw(channels() if channel is None else channel),
        direction=draw(st.none() | st.sampled_from(["inbound", "outbound"])),
        campaign=draw(optional_texts()),
        cost=draw(st.none() | money()),
        note=draw(optional_texts()),
    )


@st.composite
def touchpoints(draw: st.DrawFn) -> sf.Touchpoint:
    """Touchpoints at any aware time, with every optional field sometimes set."""
    return draw_touchpoint(draw, draw(aware_datetimes()))


def stage_changes(keys: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[sf.StageChange]:
    """Stage changes (not tied to a pipeline) with every optional field sometimes set."""
    return st.builds(
        sf.StageChange,
        stage_keys() if keys is None else keys,
        aware_datetimes(),
        actor=optional_texts(),
        reason=optional_texts(),
        note=optional_texts(),
    )


@st.composite
def leads(draw: st.DrawFn) -> sf.Lead:
    """A lead taken through random status changes (illegal ones are skipped)."""
    created = draw(aware_datetimes())
    lead = sf.Lead(
        draw(non_blank()),
        created_at=created,
        source=draw(optional_texts()),
        owner=draw(optional_texts()),
        touchpoints=draw(st.lists(touchpoints(), max_size=3)),
        attributes=draw(attributes()),
    )
    clock = created
    actions = ["contact", "qualify", "disqualify", "log", "convert"]
    for action in draw(st.lists(st.sampled_from(actions), max_size=6)):
        clock += draw(steps())
        at = in_zone(clock, draw(zones()))
        with contextlib.suppress(sf.TransitionError):
            if action == "contact":
                lead = lead.contact(at=at)
            elif action == "qualify":
                lead = lead.qualify(at=at)
            elif action == "disqualify":
                lead = lead.disqualify(at=at, reason=draw(optional_texts()))
            elif action == "log":
                lead = lead.log(draw_touchpoint(draw, at))
            else:
                pipeline = sf.Pipeline.linear("Leads", ["New"])
                lead = lead.mark_converted(lead.convert(pipeline, at=at))
    return lead


# ---------------------------------------------------- the reference model


def open_keys(pipeline: sf.Pipeline) -> list[str]:
    """The open stage keys in order."""
    return [s.key for s in pipeline.stages if s.outcome is sf.Outcome.OPEN]


def outcome(pipeline: sf.Pipeline, key: str) -> sf.Outcome:
    """The outcome of the stage *key*."""
    return next(s.outcome for s in pipeline.stages if s.key == key)


def rank(pipeline: sf.Pipeline, key: str) -> int | None:
    """Progress: open stages 0, 1, ...; every won stage one past the last open; lost ``None``."""
    opened = open_keys(pipeline)
    if key in opened:
        return opened.index(key)
    return len(opened) if outcome(pipeline, key) is sf.Outcome.WON else None


def advance_target(pipeline: sf.Pipeline, source: str) -> str | None:
    """Where ``advance`` goes: the next open stage, or the first won stage; ``None`` if closed."""
    opened = open_keys(pipeline)
    if source not in opened:
        return None
    i = opened.index(source)
    if i + 1 < len(opened):
        return opened[i + 1]
    return next(s.key for s in pipeline.stages if s.outcome is sf.Outcome.WON)


def structural_refusals(pipeline: sf.Pipeline, source: str, target: str) -> int:
    """1 if ``move_to`` from *source* to *target* breaks a structural rule, else 0."""
    if source == target or outcome(pipeline, source) is not sf.Outcome.OPEN:
        return 1
    kind = outcome(pipeline, target)
    if kind is sf.Outcome.WON:
        return 0
    if kind is sf.Outcome.LOST:
        return int(pipeline.lose_from is not None and source not in pipeline.lose_from)
    opened = open_keys(pipeline)
    step = opened.index(target) - opened.index(source)
    if step == 1:
        return 0
    if step > 1:
        return int(not pipeline.allow_skip)
    return int(not pipeline.allow_backward)


def reopen_refusals(pipeline: sf.Pipeline, source: str, target: str) -> int:
    """How many reasons refuse reopening from *source* into *target*."""
    count = 0
    if outcome(pipeline, source) is sf.Outcome.OPEN or not pipeline.allow_reopen:
        count += 1
    if outcome(pipeline, target) is not sf.Outcome.OPEN:
        count += 1
    return count


def guard_refuses(guard: Any, deal: sf.Deal, target: str, at: datetime) -> bool:
    """Whether a built-in guard refuses *deal* entering *target* at *at*."""
    pipeline = deal.pipeline
    target_rank, guard_rank = rank(pipeline, target), rank(pipeline, guard.stage)
    if guard_rank is None:
        # Lost stages are not progress: a guard on one covers that stage only.
        applies = target == guard.stage
    else:
        # A guard on Y covers Y, every later stage and winning, never losing.
        applies = target_rank is not None and target_rank >= guard_rank
    if not applies:
        return False
    if isinstance(guard, sf.RequireValue):
        return deal.value is None
    if isinstance(guard, sf.RequireTouchpoint):
        # Durations are computed in UTC (contract, section 3), not in at's wall clock.
        earliest = None if guard.within is None else at.astimezone(UTC) - guard.within
        return not any(
            touch.channel == guard.channel
            and touch.at <= at
            and (earliest is None or touch.at >= earliest)
            for touch in deal.touchpoints
        )
    msg = f"the reference model knows only the built-in guards, not {guard!r}"
    raise NotImplementedError(msg)


def expected_refusals(deal: sf.Deal, target: str, at: datetime, *, reopen: bool = False) -> int:
    """How many reasons the rules give against moving *deal* into *target* at *at*.

    Zero means the move is allowed. One reason per broken structural rule, one
    for a time before the deal's last event, and one per refusing guard.
    """
    pipeline = deal.pipeline
    source = deal.history[-1].stage
    if reopen:
        count = reopen_refusals(pipeline, source, target)
    else:
        count = structural_refusals(pipeline, source, target)
    if at < deal.history[-1].at:
        count += 1
    return count + sum(guard_refuses(g, deal, target, at) for g in pipeline.guards)


def expected_allowed(deal: sf.Deal) -> tuple[str, ...]:
    """The keys ``move_to`` accepts now (at the deal's last event time), in pipeline order."""
    at = deal.history[-1].at
    return tuple(s.key for s in deal.pipeline.stages if not expected_refusals(deal, s.key, at))


def reopen_default(deal: sf.Deal) -> str:
    """Where ``reopen(to=None)`` goes: the open stage the deal closed from (or is in)."""
    history = deal.history
    if outcome(deal.pipeline, history[-1].stage) is sf.Outcome.OPEN:
        return history[-1].stage
    return history[-2].stage


Move = tuple[str, str | None]


def legal_moves(deal: sf.Deal, at: datetime) -> list[Move]:
    """Every move the reference model allows for *deal* at *at*, as ``(verb, stage)``."""
    pipeline = deal.pipeline
    source = deal.history[-1].stage
    moves: list[Move] = []
    nxt = advance_target(pipeline, source)
    if nxt is not None and not expected_refusals(deal, nxt, at):
        moves.append(("advance", None))
    for stage in pipeline.stages:
        if not expected_refusals(deal, stage.key, at):
            verb = {sf.Outcome.OPEN: "move_to", sf.Outcome.WON: "win", sf.Outcome.LOST: "lose"}
            moves.append((verb[stage.outcome], stage.key))
        if not expected_refusals(deal, stage.key, at, reopen=True):
            moves.append(("reopen", stage.key))
    return moves


def apply_move(deal: sf.Deal, move: Move, at: datetime, note: str | None) -> sf.Deal:
    """Make *move* on *deal* through the public API."""
    verb, stage = move
    calls: dict[str, Callable[[], sf.Deal]] = {
        "advance": lambda: deal.advance(at=at, note=note),
        "move_to": lambda: deal.move_to(stage or "", at=at, actor=note),
        "win": lambda: deal.win(at=at, stage=stage, note=note),
        "lose": lambda: deal.lose(at=at, stage=stage, reason=note),
        "reopen": lambda: deal.reopen(at=at, to=stage, note=note),
    }
    return calls[verb]()


def expected_closes(at: datetime) -> st.SearchStrategy[date]:
    """Expected close dates from a month before *at* to a year after it (UTC calendar)."""
    day = at.astimezone(UTC).date()
    return st.dates(day - timedelta(days=31), day + timedelta(days=366))


def draw_update(draw: st.DrawFn, deal: sf.Deal, at: datetime) -> sf.Deal:
    """*deal* updated at *at*: some of value, expected close and owner given (maybe unchanged)."""
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        # A deal keeps one currency through its changes (amounts are never mixed).
        seen = [c.old for c in deal.changes if c.field == "value"] + [deal.value]
        known = next((v.currency for v in seen if v is not None), None)
        currency = currencies() if known is None else st.just(known)
        fields["value"] = draw(st.none() | st.builds(sf.Money, amounts(), currency).map(abs))
    if draw(st.booleans()):
        fields["expected_close"] = draw(st.none() | expected_closes(at))
    if draw(st.booleans()):
        fields["owner"] = draw(st.none() | st.sampled_from(["ana", "bo", "cy"]))
    return deal.update(at=at, **fields)


@st.composite
def deals(
    draw: st.DrawFn,
    pipeline_strategy: st.SearchStrategy[sf.Pipeline] | None = None,
    *,
    max_moves: int = 8,
    updates: bool = False,
) -> sf.Deal:
    """A deal opened (or converted from a lead) in a random pipeline, then moved by legal moves.

    Touchpoints are logged along the way, some dated before the deal's last
    event; every field of the deal and its events is sometimes set. With
    *updates*, the deal also gets an expected close date, and its value,
    expected close date and owner are sometimes updated while it is open
    (see :func:`draw_update`).
    """
    pipeline = draw(pipelines() if pipeline_strategy is None else pipeline_strategy)
    clock = draw(utc_datetimes())
    at = in_zone(clock, draw(zones()))
    start = draw(st.sampled_from(open_keys(pipeline)))
    value = draw(st.none() | money().map(abs))  # deal values are never negative
    if draw(st.booleans()):
        lead = sf.Lead(
            draw(non_blank()),
            created_at=at - draw(steps()),
            source=draw(optional_texts()),
            touchpoints=[draw_touchpoint(draw, at) for _ in range(draw(st.integers(0, 2)))],
        )
        deal = lead.convert(
            pipeline,
            at=at,
            deal_id=draw(st.none() | non_blank()),
            value=value,
            owner=draw(optional_texts()),
            stage=start,
            attributes=draw(attributes()),
        )
    else:
        deal = pipeline.open_deal(
            draw(non_blank()),
            at=at,
            value=value,
            owner=draw(optional_texts()),
            source=draw(optional_texts()),
            stage=start,
            attributes=draw(attributes()),
            actor=draw(optional_texts()),
            note=draw(optional_texts()),
        )
    if updates and draw(st.booleans()):
        deal = deal.replace(expected_close=draw(expected_closes(at)))
    for _ in range(draw(st.integers(0, max_moves) | st.just(max_moves))):
        clock += draw(steps())
        at = in_zone(clock, draw(zones()))
        if draw(st.booleans()):
            back = draw(st.timedeltas(timedelta(0), timedelta(days=10)))
            deal = deal.log(draw_touchpoint(draw, in_zone(clock - back, UTC), guarded_channels()))
        if updates and deal.is_open and draw(st.booleans()):
            deal = draw_update(draw, deal, at)
        moves = legal_moves(deal, at)
        if not moves:
            break
        deal = apply_move(deal, draw(st.sampled_from(moves)), at, draw(optional_texts()))
    return deal


# ------------------------------------------------------------ mutations


Path = tuple[str | int, ...]


def paths(record: Any, prefix: Path = ()) -> list[Path]:
    """Every path into a nested JSON record (not the root itself)."""
    found: list[Path] = []
    items: list[tuple[str | int, Any]] = []
    if isinstance(record, dict):
        items = list(record.items())
    elif isinstance(record, list):
        items = list(enumerate(record))
    for key, value in items:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


@functools.cache
def garbage() -> st.SearchStrategy[Any]:
    """Values of the wrong shape: any strict-JSON type, empty containers included."""
    return (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | texts(max_size=6)
        | st.just("2026-01-01T00:00:00")
        | st.lists(st.integers(), max_size=2)
        | st.dictionaries(texts(max_size=3), st.integers(), max_size=2)
    )


def mutate(record: Any, path: Path, value: Any = None, *, drop: bool = False) -> Any:
    """A copy of *record* with the item at *path* dropped, or replaced by *value*."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(record, dict):
        copy: Any = dict(record)
    else:
        copy = list(record)
    if rest:
        copy[head] = mutate(record[head], rest, value, drop=drop)
    elif drop:
        del copy[head]
    else:
        copy[head] = value
    return copy


@st.composite
def mutations(draw: st.DrawFn, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A copy of *record* with one key or item dropped, or one value replaced by garbage.

    Returns a description of the change (for failure messages) and the new record.
    """
    path = draw(st.sampled_from(paths(record)))
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    if draw(st.booleans()):
        return f"dropped {where}", mutate(record, path, drop=True)
    value = draw(garbage())
    return f"set {where} = {value!r}", mutate(record, path, value)


# A fixed pipeline and random legal walks through it, for the metrics tests.
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SMALL = sf.Pipeline.linear("Small", ["A", "B", "C"], allow_skip=True)


@st.composite
def sample_deals(draw: st.DrawFn, max_size: int = 25) -> list[sf.Deal]:
    """Deals walked through SMALL by random legal moves."""
    out = []
    for i in range(draw(st.integers(0, max_size))):
        t = T0 + timedelta(days=draw(st.integers(0, 30)))
        deal = SMALL.open_deal(f"d{i}", at=t, stage=draw(st.sampled_from(["A", "B", "C"])))
        for _ in range(draw(st.integers(0, 5))):
            t += timedelta(hours=draw(st.integers(0, 100)))
            if deal.is_open:
                action = draw(st.sampled_from(["advance", "win", "lose", "back", "skip"]))
                if action == "advance":
                    deal = deal.advance(at=t)
                elif action == "win":
                    deal = deal.win(at=t)
                elif action == "lose":
                    deal = deal.lose(at=t)
                elif action == "back" and deal.stage.key != "A":
                    deal = deal.move_to("A", at=t)
                elif action == "skip" and deal.stage.key == "A":
                    deal = deal.move_to("C", at=t)
            elif draw(st.booleans()):
                deal = deal.reopen(at=t)
        out.append(deal)
    return out
