"""Ready-made pipelines.

Each function builds a fresh, validated :class:`~salesflow.Pipeline`; pass rule
keywords (``allow_skip=True``, ``guards=[...]``) to adjust it.

The probabilities of :func:`b2b` and :func:`investor` are illustrative
defaults for a weighted pipeline, not measurements: replace them with your own
or with empirical ones computed from history.
"""

from __future__ import annotations

from typing import Any

from ._pipeline import Pipeline
from ._stage import Outcome, Stage

__all__ = ["b2b", "hubspot_default", "investor"]


def b2b(**rules: Any) -> Pipeline:
    """The seven-stage B2B sales pipeline, then *Closed won* / *Closed lost*.

    Stages: Prospecting, Lead generation, Initial contact, Needs assessment,
    Solution presentation, Proposal, Negotiation.

    Examples:
        >>> from salesflow import templates
        >>> [s.key for s in templates.b2b().open_stages][:3]
        ['Prospecting', 'Lead generation', 'Initial contact']
    """
    return Pipeline.linear(
        "B2B sales",
        [
            "Prospecting",
            "Lead generation",
            "Initial contact",
            "Needs assessment",
            "Solution presentation",
            "Proposal",
            "Negotiation",
        ],
        probabilities=[0.05, 0.10, 0.20, 0.30, 0.40, 0.60, 0.80],
        **rules,
    )


def investor(**rules: Any) -> Pipeline:
    """A portfolio manager's pipeline for winning investors.

    Stages: Prospecting, Qualification, Initial contact, Needs assessment,
    Solution presentation, Negotiation, then *Closed won* / *Closed lost*.
    """
    return Pipeline.linear(
        "Investor relations",
        [
            "Prospecting",
            "Qualification",
            "Initial contact",
            "Needs assessment",
            "Solution presentation",
            "Negotiation",
        ],
        probabilities=[0.05, 0.10, 0.25, 0.40, 0.60, 0.80],
        **rules,
    )


def hubspot_default(**rules: Any) -> Pipeline:
    """HubSpot's default deal pipeline: internal stage ids as keys, labels as names.

    The stages carry HubSpot's default probabilities.

    Appointment scheduled 20 %, Qualified to buy 40 %, Presentation scheduled
    60 %, Decision maker bought-in 80 %, Contract sent 90 %, Closed won 100 %,
    Closed lost 0 %.

    Examples:
        >>> from salesflow import templates
        >>> p = templates.hubspot_default()
        >>> p.stage("Contract sent").key, p.stage("contractsent").probability
        ('contractsent', 0.9)
    """
    return Pipeline(
        "Sales Pipeline",
        [
            Stage("appointmentscheduled", "Appointment scheduled", probability=0.2),
            Stage("qualifiedtobuy", "Qualified to buy", probability=0.4),
            Stage("presentationscheduled", "Presentation scheduled", probability=0.6),
            Stage("decisionmakerboughtin", "Decision maker bought-in", probability=0.8),
            Stage("contractsent", "Contract sent", probability=0.9),
            Stage("closedwon", "Closed won", outcome=Outcome.WON, probability=1.0),
            Stage("closedlost", "Closed lost", outcome=Outcome.LOST, probability=0.0),
        ],
        **rules,
    )
