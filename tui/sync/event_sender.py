"""Delivering events and subscriptions, each sent once: one POST per item from a pool of workers.

Before a request leaves, its event is marked in flight in the ledger, and that mark is committed
(marks of events leaving together share one commit). So whatever stops the process, the event is
known: sent (2xx), rejected (4xx: Attentive did not record it; the mark goes), failed (429s or a
connection that never opened, after every retry: provably not received; the mark goes, `retry`
sends it), or unknown (a 5xx, a timeout or a dropped connection after the request left, or a mark
still in flight when the process died): never sent again on our own.

At most EVENT_WORKERS events are marked and not yet answered: that bounds what a kill -9 leaves
unknown. 16 keep Attentive's 150 requests/s busy at answers up to 100 ms.

A subscription accepted also deletes the ledger entry of its opposite (an unsubscribe's when it
subscribed), so the ledger holds each person's last accepted action. With check_first, Attentive is
asked before subscribing (GET /v1/subscriptions): a person it already counts as subscribed on the
channel is recorded so and not posted (a re-subscribe texts them "already subscribed"); a check that
gets no readable answer stops that person's subscribe (failed, `retry` tries again), never guesses.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from tui.attentive.client import AttentiveClient
from tui.attentive.outcomes import Outcome, OutcomeKind
from tui.settings.model import Destination
from tui.sync import event_ledger, reasons
from tui.sync.control import SendControl
from tui.sync.event_planner import Outbound
from tui.sync.history_schema import ACCEPTED, FAILED, REJECTED, SKIPPED_SENT, UNKNOWN
from tui.sync.history_writer import HistoryWriteError, RunRecorder
from tui.sync.senders import ROUND_BACKOFF, ROUNDS, WorkerPool
from tui.sync.tally import Tally

EVENT_WORKERS = 16

UNKNOWN_NOW = ("{text}: the request left and no answer says whether Attentive recorded it, so it is not sent again "
               "on its own; check in Attentive, then `attentive-console retry {run} --include-unknown` sends it")


class EventSender:
    def __init__(self, client: AttentiveClient, destination: Destination, tally: Tally, control: SendControl):
        self.client = client
        self.subscription = destination.subscription
        self.tally = tally
        self.recorder: RunRecorder = tally.recorder
        self.control = control
        self._marking: list[tuple[Outbound, asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None
        self._pool = WorkerPool(tally, EVENT_WORKERS, self._deliver, lambda event: len(event.rows))

    async def put(self, event: Outbound) -> None:
        await self._pool.put(event)

    async def drain(self) -> None:
        await self._pool.drain()

    async def _deliver(self, event: Outbound) -> None:
        await self.control.wait_running()
        if self.control.cancelled or self.tally.stopping:
            return  # left pending, unmarked: a resume sends it
        try:
            await self._mark(event)
        except HistoryWriteError as error:
            self.tally.history_failed(error)
            self.control.cancel()  # nothing may leave unrecorded
            return
        if event.check_first and not await self._not_subscribed_yet(event):
            return
        for round_number in range(1, ROUNDS + 1):
            outcome = await self._post(event)
            if outcome.ok:
                self.tally.count_success()
                self.recorder.answer_event(event.event_id, event.rows, ACCEPTED, event_ledger.SENT)
                if event.opposite_id is not None:
                    self.recorder.release_event(event.opposite_id)
                return
            if outcome.kind is OutcomeKind.UNKNOWN:
                message = UNKNOWN_NOW.format(text=outcome.text, run=self.recorder.run_id)
                self.recorder.answer_event(event.event_id, event.rows, UNKNOWN, event_ledger.UNKNOWN_STATE,
                                           reasons.EVENT_UNKNOWN, identifier=event.identifier,
                                           status=outcome.status, message=message)
                self.tally.count_failure(outcome)  # a 5xx storm stops the run rather than leave every event unknown
                return
            if outcome.kind is OutcomeKind.REJECTED:
                self.tally.count_success()
                self.recorder.answer_event(event.event_id, event.rows, REJECTED, None, reasons.ATTENTIVE_REJECTED,
                                           identifier=event.identifier, status=outcome.status, message=outcome.text)
                return
            # Not received (fatal, throttled, never connected, cancelled before leaving): the mark goes.
            if outcome.kind is OutcomeKind.FATAL or self.control.cancelled:
                if outcome.kind is OutcomeKind.FATAL:
                    self.tally.fatal(outcome)
                self.recorder.release_event(event.event_id)  # left pending: a resume sends it
                return
            if round_number == ROUNDS:
                self.recorder.answer_event(event.event_id, event.rows, FAILED, None, reasons.SEND_FAILED,
                                           identifier=event.identifier, status=outcome.status, message=outcome.text)
                self.tally.count_failure(outcome)
                return
            self.tally.retrying += len(event.rows)
            await self.control.sleep(ROUND_BACKOFF.delay(round_number))
            self.tally.retrying -= len(event.rows)

    async def _post(self, event: Outbound) -> Outcome:
        if event.endpoint == "purchase-events":
            return await self.client.post_ecommerce_event("purchase", event.body)
        if event.endpoint == "subscriptions":
            return await self.client.post_subscription(event.body)
        if event.endpoint == "unsubscribe":
            return await self.client.post_unsubscribe(event.body)
        return await self.client.post_custom_event(event.body)

    async def _not_subscribed_yet(self, event: Outbound) -> bool:
        """Ask Attentive first; False when the person is subscribed already (recorded so) or the
        question got no readable answer (recorded failed): either way nothing is posted."""
        user = event.body["user"]
        answer = await self.client.get_subscriptions(email=user.get("email"), phone=user.get("phone"))
        if answer.kind is OutcomeKind.FATAL:
            self.tally.fatal(answer)
            self.recorder.release_event(event.event_id)  # left pending: a resume asks again
            return False
        if answer.status == 404:  # the spec's answer for someone Attentive has no profile of: not subscribed
            return True
        held = subscribed_on(answer.data, event.body, self.subscription.subscription_type if self.subscription else None)
        if held is None or not answer.ok:
            text = answer.text if not answer.ok else "the answer lists no subscriptionEligibilities"
            self.recorder.answer_event(event.event_id, event.rows, FAILED, None, reasons.SEND_FAILED,
                                       identifier=event.identifier, status=answer.status,
                                       message=f"the eligibility check before subscribing failed ({text}); nothing was "
                                               "posted, so the person is not texted twice; retry asks again")
            self.tally.count_failure(answer)
            return False
        if held:
            self.tally.count_success()
            self.recorder.answer_event(event.event_id, event.rows, SKIPPED_SENT, event_ledger.SENT)
            if event.opposite_id is not None:
                self.recorder.release_event(event.opposite_id)
            return False
        return True

    async def _mark(self, event: Outbound) -> None:
        """Returns once the event's in-flight mark is committed (raises HistoryWriteError if it cannot be)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marking.append((event, done))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._commit_marks())
        await done

    async def _commit_marks(self) -> None:
        while self._marking:
            batch, self._marking = self._marking, []
            try:
                written: Future[None] = self.recorder.mark_in_flight([(e.event_id, e.rows) for e, _ in batch])
                await asyncio.wrap_future(written)
            except BaseException as error:  # noqa: BLE001 - handed to every waiter, which raises it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)


def subscribed_on(data: Any, body: Mapping[str, Any], subscription_type: str | None) -> bool | None:
    """Whether GET /v1/subscriptions' answer shows the person eligible on the body's channel (of the
    destination's type, when it names one); None when the answer cannot be read."""
    if not isinstance(data, Mapping) or not isinstance(data.get("subscriptionEligibilities"), list):
        return None
    channel = "TEXT" if body["user"].get("phone") else "EMAIL"
    for entry in data["subscriptionEligibilities"]:
        if not isinstance(entry, Mapping):
            continue
        subscription, eligibility = entry.get("subscription") or {}, entry.get("eligibility") or {}
        if (isinstance(subscription, Mapping) and subscription.get("channel") == channel
                and subscription_type in (None, subscription.get("type"))
                and isinstance(eligibility, Mapping) and eligibility.get("isEligible") is True):
            return True
    return False
