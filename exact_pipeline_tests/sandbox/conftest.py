"""Fixtures for the sandbox tests: an authorised HTTP client speaking to the sandbox the way
an Exact client would (bearer token, `Accept: application/json`)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from exact_pipeline_tests.conftest import SandboxProcess
from exact_pipeline_tests.sandbox.helpers import ExactClient


@pytest.fixture
def exact(sandbox: SandboxProcess) -> Iterator[ExactClient]:
    """A client holding tokens for the two demo divisions."""
    with httpx.Client(base_url=sandbox.url, timeout=10) as http:
        client = ExactClient(http)
        client.connect([310001, 320001])
        yield client


@pytest.fixture
def admin(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox", timeout=10) as http:
        yield http
