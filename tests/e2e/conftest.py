"""Fixtures the end-to-end tests share (the rest live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.search_support import FakeHuggingFace, running_hf


@pytest.fixture
async def hf() -> AsyncIterator[FakeHuggingFace]:
    """A Hugging Face stand-in on 127.0.0.1 that /paper and like: look-ups ask."""
    async with running_hf() as server:
        yield server
