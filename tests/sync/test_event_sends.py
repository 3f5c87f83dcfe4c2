"""Custom events and purchases sent once, end to end against the simulator in this process: exact
counts and reasons for a mixed file, nothing sent again by a second send, and faults that never make
an event arrive twice unless a retry is told --include-unknown."""
from __future__ import annotations

import copy
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from event_kit import arrivals, order_rows, orders, visit, visits, write_orders, write_visits
from spec_kit import v1
from sync_kit import send

from tui.attentive.simulator.faults import parse_fault_spec
from tui.sync import event_ledger, reasons
from tui.sync.engine import SendRefused

pytestmark = pytest.mark.asyncio
FAST = {"timeout_s": 2, "backoff_base_s": 0.001, "backoff_cap_s": 0.002}  # the client's retries, not its pacing


def reasons_of(data_dir: Path, run_id: int) -> dict[int, str]:
    with closing(sqlite3.connect(data_dir / "history.sqlite3")) as db:
        return dict(db.execute("SELECT row, reason FROM rejections WHERE run_id = ?", (run_id,)).fetchall())


def mixed_visits(path: Path) -> Path:
    rows = [visit(i) for i in range(20)]
    rows[3]["email"] = "not-an-email"                     # row 5
    rows[5]["kind"] = "Visit (in store)"                  # row 7: parentheses are refused in a type
    rows[8]["visit_id"] = ""                              # row 10: no event key
    rows[11]["visited_at"] = "2026-13-40T99:00:00Z"       # row 13
    rows[14]["visited_at"] = "2026-03-08T09:30:00"        # row 16: no offset, no time zone
    rows[17]["visit_id"] = rows[16]["visit_id"]           # row 19: the same event as row 18
    rows[2]["visited_at"] = visit(0, hours_ago=30)["visited_at"]  # row 4: sent, but stale
    return write_visits(path, rows)


async def test_a_mixed_file_of_custom_events_is_sent_once_with_exact_counts_and_reasons(simulator, tmp_path):
    source = mixed_visits(tmp_path / "visits.csv")
    first = await send(simulator, tmp_path / "data", visits(), source, follow=False)
    run = first.run
    assert run.status == "finished", run.message
    assert (run.rows_read, run.accepted, run.invalid, run.unknown, run.stale_events) == (20, 14, 6, 0, 1)
    assert reasons_of(tmp_path / "data", run.id) == {
        5: reasons.INVALID_EMAIL, 7: reasons.EVENT_TYPE_INVALID, 10: reasons.MISSING_EVENT_KEY,
        13: reasons.TIMESTAMP_INVALID, 16: reasons.TIMESTAMP_NO_OFFSET, 19: reasons.DUPLICATE_EVENT}
    arrived = arrivals(simulator, "custom-events")
    assert len(arrived) == 14 and set(arrived.values()) == {1}
    assert set(arrived) == {event_ledger.event_id("store-visits", (f"V{i:05d}",))
                            for i in range(20) if i not in (3, 5, 8, 11, 14, 17)}
    for sent in simulator.sim.state.events.of("custom-events"):  # as the v1 spec file defines the request
        v1("/v1/events/custom")(copy.deepcopy(sent.body))
    body = simulator.sim.state.events.of("custom-events")[0].body
    assert body["type"] == "In-store visit" and body["properties"] == {"Store": "Store 0", "Source": "POS"}
    assert body["occurredAt"].endswith("Z") and body["user"] == {"email": "visitor0@example.com"}

    again = await send(simulator, tmp_path / "data", visits(), source, follow=False)
    assert (again.run.accepted, again.run.skipped_already_sent, again.run.invalid) == (0, 14, 6)
    assert arrivals(simulator, "custom-events") == arrived


async def test_purchases_go_whole_and_once(simulator, tmp_path):
    rows = order_rows(1, 3) + order_rows(2, 2) + order_rows(3, 2) + order_rows(4, 1)
    rows[5]["price"] = "twelve"   # order 3's first item: the whole order stays home
    source = write_orders(tmp_path / "receipts.csv", rows)
    first = await send(simulator, tmp_path / "data", orders(), source, follow=False)
    assert (first.run.rows_read, first.run.accepted, first.run.invalid) == (8, 6, 2)
    assert reasons_of(tmp_path / "data", first.run.id) == {7: reasons.PRICE_INVALID, 8: reasons.ORDER_REJECTED}
    assert arrivals(simulator, "purchase-events") == {"R00001": 1, "R00002": 1, "R00004": 1}
    for sent in simulator.sim.state.events.of("purchase-events"):
        v1("/v1/events/ecommerce/purchase")(copy.deepcopy(sent.body))
    first_order = simulator.sim.state.events.of("purchase-events")[0].body
    assert [item["productId"] for item in first_order["items"]] == ["SKU0", "SKU1", "SKU2"]
    assert first_order["salesChannel"] == {"channelType": "IN_STORE"}

    again = await send(simulator, tmp_path / "data", orders(), source, follow=False)
    assert (again.run.skipped_already_sent, again.run.accepted) == (6, 0)
    assert arrivals(simulator, "purchase-events") == {"R00001": 1, "R00002": 1, "R00004": 1}


def _visit_file(folder: Path) -> tuple[Path, Callable[[str], str]]:
    """200 visits, and the ledger id of an arrival (a custom event arrives under its externalEventId)."""
    return write_visits(folder / "visits.csv", [visit(i) for i in range(200)]), lambda arrival: arrival


def _order_file(folder: Path) -> tuple[Path, Callable[[str], str]]:
    """200 one-item purchases, and the ledger id of an arrival (a purchase arrives under its orderId)."""
    rows = [row for order in range(200) for row in order_rows(order, 1)]
    return write_orders(folder / "receipts.csv", rows), lambda order: event_ledger.event_id("till-receipts", (order,))


@pytest.mark.parametrize(("destination", "endpoint", "make"), [
    (visits(), "custom-events", _visit_file), (orders(), "purchase-events", _order_file)], ids=["custom", "purchase"])
async def test_answers_that_leave_an_event_open_are_unknown_and_only_include_unknown_sends_them(
        start_simulator, tmp_path, destination, endpoint, make):
    faulty = await start_simulator(faults=parse_fault_spec("500after=0.15,dropafter=0.1,500=0.1,429burst=0.01:3"), seed=11)
    source, ledger_id = make(tmp_path)
    data = tmp_path / "data"
    runs = [await send(faulty, data, destination, source, follow=False, client_options=FAST)]
    while runs[-1].run.status != "finished":   # the breaker stops a run in a storm; the operator resumes it
        assert len(runs) < 60
        runs.append(await send(faulty, data, destination, None, follow=False, resume_run_id=runs[0].run.id, client_options=FAST))
    run = runs[-1].run
    assert run.unknown > 0 and run.accepted + run.unknown + run.failed == 200
    assert run.throttled > 0                                # the 429 storms came, and were waited out
    arrived = {ledger_id(name): count for name, count in arrivals(faulty, endpoint).items()}
    assert max(arrived.values()) == 1                       # nothing arrived twice
    ledger = _ledger(data)
    accepted = {event for event, state in ledger.items() if state == event_ledger.SENT}
    assert accepted <= set(arrived)                         # every accepted event arrived
    assert len(accepted) == run.accepted

    if not run.failed:  # a plain retry has nothing to send: the unknown events wait for the operator's word
        with pytest.raises(SendRefused, match="only with --include-unknown"):
            await send(faulty, data, destination, None, follow=False, retry_of=run.id)
    retried = await send(faulty, data, destination, None, follow=False, retry_of=run.id, include_unknown=True,
                         client_options=FAST)
    assert retried.run.rows_read == run.unknown + run.failed
    after = {ledger_id(name): count for name, count in arrivals(faulty, endpoint).items()}
    # Only unknown events can have arrived twice, and only through the retry the operator asked for.
    twice = {event for event, count in after.items() if count > 1}
    unknown_before = {event for event, state in ledger.items() if state == event_ledger.UNKNOWN_STATE}
    assert twice <= unknown_before


def _ledger(data_dir: Path) -> dict[str, int]:
    with closing(sqlite3.connect(data_dir / "history.sqlite3")) as db:
        return dict(db.execute("SELECT event_id, state FROM event_ledger").fetchall())
