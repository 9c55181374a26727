"""From ``salesflow report``'s flags to a pipeline, a loader call and a cut-off.

Each loader option has one flag (:data:`OPTIONS`); a flag is passed to the
loader only when given, and a flag the chosen ``--format``'s loader does not
take is a usage error naming the formats that do, so that nothing given on the
command line is ignored.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from io import TextIOWrapper
from pathlib import Path
from typing import IO, Any, Literal

from . import io, templates
from ._cli_messages import shell_value
from ._pipeline import Pipeline
from .exceptions import EmptySourceWarning, UnknownZoneError
from .io._common import resolve_zone

__all__ = [
    "DELIMITERS",
    "FORMATS",
    "LOADERS",
    "OPTIONS",
    "STDIN",
    "TEMPLATES",
    "UsageError",
    "load",
    "parse_time",
    "pipeline_of",
    "read_leads",
    "zone_of",
]


#: The file name that means standard input.
STDIN = "-"


class UsageError(Exception):
    """A problem with the command's input, reported in one line with exit code 2."""


def read_leads(
    source: Path | IO[str],
    pipeline: Pipeline,
    *,
    conversions: Path | None = None,
    columns: Mapping[str, str | None] | None = None,
    extra_columns: Mapping[str, str] | None = None,
    early: Literal["error", "clamp"] = "error",
    timestamp_format: str | None = None,
    timezone: tzinfo | str | None = None,
    currency: str | None = None,
    errors: str = "raise",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    decimal: str = ".",
    allow_negative: bool = False,
    progress: Callable[[int], None] | None = None,
) -> io.ConversionResult:
    """``--format leads``: a lead table, and the won deals converted from it (``--conversions``).

    ``--column`` fields go to the file whose table has them (``lead_id`` and
    ``owner`` to both); ``--attribute`` columns are the lead table's.
    """
    if conversions is None:
        msg = "--format leads needs --conversions FILE, the table of won deals converted from the leads"
        raise UsageError(msg)
    columns = dict(columns or {})
    shared: dict[str, Any] = {
        "timestamp_format": timestamp_format,
        "timezone": timezone,
        "errors": errors,
        "delimiter": delimiter,
        "encoding": encoding,
        "progress": progress,
    }
    leads = io.read_leads_csv(
        source,
        columns={f: c for f, c in columns.items() if f in io.LEAD_COLUMNS},
        extra_columns=extra_columns or {},
        **shared,
    )
    _report_rejects(leads.rejects, leads.summary())
    return io.read_conversions_csv(
        conversions,
        leads,
        pipeline,
        columns={f: c for f, c in columns.items() if f in io.CONVERSION_COLUMNS},
        early=early,
        currency=currency,
        decimal=decimal,
        allow_negative=allow_negative,
        **shared,
    )


def _report_rejects(rejects: Sequence[Exception], summary: str) -> None:
    from ._cli_messages import for_cli

    if not rejects:
        return
    sys.stderr.write(f"{summary}\n")
    for error in rejects[:20]:
        sys.stderr.write(f"  {for_cli(str(error))}\n")
    if len(rejects) > 20:
        sys.stderr.write(f"  ... and {len(rejects) - 20} more\n")


#: ``--format`` -> the loader that reads it; a new loader is one line here.
LOADERS: dict[str, Callable[..., io.LoadResult]] = {
    "events": io.read_events_csv,
    "deals": io.read_deals_csv,
    "hubspot": io.read_hubspot_deals,
    "salesforce": io.read_salesforce_history,
    "leads": read_leads,
}
FORMATS = tuple(LOADERS)
TEMPLATES: dict[str, Callable[[], Pipeline]] = {
    "b2b": templates.b2b,
    "investor": templates.investor,
    "hubspot": templates.hubspot_default,
}
#: What ``--delimiter`` accepts -> the separator.
DELIMITERS = {
    ",": ",",
    "comma": ",",
    ";": ";",
    "semicolon": ";",
    "tab": "\t",
    "\\t": "\t",
    "\t": "\t",
    "|": "|",
    "pipe": "|",
}


def _pairs(pairs: Sequence[str], option: str, shape: str, *, empty: bool = False) -> dict[str, Any]:
    """``LEFT=RIGHT`` arguments as a dict; with *empty*, ``LEFT=`` maps to ``None``."""
    mapping: dict[str, Any] = {}
    for pair in pairs:
        left, sep, right = pair.partition("=")
        left, right = left.strip(), right.strip()
        if not sep or not left or not (right or empty):
            raise UsageError(f"{option} takes {shape}, got {pair!r}")
        mapping[left] = right or None
    return mapping


def _attributes(pairs: Sequence[str]) -> dict[str, str]:
    """``--attribute COLUMN[=NAME]`` as attribute name -> column."""
    found: dict[str, str] = {}
    for pair in pairs:
        column, _sep, name = pair.rpartition("=") if "=" in pair else (pair, "", pair)
        column, name = column.strip(), name.strip()
        if not column or not name:
            raise UsageError(f"--attribute takes COLUMN or COLUMN=NAME, got {pair!r}")
        found[name] = column
    return found


def _delimiter(text: str) -> str:
    try:
        return DELIMITERS[text.lower()]
    except KeyError:
        shown = ", ".join(shell_value(k) for k in (",", ";", "tab", "|"))
        raise UsageError(f"--delimiter takes one of {shown}, got {text!r}") from None


def parse_time(text: str, zone: tzinfo | None, option: str) -> datetime:
    """A date (midnight), a date-time with an offset, or one without read in *zone*."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        msg = (
            f"{option} takes a date (2017-12-31) or an ISO 8601 date-time "
            f"(2017-12-31T18:00:00+01:00), got {text!r}"
        )
        raise UsageError(msg) from None
    if at.tzinfo is None:
        if zone is None:
            example = at.isoformat() + "+00:00"
            msg = (
                f"{option} {text} has no time zone; add --timezone UTC (or the zone it is in), "
                f"or write the offset: {option} {example}"
            )
            raise UsageError(msg)
        at = at.replace(tzinfo=zone)
    return at


def zone_of(args: argparse.Namespace) -> tzinfo | None:
    """``--timezone`` as a ``tzinfo`` (``None`` when not given)."""
    try:
        return resolve_zone(args.timezone)
    except UnknownZoneError as exc:
        raise UsageError(f"--timezone: {exc}") from None


#: Loader argument -> (the flag that sets it, how to read the flag's value from *args*).
OPTIONS: dict[str, tuple[str, Callable[[argparse.Namespace], Any]]] = {
    "columns": ("--column", lambda a: _pairs(a.column, "--column", "FIELD=COLUMN", empty=True)),
    "stage_map": ("--stage", lambda a: _pairs(a.stage, "--stage", "LABEL=STAGE")),
    "stage_dates": ("--stage-date", lambda a: _pairs(a.stage_date, "--stage-date", "STAGE=COLUMN")),
    "extra_columns": ("--attribute", lambda a: _attributes(a.attribute)),
    "timestamp_format": ("--timestamp-format", lambda a: a.timestamp_format),
    "timezone": ("--timezone", lambda a: a.timezone),
    "currency": ("--currency", lambda a: a.currency),
    "undated": (
        "--undated",
        lambda a: (
            a.undated
            if a.undated in (None, "error", "latest")
            else parse_time(a.undated, zone_of(a), "--undated")
        ),
    ),
    "encoding": ("--encoding", lambda a: a.encoding),
    "delimiter": ("--delimiter", lambda a: a.delimiter and _delimiter(a.delimiter)),
    "decimal": ("--decimal", lambda a: a.decimal),
    "allow_negative": ("--allow-negative", lambda a: a.allow_negative or None),
    "case_insensitive": ("--case-insensitive", lambda a: a.case_insensitive or None),
    "conflicts": ("--conflicts", lambda a: a.conflicts),
    "early": ("--early", lambda a: a.early),
    "conversions": ("--conversions", lambda a: a.conversions),
    "shape": ("--shape", lambda a: a.shape),
    "pipeline_label": ("--pipeline-label", lambda a: a.pipeline_label),
    "pipeline_id": ("--pipeline-id", lambda a: a.pipeline_id),
    "other_pipelines": ("--other-pipelines", lambda a: a.other_pipelines),
    "deleted": ("--deleted", lambda a: a.deleted),
}


def _given(value: Any) -> bool:
    return value is not None and value != {}


def _takes(loader: Callable[..., Any]) -> set[str]:
    return set(inspect.signature(loader).parameters)


def load(args: argparse.Namespace, pipeline: Pipeline) -> io.LoadResult:
    """Call ``--format``'s loader with every option given on the command line."""
    loader = LOADERS[args.format]
    takes = _takes(loader)
    options: dict[str, Any] = {
        "errors": "collect" if args.collect else "raise",
        "progress": _progress(),
    }
    for name, (flag, read) in OPTIONS.items():
        value = read(args)
        if not _given(value):
            continue
        if name not in takes:
            formats = [f for f, other in LOADERS.items() if name in _takes(other)]
            msg = f"{flag} does not apply to --format {args.format}; it is for --format {' or '.join(formats)}"
            raise UsageError(msg)
        options[name] = value
    with warnings.catch_warnings():
        # The command line refuses an empty source with its own one-line error.
        warnings.simplefilter("ignore", EmptySourceWarning)
        if str(args.file) != STDIN:
            return loader(args.file, pipeline, **options)
        # "-" is standard input, read as bytes in --encoding like a file would be.
        stdin = TextIOWrapper(sys.stdin.buffer, encoding=args.encoding or "utf-8-sig", newline="")
        try:
            return loader(stdin, pipeline, **options)
        finally:
            stdin.detach()  # leave sys.stdin open for the caller


def _progress() -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(rows: int) -> None:
        sys.stderr.write(f"\rread {rows:,} rows")
        sys.stderr.flush()

    return show


def _inline(args: argparse.Namespace) -> Pipeline:
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    if not stages:
        raise UsageError(
            f"--stages takes the open stages in order, e.g. 'Prospecting,Engaging', got {args.stages!r}"
        )
    name = args.name or ("stdin" if str(args.file) == STDIN else Path(args.file).stem)
    won = "Won" if args.won is None else args.won
    lost = "Lost" if args.lost is None else args.lost or None  # --lost '': no lost stage
    return Pipeline.linear(name, stages, won=won, lost=lost)


def pipeline_of(args: argparse.Namespace) -> Pipeline:
    """The pipeline the flags name: a JSON file, a template, Salesforce stages or inline stages."""
    if args.stages is None and (args.won is not None or args.lost is not None):
        raise UsageError("--won and --lost name the closed stages of --stages; give --stages too")
    if args.pipeline is not None:
        try:
            data = json.loads(Path(args.pipeline).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(
                f"cannot read the pipeline file {args.pipeline}: {exc.strerror or exc}"
            ) from None
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{args.pipeline}, line {exc.lineno}: not valid JSON ({exc.msg})"
            ) from None
        return Pipeline.from_dict(data)
    if args.salesforce_stages is not None:
        return io.salesforce_pipeline(args.salesforce_stages)
    if args.stages is not None:
        return _inline(args)
    name = args.template or ("hubspot" if args.format == "hubspot" else "b2b")
    return TEMPLATES[name]()
