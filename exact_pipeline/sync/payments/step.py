"""What a payment step (push or import) works with during one run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from exact_pipeline.exact import ExactClient
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.core.ledger import Connection


@dataclass
class PaymentStep:
    _state: Connection
    _billing_url: str
    _exact: ExactClient
    _mappings: Mappings
    _now: Callable[[], datetime]
