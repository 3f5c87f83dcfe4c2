"""A send makes the cycle collector run rarer while it runs, and gives the process its own
thresholds back afterwards, also when the send fails."""
from __future__ import annotations

import gc

import pytest
from sync_kit import loyalty, send, valid_row, write_jsonl

from tui.attentive.secret import ApiKey
from tui.sync.engine import SendRequest, run_send
from tui.sync.gc_pause import GC_THRESHOLD


@pytest.fixture
def default_threshold():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*saved)


async def test_collections_are_rarer_during_a_send_and_as_before_after_it(simulator, tmp_path, default_threshold):
    during: list[tuple[int, int, int]] = []
    source = write_jsonl(tmp_path / "audience.jsonl", [valid_row(i) for i in range(300)])
    request = SendRequest(environment="sandbox", destination=loyalty("bulk"), source=source, operator="tester",
                          data_dir=tmp_path / "data", base_url=simulator.url, api_key=ApiKey(simulator.full_key))
    result = await run_send(request, on_progress=lambda progress: during.append(gc.get_threshold()))
    assert result.run.status == "awaiting_results"
    assert during and set(during) == {GC_THRESHOLD}
    assert gc.get_threshold() == default_threshold


async def test_the_thresholds_come_back_after_a_send_that_fails(simulator, tmp_path, default_threshold):
    source = write_jsonl(tmp_path / "audience.jsonl", [valid_row(i) for i in range(10)])
    result = await send(simulator, tmp_path / "data", loyalty("bulk"), source, key="not-a-known-key")
    assert result.run.status == "failed"
    assert gc.get_threshold() == default_threshold
