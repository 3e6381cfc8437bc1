"""Fault injection for the Exact-facing routes (`/api/…`, `/docs/…`).

A rule matches requests by path substring (and optionally method, and a substring of the
request body: `body_contains`, e.g. one document's number) and fires on every `every`-th match,
with `probability` (a seeded RNG), at most `times` times:

- `latency`: wait `latency_ms`, then answer normally.
- `error`: answer `status` (default 500) without doing anything; `body` says what it carries:
  `odata` (Exact's error JSON with a message), `empty`, or `html` (a gateway's or login page).
  A 4xx answered here counts towards the error block like one the API itself gave.
- `burst_429`: answer a minutely 429 (only the minutely headers) without counting the call.
- `lost_response`: do the work (a write is COMMITTED), then lose the answer: drop the
  connection without a reply, or answer `status` (e.g. 504, with `body`) instead of the real
  response.
- `token_failure`: the token endpoint fails: before doing anything (`status`, default 500),
  or with `after_commit: true` after issuing/rotating the tokens (dropped, or `status`).
- `too_early_refresh`: the token endpoint refuses as Exact does within 570 s of the last token
  (`too_early_refresh_status`, `Reason: TooEarlyToRefreshTokens`), without doing anything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal[
    "error", "latency", "lost_response", "burst_429", "token_failure", "too_early_refresh"
]
Body = Literal["odata", "empty", "html"]
TOKEN_PATH = "oauth2/token"
TOKEN_KINDS = ("token_failure", "too_early_refresh")


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    path: str = ""
    method: str | None = None
    body_contains: str | None = None  # only requests whose body holds this text
    times: int | None = Field(None, ge=0)
    every: int = Field(1, ge=1)
    probability: float = Field(1.0, ge=0.0, le=1.0)
    status: int | None = Field(None, ge=100, le=599)
    latency_ms: int = Field(0, ge=0)
    after_commit: bool = False
    body: Body = "odata"


@dataclass
class ActiveRule:
    rule: FaultRule
    matched: int = 0
    fired: int = 0

    def as_dict(self) -> dict:
        remaining = None if self.rule.times is None else max(self.rule.times - self.fired, 0)
        return self.rule.model_dump() | {
            "matched": self.matched,
            "fired": self.fired,
            "remaining": remaining,
        }


@dataclass
class Plan:
    """What the faults decided for one request."""

    latency_ms: int = 0
    answer_status: int | None = None  # answer this instead of running the request
    burst_429: bool = False
    lose: bool = False  # run, then lose the answer …
    lost_status: int | None = None  # … replaced by this status, or dropped when None
    body: Body = "odata"  # what an injected or replacing status carries
    too_early: bool = False  # refuse a token request as too early
    fault: str | None = None


class FaultEngine:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[ActiveRule] = []
        self.rng = random.Random(seed)

    def reseed(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def add(self, rules: list[FaultRule]) -> None:
        for rule in rules:
            if rule.kind in TOKEN_KINDS and not rule.path:
                rule = rule.model_copy(update={"path": TOKEN_PATH})
            self.rules.append(ActiveRule(rule))

    def clear(self) -> None:
        self.rules = []

    def listing(self) -> list[dict]:
        return [r.as_dict() for r in self.rules]

    def plan(self, method: str, path: str, body: bytes = b"") -> Plan:
        plan = Plan()
        for active in self.rules:
            rule = active.rule
            if rule.path not in path or (rule.method and rule.method.upper() != method.upper()):
                continue
            if rule.body_contains is not None and rule.body_contains.encode() not in body:
                continue
            if rule.kind in TOKEN_KINDS and TOKEN_PATH not in path:
                continue
            active.matched += 1
            exhausted = rule.times is not None and active.fired >= rule.times
            if exhausted or active.matched % rule.every or self.rng.random() >= rule.probability:
                continue
            active.fired += 1
            self._apply(rule, plan)
        return plan

    @staticmethod
    def _apply(rule: FaultRule, plan: Plan) -> None:
        plan.fault = plan.fault or rule.kind
        match rule.kind:
            case "latency":
                plan.latency_ms += rule.latency_ms
            case "error":
                plan.answer_status = plan.answer_status or rule.status or 500
                plan.body = rule.body
            case "burst_429":
                plan.burst_429 = True
            case "lost_response":
                plan.lose, plan.lost_status, plan.body = True, rule.status, rule.body
            case "too_early_refresh":
                plan.too_early = True
            case "token_failure" if rule.after_commit:
                plan.lose, plan.lost_status = True, rule.status
            case "token_failure":
                plan.answer_status = plan.answer_status or rule.status or 500
