"""Text pictures of pipelines and deals: Mermaid, Markdown, notebook HTML."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from ._table_render import MISSING, Col, Sheet, Table, number, pct
from ._time import DAY

if TYPE_CHECKING:
    from ._deal import Deal
    from ._pipeline import Pipeline


def _node(key: str, ids: dict[str, str]) -> str:
    if key not in ids:
        base = re.sub(r"\W+", "_", key).strip("_") or "stage"
        ids[key] = f"s{len(ids)}_{base}"
    return ids[key]


def to_mermaid(pipeline: Pipeline) -> str:
    # Only forward steps and closing moves are drawn; backward moves, skips and
    # reopening would add an edge per pair of stages, so a note states them.
    ids: dict[str, str] = {}
    lines = ["stateDiagram-v2"]
    for stage in pipeline.stages:
        label = stage.name.replace('"', "'")
        lines.append(f'    state "{label}" as {_node(stage.key, ids)}')
    lines.append(f"    [*] --> {_node(pipeline.open_stages[0].key, ids)}")
    lines.extend(
        f"    {_node(src.key, ids)} --> {_node(dst.key, ids)}"
        for src in pipeline.open_stages
        for dst in pipeline.stages
        if (src.key, dst.key) in pipeline.table.free
        and (dst.is_terminal or pipeline.next_stage(src) == dst)
    )
    lines.extend(f"    {_node(s.key, ids)} --> [*]" for s in pipeline.stages if s.is_terminal)
    rules = [
        f"skips {'allowed' if pipeline.allow_skip else 'refused'}",
        f"backward moves {'allowed' if pipeline.allow_backward else 'refused'}",
        f"reopening {'allowed' if pipeline.allow_reopen else 'refused'}",
    ]
    if pipeline.guards:
        rules.append(f"{len(pipeline.guards)} guard(s)")
    first = _node(pipeline.open_stages[0].key, ids)
    lines.append(f"    note left of {first}: {pipeline.name}: {', '.join(rules)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(pipeline: Pipeline) -> str:
    rows = [
        "| # | stage | key | outcome | probability | advance goes to | rotting after |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, stage in enumerate(pipeline.stages, 1):
        nxt = pipeline.next_stage(stage)
        prob = "" if stage.probability is None else f"{stage.probability:.0%}"
        rot = "" if stage.rotting_after is None else str(stage.rotting_after)
        rows.append(
            f"| {i} | {_cell(stage.name)} | `{_cell(stage.key)}` | {stage.outcome.value} | {prob} | "
            f"{'' if nxt is None else _cell(nxt.name)} | {rot} |"
        )
    rules = [
        f"skips {'allowed' if pipeline.allow_skip else 'refused'}",
        f"backward moves {'allowed' if pipeline.allow_backward else 'refused'}",
        f"reopening {'allowed' if pipeline.allow_reopen else 'refused'}",
        f"{len(pipeline.guards)} guard(s)",
    ]
    return f"**{_cell(pipeline.name)}**: {', '.join(rules)}.\n\n" + "\n".join(rows) + "\n"


def _guard_text(guard: object) -> str:
    channel = getattr(guard, "channel", None)
    if channel is not None:
        return f"needs a {channel} touchpoint"
    if type(guard).__name__ == "RequireValue":
        return "needs a value"
    return type(guard).__name__


def pipeline_sheet(pipeline: Pipeline) -> Sheet:
    """The stages as a table (key, name, outcome, probability, rotting, guards) and the rules."""
    per_stage: dict[str, list[str]] = {}
    anywhere = 0
    for guard in pipeline.guards:
        stage = getattr(guard, "stage", None)
        if isinstance(stage, str):
            per_stage.setdefault(pipeline.stage(stage).key, []).append(_guard_text(guard))
        else:
            anywhere += 1
    rows = []
    for i, stage in enumerate(pipeline.stages, 1):
        rows.append(
            [
                str(i),
                stage.key,
                stage.name,
                stage.outcome.value,
                pct(stage.probability, 0) if stage.probability is not None else MISSING,
                MISSING if stage.rotting_after is None else number(stage.rotting_after / DAY, 0),
                "; ".join(per_stage.get(stage.key, [])),
            ]
        )
    columns = [
        Col("#"),
        Col("key", numeric=False),
        Col("name", numeric=False),
        Col("outcome", numeric=False),
        Col("probability"),
        Col("rotting after (days)"),
        Col("guards", numeric=False),
    ]
    facts = [
        ("skips", "allowed" if pipeline.allow_skip else "refused"),
        ("backward moves", "allowed" if pipeline.allow_backward else "refused"),
        ("reopening", "allowed" if pipeline.allow_reopen else "refused"),
    ]
    notes = [f"{anywhere:,} guard function(s) are asked before every move."] if anywhere else []
    # Pages that load Mermaid (mkdocs-material, GitHub) draw the <pre class="mermaid">;
    # elsewhere the folded source is there to copy.
    diagram = (
        '<details><summary>Mermaid diagram</summary><pre class="mermaid">'
        f"{html.escape(to_mermaid(pipeline))}</pre></details>"
    )
    return Sheet(
        f"Pipeline {pipeline.name}: {len(pipeline.stages)} stages",
        facts,
        [Table(columns, rows)],
        notes,
        diagram,
    )


def deal_sheet(deal: Deal) -> Sheet:
    """A deal: its facts, then its history (at, stage, actor, reason)."""
    facts = [
        ("stage", deal.stage.name),
        ("pipeline", deal.pipeline.name),
        ("value", "none" if deal.value is None else str(deal.value)),
    ]
    if deal.owner is not None:
        facts.append(("owner", deal.owner))
    columns = [
        Col("at", numeric=False),
        Col("stage", numeric=False),
        Col("actor", numeric=False),
        Col("reason", numeric=False),
    ]
    rows = [
        [
            c.at.isoformat(),
            deal.pipeline.stage(c.stage).name,
            c.actor or "",
            c.reason or "",
        ]
        for c in deal.history
    ]
    return Sheet(f"Deal {deal.id}", facts, [Table(columns, rows)])


def deal_html(deal: Deal) -> str:
    """The notebook view of a deal."""
    return deal_sheet(deal).html()
