"""Text pictures of pipelines and deals: Mermaid, Markdown, notebook HTML."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

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


def deal_html(deal: Deal) -> str:
    esc = html.escape
    head = (
        f"<p><b>Deal {esc(deal.id)}</b> in <i>{esc(deal.stage.name)}</i> "
        f"({esc(deal.pipeline.name)}){'' if deal.value is None else ', ' + esc(str(deal.value))}</p>"
    )
    rows = "".join(
        f"<tr><td>{esc(c.at.isoformat())}</td><td>{esc(deal.pipeline.stage(c.stage).name)}</td>"
        f"<td>{esc(c.actor or '')}</td><td>{esc(c.reason or '')}</td></tr>"
        for c in deal.history
    )
    table = f"<table><tr><th>at</th><th>stage</th><th>actor</th><th>reason</th></tr>{rows}</table>"
    return head + table
