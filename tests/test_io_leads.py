"""Lead tables and conversions: leads, won deals, rejects, and the Olist marketing funnel."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import salesflow as sf
from salesflow import LeadStatus
from salesflow.exceptions import LoadError
from salesflow.io._common import LoadResult
from salesflow.io._leads import (
    ConversionResult,
    LeadLoadResult,
    read_conversions_csv,
    read_leads_csv,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "olist-marketing-funnel"
MQLS = DATA / "olist_marketing_qualified_leads_dataset.csv"
CLOSED = DATA / "olist_closed_deals_dataset.csv"
LEAD_HEAD = "lead_id,created_at,source,owner,campaign"
WON_HEAD = "lead_id,won_at,value,currency,owner,segment"


def text(head: str, *rows: str) -> io.StringIO:
    """An in-memory CSV file: *head*, then *rows*."""
    return io.StringIO("\n".join([head, *rows]) + "\n")


def day(n: int, hour: int = 0) -> datetime:
    """Day *n* of January 2026 in UTC."""
    return datetime(2026, 1, n, hour, tzinfo=UTC)


@pytest.fixture
def funnel() -> sf.Pipeline:
    """A small deal pipeline for converted leads: Consultancy, then Won / Lost."""
    return sf.Pipeline.linear("Olist", ["Consultancy"], won="Won", lost="Lost")


@pytest.fixture
def leads() -> LeadLoadResult:
    """Three leads created on days 1, 2 and 3; L2 has no source."""
    return read_leads_csv(
        text(LEAD_HEAD, "L1,2026-01-01,social,ana,spring", "L2,2026-01-02,,,", "L3,2026-01-03,email,,"),
        extra_columns=("campaign",),
        timezone="UTC",
    )  # fmt: skip


def convert(
    leads: LeadLoadResult, pipeline: sf.Pipeline, *rows: str, **options: object
) -> ConversionResult:
    """Read conversion *rows* (under WON_HEAD) for *leads*, in UTC."""
    options.setdefault("timezone", "UTC")
    return read_conversions_csv(text(WON_HEAD, *rows), leads, pipeline, **options)  # type: ignore[arg-type]


class TestReadLeads:
    def test_fields(self, leads: LeadLoadResult) -> None:
        """Ids, creation times, sources, owners and extra columns are read; each lead is NEW."""
        assert [lead.id for lead in leads] == ["L1", "L2", "L3"]
        first = leads[0]
        assert (first.created_at, first.source, first.owner) == (day(1), "social", "ana")
        assert dict(first.attributes) == {"campaign": "spring"}
        assert dict(leads[1].attributes) == {"campaign": None}
        assert all(lead.status is LeadStatus.NEW for lead in leads)

    def test_empty_source_is_none(self, leads: LeadLoadResult) -> None:
        """An empty source cell is None, unlike a literal value."""
        assert leads[1].source is None

    def test_result_counts(self, leads: LeadLoadResult) -> None:
        """The result is a sequence of leads with counts and a summary."""
        assert (len(leads), leads.built, leads.rows_read, leads.rejected) == (3, 3, 3, 0)
        assert "built 3 leads" in repr(leads)

    def test_duplicate_id(self) -> None:
        """A repeated lead id leaves the lead out whole (which row is right?), naming the first line."""
        result = read_leads_csv(
            text(LEAD_HEAD, "L1,2026-01-01,a,,", "L2,2026-01-01,c,,", "L1,2026-01-02,b,,"),
            timezone="UTC",
            errors="collect",
        )
        assert [lead.id for lead in result] == ["L2"]
        assert (result.rows_read, result.rows_rejected, result.rejects[0].line) == (3, 2, 4)
        assert "line 2" in result.rejects[0].reason

    def test_missing_creation_time(self) -> None:
        """A lead needs a creation time."""
        with pytest.raises(LoadError, match="creation time is empty") as info:
            read_leads_csv(text(LEAD_HEAD, "L1,,a,,"), timezone="UTC")
        assert (info.value.line, info.value.column) == (2, "created_at")

    def test_bad_date(self) -> None:
        """A creation time that is not a date is refused with its text."""
        with pytest.raises(LoadError) as info:
            read_leads_csv(text(LEAD_HEAD, "L1,June,a,,"), timezone="UTC")
        assert info.value.value == "June"

    def test_missing_column(self) -> None:
        """A missing required column is a LoadError at line 1."""
        with pytest.raises(LoadError, match="'created_at'") as info:
            read_leads_csv(text("lead_id,source", "L1,a"))
        assert info.value.line == 1

    def test_empty_file(self) -> None:
        """An empty file is a LoadError."""
        with pytest.raises(LoadError, match="empty"):
            read_leads_csv(io.StringIO(""))

    def test_collect_counts(self) -> None:
        """errors='collect' counts rows read and rejected, ragged ones included."""
        result = read_leads_csv(
            text(LEAD_HEAD, "L1,2026-01-01,a,,", "L2,nope,a,,", "L3,2026-01-01", "", "L4,2026-01-04,,,"),
            timezone="UTC",
            errors="collect",
        )  # fmt: skip
        assert [lead.id for lead in result] == ["L1", "L4"]
        assert (result.rows_read, result.rows_rejected) == (4, 2)

    def test_columns_timestamp_format_and_zone(self) -> None:
        """columns=, timestamp_format= and timezone= apply as in the other loaders."""
        result = read_leads_csv(
            text("id;first;origin", "X;02.01.2026 10:00;web"),
            columns={"lead_id": "id", "created_at": "first", "source": "origin"},
            timestamp_format="%d.%m.%Y %H:%M",
            timezone="Europe/Berlin",
            delimiter=";",
        )
        assert result[0].created_at.astimezone(UTC) == day(2, 9)
        assert result[0].source == "web"


class TestConversions:
    def test_converted_deal(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """A conversion opens a deal from the lead and wins it at the won time."""
        result = convert(
            leads,
            funnel,
            "L1,2026-01-05T10:00:00+00:00,900,BRL,rui,pet",
            extra_columns=("segment",),
        )
        deal = result[0]
        assert deal.stage_keys == ("Consultancy", "Won")
        assert deal.stage_times == (day(5, 10), day(5, 10))
        assert (deal.id, deal.lead_id, deal.lead_created_at) == ("L1", "L1", day(1))
        assert (deal.value, deal.owner, deal.source) == (sf.Money(900, "BRL"), "rui", "social")
        assert dict(deal.attributes) == {"segment": "pet"}

    def test_owner_defaults_to_leads(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """Without an owner cell the deal keeps the lead's owner."""
        assert convert(leads, funnel, "L1,2026-01-05,,,,")[0].owner == "ana"

    def test_leads_marked_converted(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """result.leads holds every lead in order, converted ones marked at the deal's opening."""
        result = convert(leads, funnel, "L3,2026-01-07,,,,")
        assert [lead.id for lead in result.leads] == ["L1", "L2", "L3"]
        assert [lead.is_converted for lead in result.leads] == [False, False, True]
        assert result.leads[2].converted_at == day(7)
        assert result.leads[2].history[-1].deal_id == "L3"
        assert "1 of 3 leads converted" in repr(result)

    def test_result_is_a_load_result(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """A ConversionResult is a LoadResult of the deals, with counts."""
        result = convert(leads, funnel, "L1,2026-01-05,,,,", "L2,2026-01-06,,,,")
        assert isinstance(result, LoadResult)
        assert (result.built, result.rows_read, result.rows_rejected) == (2, 2, 0)

    def test_opened_at_and_deal_id(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """An opened_at column gives the deal its own open time, and deal_id its own id."""
        result = read_conversions_csv(
            text("lead_id,deal_id,opened_at,won_at", "L2,D-9,2026-01-04,2026-01-10"),
            leads,
            funnel,
            timezone="UTC",
        )
        deal = result[0]
        assert (deal.id, deal.stage_times) == ("D-9", (day(4), day(10)))
        assert result.leads[1].converted_at == day(4)

    def test_unknown_lead_is_rejected(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """A row for a lead that is not in the lead table is a reject, not a silent drop."""
        result = convert(leads, funnel, "L9,2026-01-05,,,,", "L1,2026-01-05,,,,", errors="collect")
        assert [d.id for d in result] == ["L1"]
        error = result.rejects[0]
        assert (error.line, error.column, error.value) == (2, "lead_id", "L9")

    def test_second_conversion_rejected(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """A lead converted twice is rejected the second time, naming the first line."""
        with pytest.raises(LoadError, match="already converted on line 2"):
            convert(leads, funnel, "L1,2026-01-05,,,,", "L1,2026-01-06,,,,")

    def test_won_before_lead_created(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """A deal won before its lead was created is refused by default."""
        with pytest.raises(LoadError, match="early='clamp'") as info:
            convert(leads, funnel, "L3,2026-01-02T12:00:00+00:00,,,,")
        assert (info.value.column, info.value.value) == ("won_at", "2026-01-02T12:00:00+00:00")

    def test_clamp_early_deal(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """early='clamp' moves such a deal to the lead's creation and notes the recorded time."""
        deal = convert(leads, funnel, "L3,2026-01-02T12:00:00+00:00,,,,", early="clamp")[0]
        assert deal.stage_times == (day(3), day(3))
        note = deal.history[-1].note
        assert note is not None
        assert "2026-01-02T12:00:00+00:00" in note

    def test_open_after_won(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """A deal that opens after it was won breaks the time order."""
        with pytest.raises(LoadError, match="not allowed"):
            read_conversions_csv(
                text("lead_id,opened_at,won_at", "L1,2026-01-09,2026-01-05"),
                leads,
                funnel,
                timezone="UTC",
            )

    def test_disqualified_lead(self, funnel: sf.Pipeline) -> None:
        """A disqualified lead cannot convert; its row is rejected."""
        lead = sf.Lead("L1", created_at=day(1)).disqualify(at=day(2))
        with pytest.raises(LoadError, match="disqualified"):
            read_conversions_csv(
                text(WON_HEAD, "L1,2026-01-05,,,,"), [lead], funnel, timezone="UTC"
            )

    def test_value_needs_currency(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """A value without a currency is refused; currency= supplies one."""
        with pytest.raises(LoadError, match="currency"):
            convert(leads, funnel, "L1,2026-01-05,10,,,")
        deal = convert(leads, funnel, "L1,2026-01-05,10,,,", currency="BRL")[0]
        assert deal.value == sf.Money(10, "BRL")

    def test_duplicate_leads_given(self, funnel: sf.Pipeline) -> None:
        """Two given leads with one id is a ValueError."""
        twins = [sf.Lead("L1", created_at=day(1)), sf.Lead("L1", created_at=day(2))]
        with pytest.raises(ValueError, match="share the id"):
            read_conversions_csv(text(WON_HEAD), twins, funnel)

    def test_bad_early_option(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """early= other than 'error' or 'clamp' is a ValueError."""
        with pytest.raises(ValueError, match="early must be"):
            convert(leads, funnel, early="shift")

    def test_missing_won_column(self, leads: LeadLoadResult, funnel: sf.Pipeline) -> None:
        """The won time column is required."""
        with pytest.raises(LoadError, match="'won_at'"):
            read_conversions_csv(text("lead_id", "L1"), leads, funnel)


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of *path*, read with the csv module."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


OLIST_LEADS: dict[str, str | None] = {
    "lead_id": "mql_id",
    "created_at": "first_contact_date",
    "source": "origin",
}
OLIST_WON: dict[str, str | None] = {"lead_id": "mql_id", "won_at": "won_date", "owner": "sr_id"}


@pytest.fixture(scope="module")
def mqls() -> LeadLoadResult:
    """The 8,000 Olist MQLs, with their landing page (skips when the data is absent)."""
    if not MQLS.exists():
        pytest.skip(f"the Olist dataset is not at {DATA}")
    return read_leads_csv(
        MQLS, columns=OLIST_LEADS, extra_columns=("landing_page_id",), timezone="America/Sao_Paulo"
    )


@pytest.mark.skipif(not MQLS.exists(), reason=f"the Olist dataset is not at {DATA}")
class TestOlistData:
    def conversions(self, mqls: LeadLoadResult, **options: object) -> ConversionResult:
        """The closed deals converted from *mqls*."""
        pipeline = sf.Pipeline.linear("Olist", ["Consultancy"], won="Won", lost="Lost")
        return read_conversions_csv(
            CLOSED,
            mqls,
            pipeline,
            columns=OLIST_WON,
            timezone="America/Sao_Paulo",
            **options,  # type: ignore[arg-type]
        )

    def test_mqls(self, mqls: LeadLoadResult) -> None:
        """8,000 MQLs load, with the README's origin counts (60 empty, distinct from 'unknown')."""
        assert (mqls.rows_read, mqls.built, mqls.rows_rejected) == (8_000, 8_000, 0)
        origins = Counter(lead.source for lead in mqls)
        assert origins[None] == 60
        assert origins["unknown"] == 1_099
        assert origins["organic_search"] == 2_296
        assert origins == Counter(r["origin"] or None for r in read_csv(MQLS))

    def test_early_deal_refused_by_default(self, mqls: LeadLoadResult) -> None:
        """The one deal won before its first contact stops a strict load at its line."""
        first = {r["mql_id"]: r["first_contact_date"] for r in read_csv(MQLS)}
        rows = read_csv(CLOSED)
        early = [i for i, r in enumerate(rows) if r["won_date"][:10] < first[r["mql_id"]]]
        assert len(early) == 1
        with pytest.raises(LoadError, match="before its lead was created") as info:
            self.conversions(mqls)
        assert info.value.line == early[0] + 2

    def test_collect_leaves_one_reject(self, mqls: LeadLoadResult) -> None:
        """Collecting, 841 of the 842 closed deals convert and the early one is the reject."""
        result = self.conversions(mqls, errors="collect")
        assert (result.rows_read, result.built, result.rows_rejected) == (842, 841, 1)

    def test_clamp_rebuilds_every_closed_deal(self, mqls: LeadLoadResult) -> None:
        """With early='clamp' all 842 closed deals are won deals of known leads."""
        result = self.conversions(mqls, early="clamp")
        assert (result.built, result.rows_rejected) == (842, 0)
        assert all(d.is_won and d.lead_id == d.id for d in result)
        assert sum(1 for lead in result.leads if lead.is_converted) == 842
        noted = [d for d in result if d.history[-1].note]
        assert len(noted) == 1
        assert noted[0].closed_at == noted[0].lead_created_at

    def test_conversion_by_origin(self, mqls: LeadLoadResult) -> None:
        """Converted leads per origin match a csv-module join of the two files."""
        origin = {r["mql_id"]: r["origin"] or None for r in read_csv(MQLS)}
        expected = Counter(origin[r["mql_id"]] for r in read_csv(CLOSED))
        result = self.conversions(mqls, early="clamp")
        assert Counter(lead.source for lead in result.leads if lead.is_converted) == expected
        assert Counter(d.source for d in result) == expected

    def test_days_to_win(self, mqls: LeadLoadResult) -> None:
        """Time from first contact to win matches the csv files (the early deal excluded)."""
        first = {r["mql_id"]: r["first_contact_date"] for r in read_csv(MQLS)}
        zone = ZoneInfo("America/Sao_Paulo")

        def wall(text: str) -> datetime:
            # A day whose midnight the clocks skipped (2017-10-15) starts at 01:00.
            at = datetime.fromisoformat(text).replace(tzinfo=zone)
            return at.astimezone(UTC).astimezone(zone).replace(tzinfo=None)

        expected = {
            r["mql_id"]: datetime.fromisoformat(r["won_date"]) - wall(first[r["mql_id"]])
            for r in read_csv(CLOSED)
        }
        result = self.conversions(mqls, errors="collect")
        got = {
            d.id: d.closed_at - d.lead_created_at
            for d in result
            if d.closed_at and d.lead_created_at
        }
        assert len(got) == 841
        assert all(got[k] == expected[k] for k in got)
        assert min(got.values()) >= timedelta(0)
