"""The ``salesflow report`` command that ``inspect`` suggests for a file it has profiled.

Guesses, each stated in a note so that the user can check it: the format
(one row per deal id: a deal snapshot; several: an event log; a lead id and
no stage: a lead table), the columns (by names that CRM exports use), the
pipeline (won and lost stages by name, open stages in the order their rows'
dates suggest), and the options the cells call for (time zone, currency,
decimal comma, undated rows, conflicting rows).
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import attrs

from ._cli_inspect import Column, Profile
from .io import DEAL_COLUMNS, EVENT_COLUMNS, LEAD_COLUMNS, SALESFORCE_HISTORY_COLUMNS

__all__ = ["Advice", "suggest"]

#: Field -> normalised column names that mean it, best first.
_ALIASES: dict[str, tuple[str, ...]] = {
    "deal_id": ("dealid", "opportunityid", "oppid", "opportunity", "recordid", "deal", "id"),
    "lead_id": ("leadid", "mqlid", "lead", "contactid"),
    "stage": ("stage", "dealstage", "stagename", "opportunitystage", "pipelinestage", "status"),
    "created_at": (
        "createdat",
        "createdate",
        "createddate",
        "created",
        "createdon",
        "opendate",
        "firstcontactdate",
        "firstcontact",
    ),
    "engaged_at": ("engagedat", "engagedate", "engaged"),
    "won_at": ("wonat", "wondate", "won", "convertedat", "conversiondate", "closedat", "closedate"),
    "opened_at": ("openedat", "opendate", "opened"),
    "closed_at": ("closedat", "closedate", "closeddate", "closed", "closedon"),
    "at": ("at", "timestamp", "changedat", "eventtime", "enteredat", "date", "time", "datetime"),
    "value": ("value", "amount", "closevalue", "dealvalue", "dealamount", "revenue"),
    "currency": ("currency", "currencyisocode", "currencycode"),
    "owner": ("owner", "dealowner", "salesagent", "agent", "salesrep", "rep", "ownername"),
    "source": ("source", "leadsource", "origin", "channel", "dealsource", "utmsource"),
    "lost_reason": ("lostreason", "closedlostreason", "lossreason", "reasonlost"),
}
_DATES = {"created_at", "engaged_at", "closed_at", "at", "won_at", "opened_at"}
_WON = re.compile(r"\b(won|win)\b|closed[\s_-]*won", re.IGNORECASE)
_LOST = re.compile(r"\b(lost|lose|dead|disqualified)\b|closed[\s_-]*lost", re.IGNORECASE)
_DATE_WORDS = re.compile(r"(dateentered|entered|date|at|on|time)$|^(dateentered|entered|date)")
#: The names ``--by`` reads from the deal itself: an attribute of the same name would be hidden.
_BUILT_IN = {
    "owner",
    "source",
    "currency",
    "stage",
    "pipeline",
    "lost_reason",
    "outcome",
    "lead_id",
}
_MAX_STAGES = 30


@attrs.frozen
class Advice:
    """The suggested command, what the file looks like, and the guesses to check."""

    argv: tuple[str, ...]
    shape: str
    notes: tuple[str, ...]
    stage_column: str | None

    @property
    def command(self) -> str:
        """The command as one shell line."""
        return shlex.join(self.argv)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def _fits(field: str, column: Column) -> bool:
    if field in _DATES:
        return column.is_date
    if field == "value":
        return column.is_number
    return column.kind != "empty"


def _find(found: Profile, field: str, taken: set[str]) -> Column | None:
    """The column that most likely holds *field*, by its name, of a fitting type."""
    best: tuple[int, Column] | None = None
    for column in found.columns:
        name = _norm(column.name)
        if column.name in taken or name not in _ALIASES[field] or not _fits(field, column):
            continue
        rank = _ALIASES[field].index(name)
        if best is None or rank < best[0]:
            best = (rank, column)
    return None if best is None else best[1]


def _stage_column(found: Profile) -> Column | None:
    named = _find(found, "stage", set())
    if named is not None and len(named.distinct) <= _MAX_STAGES:
        return named
    # A text column of a few labels, some of which read as won or lost.
    for column in found.columns:
        labels = column.distinct
        if (
            column.kind == "text"
            and 2 <= len(labels) <= _MAX_STAGES
            and any(_WON.search(v) or _LOST.search(v) for v in labels)
        ):
            return column
    return None


def _values(found: Profile, column: Column) -> list[str]:
    i = found.index(column.name)
    return [row[i] if i < len(row) else "" for row in found.rows]


@attrs.define
class _Builder:
    """The flags and notes being gathered for one file."""

    found: Profile
    shown: str
    flags: list[str] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)
    mapped: dict[str, str] = attrs.field(factory=dict)  # field -> column
    stage_dates: dict[str, str] = attrs.field(factory=dict)  # stage label -> column

    def map(self, fields: Sequence[str], defaults: dict[str, str]) -> None:
        """Map each field to a column by its name; ignore default-named columns of the wrong type."""
        taken = set(self.mapped.values())
        for field in fields:
            if field in self.mapped:
                continue
            column = _find(self.found, field, taken)
            if column is not None:
                self.mapped[field] = column.name
                taken.add(column.name)
        for field, column_name in self.mapped.items():
            if defaults.get(field) != column_name:
                self.flags += ["--column", f"{field}={column_name}"]
        for label, column_name in self.stage_dates.items():
            self.flags += ["--stage-date", f"{label}={column_name}"]
        for field, default in defaults.items():
            if field not in self.mapped and self.found.column(default) is not None:
                # A column with the default name that is not that field: the loader must not read it.
                self.flags += ["--column", f"{field}="]
                self.notes.append(
                    f"column {default!r} is not read as {field} (its cells do not fit)"
                )

    def dates(self) -> list[Column]:
        """The mapped date columns."""
        names = [c for f, c in self.mapped.items() if f in _DATES]
        names += list(self.stage_dates.values())
        return [c for n in names if (c := self.found.column(n)) is not None]

    def reading(self) -> None:
        """The options the cells call for: encoding, zone, formats, currency, decimal mark."""
        found = self.found
        if found.encoding != "utf-8":
            self.flags += ["--encoding", found.encoding]
            self.notes.append(f"--encoding {found.encoding} is a guess: the file is not UTF-8")
        dates = self.dates()
        formats = {c.format for c in dates if c.format}
        if len(formats) == 1:
            fmt = formats.pop()
            self.flags += ["--timestamp-format", fmt]
            ambiguous = [c.name for c in dates if c.formats and len(c.formats) > 1]
            if ambiguous:
                self.notes.append(
                    f"the dates of {', '.join(ambiguous)} read both day-first and month-first; "
                    f"--timestamp-format {fmt} is a guess"
                )
        if any(c.naive for c in dates):
            self.flags += ["--timezone", "UTC"]
            self.notes.append(
                "--timezone UTC: the dates carry no UTC offset; give the zone they were recorded in"
            )
        value = found.column(self.mapped.get("value"))
        if value is None:
            return
        if value.decimal_mark == ",":
            self.flags += ["--decimal", ","]
        if value.negative:
            self.notes.append(
                f"{value.negative:,} negative values in {value.name!r}: add --allow-negative "
                "if they are real (refunds), else they are refused"
            )
        if "currency" not in self.mapped:
            self.flags += ["--currency", "USD"]
            self.notes.append(
                f"--currency USD is an assumption: the file has no currency column; "
                f"edit it to the currency of {value.name!r}"
            )

    def attributes(self, rows: int) -> None:
        """Text columns of repeated values (not ids) become attributes, for ``--by``."""
        used = {*self.mapped.values(), *self.stage_dates.values()}
        for column in self.found.columns:
            if column.name in used or column.kind != "text":
                continue
            distinct = len(column.distinct)
            # Repeated values, not ids: at most half as many as rows (or fewer than rows, in a small file).
            if not 2 <= distinct <= min(1000, rows // 2 if rows >= 20 else rows - 1):
                continue
            name = column.name
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                name = re.sub(r"\W+", "_", name.strip()).strip("_").lower() or "attribute"
                self.flags += ["--attribute", f"{column.name}={name}"]
            elif name not in _BUILT_IN:
                self.flags += ["--attribute", name]
            else:
                continue
            self.notes.append(f"--attribute {column.name}: {distinct:,} values; try --by {name}")

    def advice(self, shape: str, stage: Column | None, fmt: str) -> Advice:
        argv = ("salesflow", "report", self.shown, "--format", fmt, *self.flags)
        return Advice(argv, shape, tuple(self.notes), None if stage is None else stage.name)


def _closed(labels: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """The labels read as won, as lost, and the rest (open), each most frequent first."""
    won = [v for v in labels if _WON.search(v)]
    lost = [v for v in labels if _LOST.search(v) and v not in won]
    rest = [v for v in labels if v not in won and v not in lost]
    return won, lost, rest


def _order_snapshot(found: Profile, stage: Column, labels: list[str]) -> list[str]:
    """Open stages by how many dated cells their rows have (deals further on carry more dates)."""
    dated = [found.index(c.name) for c in found.columns if c.is_date]
    at = found.index(stage.name)
    filled: dict[str, list[int]] = defaultdict(list)
    for row in found.rows:
        filled[row[at]].append(sum(1 for i in dated if i < len(row) and row[i]))
    return sorted(labels, key=lambda v: sum(filled[v]) / max(len(filled[v]), 1))


def _time(text: str, fmt: str | None) -> datetime | None:
    try:
        at = datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)  # noqa: DTZ007
    except ValueError:
        return None
    return at.replace(tzinfo=None)


def _order_events(
    found: Profile, ids: Column, stage: Column, when: Column, labels: list[str]
) -> list[str]:
    """Open stages by their mean position in each deal's time-ordered rows."""
    i_id, i_stage, i_at = found.index(ids.name), found.index(stage.name), found.index(when.name)
    deals: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for row in found.rows:
        at = _time(row[i_at], when.format) if i_at < len(row) else None
        if at is not None:
            deals[row[i_id]].append((at, row[i_stage]))
    places: dict[str, list[float]] = defaultdict(list)
    for events in deals.values():
        events.sort(key=lambda e: e[0])
        for place, (_, label) in enumerate(events):
            places[label].append(place)
    return sorted(labels, key=lambda v: sum(places[v]) / max(len(places[v]), 1))


def _stage_dates(builder: _Builder, open_labels: Sequence[str]) -> None:
    """Date columns named after an open stage (``engage_date`` for ``Engaging``): ``--stage-date``."""
    used = set(builder.mapped.values())
    for column in builder.found.columns:
        if (
            column.name in used
            or not column.is_date
            or _norm(column.name) in _ALIASES["created_at"]
        ):
            continue
        stem = _DATE_WORDS.sub("", _norm(column.name))
        for label in open_labels:
            key = _norm(label)
            common = next(
                (i for i, (a, b) in enumerate(zip(stem, key, strict=False)) if a != b),
                min(len(stem), len(key)),
            )
            if len(stem) >= 4 and common >= max(4, 0.75 * min(len(stem), len(key))):
                builder.stage_dates[label] = column.name
                used.add(column.name)
                break


def _pipeline(
    builder: _Builder, stage: Column, won: list[str], lost: list[str], rest: list[str]
) -> None:
    flags, notes = builder.flags, builder.notes
    if any("," in v for v in rest):
        notes.append(
            "a stage label has a comma, which --stages cannot take: write a pipeline JSON (--pipeline)"
        )
    flags += ["--stages", ",".join(rest)]
    if won:
        flags += ["--won", won[0]]
    else:
        flags += ["--won", "Won"]
        notes.append("no stage label reads as won; --won Won names a stage no row is in: edit it")
    if lost:
        flags += ["--lost", lost[0]]
    else:
        flags += ["--lost", ""]
        notes.append("no stage label reads as lost: the pipeline has no lost stage")
    for extra, main in [(w, won[0]) for w in won[1:]] + [(x, lost[0]) for x in lost[1:]]:
        flags += ["--stage", f"{extra}={main}"]
    notes.insert(
        0,
        f"the open stages, in the order guessed from the rows' dates: {', '.join(rest) or 'none'}; "
        f"won {won[0] if won else 'none'}, lost {lost[0] if lost else 'none'} (by their names)",
    )


def _snapshot(builder: _Builder, ids: Column, stage: Column) -> Advice:
    found = builder.found
    builder.mapped.update(deal_id=ids.name, stage=stage.name)
    labels = [v for v, _ in stage.values.most_common()]
    won, lost, rest = _closed(labels)
    rest = _order_snapshot(found, stage, rest)
    _stage_dates(builder, rest)
    fields = [f for f in DEAL_COLUMNS if f not in ("deal_id", "stage")]
    if builder.stage_dates:
        fields.remove("engaged_at")
    builder.map(fields, dict(DEAL_COLUMNS.items()))
    _pipeline(builder, stage, won, lost, rest)
    dated = [found.index(c.name) for c in builder.dates()]
    undated = sum(1 for row in found.rows if not any(i < len(row) and row[i] for i in dated))
    if undated:
        builder.flags += ["--undated", "latest"]
        builder.notes.append(
            f"--undated latest: {undated:,} rows have no date; they open at the file's latest date "
            "(the snapshot's date, as near as the file tells)"
        )
    builder.reading()
    builder.attributes(len(found.rows))
    shape = (
        f"Looks like a deal snapshot: one row per deal ({len(found.rows):,} distinct {ids.name!r}), "
        f"the current stage in {stage.name!r}; --format deals."
    )
    return builder.advice(shape, stage, "deals")


def _events(builder: _Builder, ids: Column, stage: Column, fmt: str) -> Advice:
    found = builder.found
    defaults = dict(SALESFORCE_HISTORY_COLUMNS if fmt == "salesforce" else EVENT_COLUMNS)
    builder.mapped.update(deal_id=ids.name, stage=stage.name)
    builder.map([f for f in defaults if f in _ALIASES and f not in builder.mapped], defaults)
    when = found.column(builder.mapped.get("at"))
    labels = [v for v, _ in stage.values.most_common()]
    won, lost, rest = _closed(labels)
    if when is not None:
        rest = _order_events(found, ids, stage, when, rest)
    else:
        builder.notes.append(
            "no column reads as the time of each row: map it with --column at=COLUMN"
        )
    _pipeline(builder, stage, won, lost, rest)
    builder.reading()
    i_id = found.index(ids.name)
    for field in ("value", "owner", "source"):
        column = builder.mapped.get(field)
        if column is None:
            continue
        i = found.index(column)
        seen: dict[str, set[str]] = defaultdict(set)
        for row in found.rows:
            if i < len(row) and row[i]:
                seen[row[i_id]].add(row[i])
        if any(len(v) > 1 for v in seen.values()) and "--conflicts" not in builder.flags:
            builder.flags += ["--conflicts", "latest"]
            builder.notes.append(
                f"--conflicts latest: some deals' rows disagree on {column!r}; the latest row's value is kept"
            )
    deals = len(set(_values(found, ids)))
    what = "a Salesforce opportunity history" if fmt == "salesforce" else "an event log"
    shape = (
        f"Looks like {what}: {len(found.rows):,} rows for {deals:,} deals ({ids.name!r}), "
        f"one row per stage change; --format {fmt}."
    )
    return builder.advice(shape, stage, fmt)


def _leads(builder: _Builder, ids: Column, conversions: Profile | None) -> Advice:
    builder.mapped["lead_id"] = ids.name
    builder.map([f for f in LEAD_COLUMNS if f != "lead_id"], dict(LEAD_COLUMNS))
    if "created_at" not in builder.mapped:
        date = next((c for c in builder.found.columns if c.is_date), None)
        if date is not None:
            builder.mapped["created_at"] = date.name
            builder.flags += ["--column", f"created_at={date.name}"]
    builder.reading()
    builder.attributes(len(builder.found.rows))
    if conversions is None:
        builder.flags += ["--conversions", "CONVERSIONS.csv"]
        builder.notes.insert(
            0,
            "CONVERSIONS.csv stands for the table of won deals (a lead id and the won date per "
            "row): run salesflow inspect again with --conversions FILE to complete the command",
        )
    else:
        _conversions(builder, ids, conversions)
    shape = (
        f"Looks like a lead table: one row per lead ({ids.name!r}) and no stage column; "
        "--format leads, with the won deals in a second file (--conversions)."
    )
    return builder.advice(shape, None, "leads")


def _won_column(found: Profile) -> Column | None:
    dates = [c for c in found.columns if c.is_date]
    named = [c for c in dates if _norm(c.name) in _ALIASES["won_at"]]
    return named[0] if named else (dates[0] if len(dates) == 1 else None)


def _conversions(builder: _Builder, ids: Column, other: Profile) -> None:
    """Complete a lead table's command with its conversions file: columns, --early, --collect."""
    builder.flags += ["--conversions", str(other.path)]
    if other.column(ids.name) is None:
        builder.notes.append(
            f"the conversions file has no column {ids.name!r}: --column lead_id names the lead id "
            "column of both files, so give them the same name"
        )
        return
    sub = _Builder(other, str(other.path), mapped={"lead_id": ids.name})
    won = _won_column(other)
    if won is not None:
        sub.mapped["won_at"] = won.name
    sub.map(["deal_id", "opened_at", "value", "currency"], {})
    pairs = zip(sub.flags[::2], sub.flags[1::2], strict=True)
    builder.flags += [
        f for pair in pairs if pair != ("--column", f"lead_id={ids.name}") for f in pair
    ]
    if won is None:
        builder.notes.append(
            "no date column of the conversions file reads as the won date: add --column won_at=COLUMN"
        )
        return
    if won.naive and "--timezone" not in builder.flags:
        builder.flags += ["--timezone", "UTC"]
    created_column = builder.mapped.get("created_at")
    if created_column is None:
        return
    created = dict(
        zip(
            _values(builder.found, ids),
            _values(builder.found, builder.found.column(created_column) or ids),
            strict=True,
        )
    )
    early = unknown = 0
    for lead, at in zip(_values(other, ids), _values(other, won), strict=True):
        if lead not in created:
            unknown += 1
            continue
        lead_at, won_at = _time(created[lead], None), _time(at, won.format)
        early += lead_at is not None and won_at is not None and won_at < lead_at
    if early:
        builder.flags += ["--early", "clamp"]
        builder.notes.append(
            f"--early clamp: {early:,} conversion(s) are dated before their lead was created; "
            "they move to the lead's creation (or fix the dates and leave this out)"
        )
    if unknown:
        builder.flags += ["--collect"]
        builder.notes.append(
            f"--collect: {unknown:,} conversion(s) name no lead of the lead table; they are left out and listed"
        )


def _conversions_only(builder: _Builder, ids: Column, won: Column) -> Advice:
    """A conversions file inspected alone: inspect the lead table with it."""
    builder.notes.append(
        "LEADS.csv stands for the lead table (one row per lead, with its creation date)"
    )
    shape = (
        f"Looks like the won deals of a lead table (a conversions file): a lead id ({ids.name!r}) "
        f"and the won date ({won.name!r}) per row. Inspect the lead table with it:"
    )
    argv = ("salesflow", "inspect", "LEADS.csv", "--conversions", builder.shown)
    return Advice(argv, shape, tuple(builder.notes), None)


def suggest(found: Profile, shown: str, conversions: Profile | None = None) -> Advice:
    """The ``salesflow report`` command that loads the file *found* describes.

    With *conversions* (the won deals of a lead table), the command loads both.
    """
    builder = _Builder(found, shown)
    names = {c.name for c in found.columns}
    stage = _stage_column(found)
    required = [SALESFORCE_HISTORY_COLUMNS[f] for f in ("deal_id", "at", "stage")]
    if set(required) <= names:
        ids, stage = found.column(required[0]), found.column(required[2])
        assert ids is not None
        assert stage is not None
        return _events(builder, ids, stage, "salesforce")
    ids = _find(found, "deal_id", {stage.name} if stage else set())
    if stage is not None and ids is not None:
        values = _values(found, ids)
        if len(set(values)) == len(values):
            return _snapshot(builder, ids, stage)
        return _events(builder, ids, stage, "events")
    leads = _find(found, "lead_id", set())
    won = _won_column(found)
    if (
        leads is not None
        and conversions is None
        and won is not None
        and _norm(won.name) in _ALIASES["won_at"]
    ):
        return _conversions_only(builder, leads, won)
    if leads is not None:
        return _leads(builder, leads, conversions)
    builder.notes.append(
        "no column reads as a deal id and a stage: map them with --column deal_id=COLUMN "
        "--column stage=COLUMN and name the stages with --stages"
    )
    return builder.advice("Could not tell what the rows are.", stage, "deals")
