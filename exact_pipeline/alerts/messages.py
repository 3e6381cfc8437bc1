"""A group of new findings of one kind as one Slack-compatible message: `text` (what
notifications and clients without blocks show, the link included) and `blocks` (a header, the
causes, the link to the asset in Dagster's UI). Slack's incoming webhooks, Mattermost and most
chat tools that accept Slack's JSON read it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from exact_pipeline.alerts.findings import BUDGET, DOCUMENTS, FRESHNESS, LOGIN, Finding

# Slack's limits: a header's text, a section's text; and how much of a long list is shown.
HEADER_LIMIT, SECTION_LIMIT = 150, 3000
SHOWN = 10

Message = dict[str, Any]


def message(kind: str, findings: Sequence[Finding], link: str, asset: str) -> Message:
    """The message announcing `findings` (all of `kind`), linking to `asset` at `link`."""
    title = _title(kind, findings)
    lines = _lines(kind, findings)
    body = "\n".join(f"• {_escaped(line)}" for line in lines)
    if len(body) > SECTION_LIMIT:
        body = body[: SECTION_LIMIT - 1] + "…"
    see = f"<{link}|{asset} in Dagster>"
    return {
        "text": f"{title}: {'; '.join(lines)} ({link})",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:HEADER_LIMIT]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": see}]},
        ],
    }


def _title(kind: str, findings: Sequence[Finding]) -> str:
    if kind == DOCUMENTS:
        count = len(findings)
        return f"exact-pipeline: {count} document{'s' * (count != 1)} need a person"
    if kind == FRESHNESS:
        return "exact-pipeline: the documents' freshness promise is broken"
    if kind == BUDGET:
        return "exact-pipeline: Exact's daily API budget is nearly spent"
    if kind == LOGIN:
        return "exact-pipeline: the Exact Online connection needs a login"
    raise ValueError(kind)


def _lines(kind: str, findings: Sequence[Finding]) -> list[str]:
    if kind != DOCUMENTS:
        return [f"{f.subject}: {cause}" for f in findings for cause in f.causes]
    # Documents: each cause once with how many it holds back, then the documents.
    counts = Counter(cause for finding in findings for cause in finding.causes)
    lines = [f"{count} × {cause}" for cause, count in counts.most_common(SHOWN)]
    if len(counts) > SHOWN:
        lines.append(f"and {len(counts) - SHOWN} more causes")
    numbers = [finding.subject for finding in findings]
    more = f" and {len(numbers) - SHOWN} more" if len(numbers) > SHOWN else ""
    lines.append(f"documents: {', '.join(numbers[:SHOWN])}{more}")
    return lines


def _escaped(text: str) -> str:
    """Slack's mrkdwn reserves &, < and > (links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
