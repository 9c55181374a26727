"""Tests for the text renderings: Mermaid, Markdown and notebook HTML."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import salesflow as sf
from salesflow import Pipeline, Stage

Day = Callable[..., datetime]

B2B_NAMES = [
    "Prospecting",
    "Lead generation",
    "Initial contact",
    "Needs assessment",
    "Solution presentation",
    "Proposal",
    "Negotiation",
    "Closed won",
    "Closed lost",
]


def mermaid_ids(diagram: str) -> dict[str, str]:
    """Map each state's label to its Mermaid id, read from the `state "label" as id` lines."""
    return dict(re.findall(r'^\s*state "([^"]*)" as (\S+)$', diagram, flags=re.MULTILINE))


def mermaid_edges(diagram: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s*(\S+) --> (\S+)$", diagram, flags=re.MULTILINE))


class TestMermaid:
    def test_header(self, b2b: Pipeline) -> None:
        """The diagram is a stateDiagram-v2 ending with a newline."""
        diagram = b2b.to_mermaid()
        assert diagram.startswith("stateDiagram-v2\n")
        assert diagram.endswith("\n")

    def test_one_state_per_stage(self, b2b: Pipeline) -> None:
        """Every stage is declared once, labelled with its name, with a unique id."""
        ids = mermaid_ids(b2b.to_mermaid())
        assert list(ids) == B2B_NAMES
        assert len(set(ids.values())) == len(B2B_NAMES)

    def test_an_edge_per_forward_step(self, b2b: Pipeline) -> None:
        """Each open stage has an edge to the next stage, the last one to Closed won."""
        diagram = b2b.to_mermaid()
        ids, edges = mermaid_ids(diagram), mermaid_edges(diagram)
        for src, dst in itertools.pairwise(B2B_NAMES[:8]):
            assert (ids[src], ids[dst]) in edges

    def test_closing_edges_from_every_open_stage(self, b2b: Pipeline) -> None:
        """Every open stage has an edge to won and to lost."""
        diagram = b2b.to_mermaid()
        ids, edges = mermaid_ids(diagram), mermaid_edges(diagram)
        for src in B2B_NAMES[:7]:
            assert (ids[src], ids["Closed won"]) in edges
            assert (ids[src], ids["Closed lost"]) in edges

    def test_start_and_end(self, b2b: Pipeline) -> None:
        """The start points at the first stage; terminal stages point at the end."""
        diagram = b2b.to_mermaid()
        ids, edges = mermaid_ids(diagram), mermaid_edges(diagram)
        assert ("[*]", ids["Prospecting"]) in edges
        assert {src for src, dst in edges if dst == "[*]"} == {
            ids["Closed won"],
            ids["Closed lost"],
        }

    def test_no_backward_or_skip_edges(self, b2b: Pipeline) -> None:
        """Only forward steps and closings are drawn: 6 + 7 + 7 edges, plus start and ends."""
        assert len(mermaid_edges(b2b.to_mermaid())) == 6 + 7 + 7 + 1 + 2

    def test_lose_from_limits_lost_edges(self) -> None:
        """With lose_from, only those stages have an edge to lost."""
        pipeline = Pipeline.linear("Sales", ["Lead", "Demo"], lose_from=["Demo"])
        diagram = pipeline.to_mermaid()
        ids, edges = mermaid_ids(diagram), mermaid_edges(diagram)
        assert {src for src, dst in edges if dst == ids["Closed lost"]} == {ids["Demo"]}

    def test_rules_note(self) -> None:
        """A note states the rules the edges do not show."""
        pipeline = sf.templates.b2b(allow_skip=True, allow_reopen=False)
        assert (
            "B2B sales: skips allowed, backward moves allowed, reopening refused"
            in pipeline.to_mermaid()
        )

    def test_awkward_names(self) -> None:
        """Keys with punctuation get valid ids; double quotes in names are replaced."""
        pipeline = Pipeline(
            "p",
            [Stage("step-1 (new)", 'Step "one"'), Stage("$$$", outcome="won")],
        )
        diagram = pipeline.to_mermaid()
        ids = mermaid_ids(diagram)
        assert list(ids) == ["Step 'one'", "$$$"]
        assert all(re.fullmatch(r"\w+", node) for node in ids.values())


class TestMarkdown:
    def test_one_row_per_stage(self, b2b: Pipeline) -> None:
        """The table has a header, a rule, and one row per stage in order."""
        lines = [line for line in b2b.to_markdown().splitlines() if line.startswith("|")]
        assert len(lines) == 2 + len(B2B_NAMES)
        names = [line.split("|")[2].strip() for line in lines[2:]]
        assert names == B2B_NAMES

    def test_row_contents(self, b2b: Pipeline) -> None:
        """A row shows number, name, key, outcome, probability in percent and next stage."""
        rows = b2b.to_markdown().splitlines()
        assert "| 6 | Proposal | `Proposal` | open | 60% | Negotiation |  |" in rows
        assert "| 8 | Closed won | `Closed won` | won | 100% |  |  |" in rows

    def test_rotting_and_pipes(self) -> None:
        """rotting_after is shown, and a | in a name is escaped."""
        pipeline = Pipeline(
            "A|B",
            [Stage("a", "Yes|No", rotting_after=timedelta(days=14)), Stage("w", outcome="won")],
        )
        text = pipeline.to_markdown()
        assert text.startswith("**A\\|B**: skips refused")
        assert "| 1 | Yes\\|No | `a` | open |  | w | 14 days, 0:00:00 |" in text.splitlines()


class TestDealHtml:
    def test_escapes_html_in_ids(self, b2b: Pipeline, utc_day: Day) -> None:
        """HTML in a deal id is escaped, not injected."""
        deal = b2b.open_deal("<script>alert(1)</script>", at=utc_day(1))
        html = deal._repr_html_()
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_escapes_actor_and_reason(self, b2b: Pipeline, utc_day: Day) -> None:
        """HTML in actors and reasons is escaped."""
        deal = b2b.open_deal("D", at=utc_day(1), actor="<b>ann</b>")
        deal = deal.lose(at=utc_day(2), reason="price & <i>terms</i>")
        html = deal._repr_html_()
        assert "&lt;b&gt;ann&lt;/b&gt;" in html
        assert "price &amp; &lt;i&gt;terms&lt;/i&gt;" in html

    def test_one_row_per_stage_change(self, open_deal: sf.Deal, utc_day: Day) -> None:
        """The table has a header row and one row per stage change, with stage names."""
        deal = open_deal.advance(at=utc_day(2)).win(at=utc_day(3))
        html = deal._repr_html_()
        assert html.count("<tr>") == 1 + 3
        assert re.search(r"<td[^>]*>Lead generation</td>", html)
        assert "5,000 USD" in html
