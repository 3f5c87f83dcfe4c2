"""The shipped sample audience is what its generator makes, and it has the bad rows it promises."""
from __future__ import annotations

from sync_kit import loyalty, send, stored_custom

from tui.sync import reasons
from tui.sync.history import HistoryStore
from tui.sync.rejections import RejectionLog
from tui.sync.sample_audience import SAMPLE_PATH, render, sample_rows


def test_the_committed_file_is_the_generator_output():
    assert SAMPLE_PATH.read_text(encoding="utf-8") == render(sample_rows())


async def test_the_sample_sends_with_every_kind_of_bad_row(simulator, tmp_path):
    result = await send(simulator, tmp_path / "data", loyalty(), SAMPLE_PATH)
    run = result.run
    assert run.status == "finished" and run.rows_read == 3000
    with HistoryStore(tmp_path / "data") as store:
        found = RejectionLog(store.connection, run.id).facets().reasons
    expected = {reasons.INVALID_EMAIL, reasons.INVALID_PHONE, reasons.MISSING_IDENTIFIER,
                reasons.DUPLICATE_IDENTIFIER, reasons.ATTENTIVE_REJECTED}
    assert set(found) == expected
    assert run.accepted == 3000 - sum(found.values())
    assert run.rejection_share < 0.05  # the shipped destination's threshold: the demo send passes
    first_email = SAMPLE_PATH.read_text().splitlines()[1].split(",")[0]
    assert stored_custom(simulator, first_email)["Points"]
