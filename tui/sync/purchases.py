"""Purchase rows: one row per item, grouped by the order column into one purchase (`PurchaseRecord`),
or rejections (`profiles.Invalid`, one per row). Pure: no network, no history.

- Orders must be contiguous in the file, as exports sorted (or grouped) by order are: a purchase is
  complete when the next order's first row arrives, so only the current order's rows are held, never
  the file. Finished orders are remembered as a 64-bit digest and their rows (about 150 bytes each,
  whatever their item count), so an order that resumes after other orders is refused naming where it
  was before: `order_not_contiguous` for each row of the later part. The earlier part has already been
  handed on as its own purchase by then (holding it back would mean holding the file); the dry run
  reports the refusal before anything is sent.
- An order goes whole or not at all: a row with a bad price, currency, quantity, user, time or key
  rejects with its own reason, and every other row of its order with `order_rejected` naming it.
  Sending the rest would record a smaller purchase than the customer made, and since Attentive has no
  purchase id, the corrected order sent later would count as a second purchase.
- Rows of one order must agree on the user, occurredAt (the same instant) and the event key; the
  rows that differ from the order's first row reject as `order_inconsistent`, the others as
  `order_rejected`.
- A row whose order id is empty, or that cannot be read at all, rejects alone: its order is unknown,
  so it neither ends nor joins the order around it.
- Prices: a number, or text holding one ("19.99", "20"; no currency signs, thousands separators or
  exponents), not negative. Currencies: ISO 4217 (the shipped list, tui.settings.currencies), read
  case-insensitively ("usd" -> "USD"). Quantity: a whole number of at least 1, left out when empty.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tui.settings.currencies import is_iso_4217
from tui.settings.model import Destination
from tui.sync import reasons
from tui.sync.events import RowProblem, RowReader, text_value
from tui.sync.profiles import Invalid
from tui.sync.source_files import SourceRow

_NUMBER = re.compile(r"\+?(?:\d+(?:\.\d*)?|\.\d+)\Z")


@dataclass(frozen=True, slots=True)
class PurchaseItem:
    row: int
    product_id: str
    product_variant_id: str
    price: int | float
    currency: str
    quantity: int | None = None
    name: str | None = None
    product_url: str | None = None
    product_image: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The spec's ProductRequest; absent optional fields are left out."""
        item: dict[str, Any] = {"productId": self.product_id, "productVariantId": self.product_variant_id,
                                "price": [{"value": self.price, "currency": self.currency}]}
        for key, value in (("quantity", self.quantity), ("name", self.name), ("productUrl", self.product_url),
                           ("productImage", self.product_image)):
            if value is not None:
                item[key] = value
        return item


@dataclass(frozen=True, slots=True)
class PurchaseRecord:
    rows: tuple[int, ...]            # the order's rows, in file order
    order_id: str
    items: tuple[PurchaseItem, ...]
    occurred_at: str                 # RFC 3339 with Z or +HH:MM
    identifier: str                  # the primary identifier, normalised
    kind: str                        # "email" or "phone"
    sales_channel: str               # WEB | IOS_APP | ANDROID_APP | IN_STORE | PHONE | OTHER
    key: tuple[str, ...]             # the event key's values (the order id unless event_key says otherwise)

    @property
    def row(self) -> int:
        return self.rows[0]

    def user(self) -> dict[str, str]:
        return {self.kind: self.identifier}


@dataclass(slots=True)
class _Line:
    """One valid row of the order being gathered."""
    identifier: str
    moment: dt.datetime
    stamp: str
    key: tuple[str, ...]
    item: PurchaseItem


class PurchaseBuilder:
    """Groups the rows of one destination (kind "purchase") into purchases; see the module's notes."""

    def __init__(self, destination: Destination):
        self.reader = reader = RowReader(destination, "purchase")
        event = reader.event
        if not (event.order_column and event.product_id_column and event.product_variant_id_column and event.price_column):
            raise ValueError(f"destination {destination.name!r} lacks one of order_column, product_id_column, "
                             "product_variant_id_column and price_column")
        self.order_column = event.order_column
        self._order = reader.column(event.order_column)
        self.key_columns = event.event_key or (event.order_column,)
        for column in self.key_columns:
            reader.column(column)
        self._required = [(label, column, reader.column(column)) for label, column in (
            ("product id", event.product_id_column), ("product variant id", event.product_variant_id_column))]
        self._price = reader.column(event.price_column)
        self._currency = reader.column(event.currency_column) if event.currency_column else None
        self._optional = [(field, column, reader.column(column)) for field, column in (
            ("name", event.name_column), ("product_url", event.product_url_column),
            ("product_image", event.product_image_column)) if column]
        self._quantity = reader.column(event.quantity_column) if event.quantity_column else None
        self._restart()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.reader.columns

    def group(self, rows: Iterable[SourceRow]) -> Iterator[PurchaseRecord | Invalid]:
        """Purchases and rejections, in file order (an order's rejections when the order ends)."""
        self._restart()
        for source in rows:
            yield from self.feed(source)
        yield from self.end()

    def _restart(self) -> None:
        self._current: str | None = None
        self._lines: list[tuple[int, _Line | Invalid]] = []
        self._finished: dict[int, tuple[int, int]] = {}   # order digest -> (first row, last row)
        self._earlier: tuple[int, int] | None = None      # set while the current order is a resumed one

    def feed(self, source: SourceRow) -> list[PurchaseRecord | Invalid]:
        """One more row, for a caller that reads rows in chunks: what it completes (the previous
        order, or this row's rejection). `end` gives the last order."""
        order, invalid = self._order_id(source)
        if invalid is not None:
            return [invalid]
        done: list[PurchaseRecord | Invalid] = []
        if order != self._current:
            done = self.end()
            self._current, self._earlier = order, self._finished.get(_digest(order))
        self._lines.append((source.row, self._line(source)))
        return done

    def end(self) -> list[PurchaseRecord | Invalid]:
        """The order being gathered, finished (nothing when there is none)."""
        current, lines = self._current, self._lines
        if current is None or not lines:
            return []
        self._finished.setdefault(_digest(current), (lines[0][0], lines[-1][0]))
        self._current, self._lines = None, []
        return list(self._finish(current, lines, self._earlier))

    def _order_id(self, source: SourceRow) -> tuple[str, Invalid | None]:
        if source.problem is not None:
            return "", Invalid(source.row, reasons.MALFORMED_ROW, f"row {source.row} {source.problem}")
        try:
            order = text_value(source.values[self._order], self.order_column)
        except RowProblem as problem:
            return "", Invalid(source.row, problem.reason, problem.message)
        if order is None:
            return "", Invalid(source.row, reasons.MISSING_PURCHASE_VALUE,
                               f"{self.order_column!r} (the order) is empty; the row belongs to no order")
        return order, None

    def _line(self, source: SourceRow) -> _Line | Invalid:
        identifier: str | None = None
        try:
            identifier = self.reader.identifier(source)
            moment, stamp = self.reader.occurred(source)
            key = self.reader.key(source, self.key_columns)
            return _Line(identifier, moment, stamp, key, self._item(source))
        except RowProblem as problem:
            return Invalid(source.row, problem.reason, problem.message, identifier)

    def _item(self, source: SourceRow) -> PurchaseItem:
        values = source.values
        ids = []
        for label, column, index in self._required:
            text = text_value(values[index], column)
            if text is None:
                raise RowProblem(reasons.MISSING_PURCHASE_VALUE, f"{column!r} (the {label}) is empty")
            ids.append(text)
        extra = {field: text_value(values[index], column) for field, column, index in self._optional}
        return PurchaseItem(source.row, ids[0], ids[1], self._price_of(values[self._price]), self._currency_of(source),
                            self._quantity_of(source), **extra)

    def _price_of(self, value: Any) -> int | float:
        column = self.columns[self._price]
        number: int | float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value if math.isfinite(value) else None
        elif isinstance(value, str) and _NUMBER.match(value.strip()):
            text = value.strip().lstrip("+")
            number = float(text) if "." in text else int(text)
        if number is None:
            shown = "empty" if value is None or value == "" else f"{str(value)[:40]!r}"
            raise RowProblem(reasons.PRICE_INVALID, f"{column!r} (the price) is {shown}, not a number; write the amount "
                                                    "alone, like 19.99 (the currency has its own column or constant)")
        if number < 0:
            raise RowProblem(reasons.PRICE_INVALID, f"{column!r} (the price) is negative ({number}); a purchase "
                                                    "records what was bought, not a refund")
        return number

    def _currency_of(self, source: SourceRow) -> str:
        event = self.reader.event
        if self._currency is None:
            return event.currency or ""
        column = event.currency_column or ""
        text = text_value(source.values[self._currency], column)
        code = (text or "").upper()
        if not is_iso_4217(code):
            shown = "empty" if text is None else f"{text[:20]!r}"
            raise RowProblem(reasons.CURRENCY_INVALID, f"{column!r} (the currency) is {shown}, not an ISO 4217 code "
                                                       "such as USD or EUR")
        return code

    def _quantity_of(self, source: SourceRow) -> int | None:
        if self._quantity is None:
            return None
        column = self.columns[self._quantity]
        text = text_value(source.values[self._quantity], column)
        if text is None:
            return None
        if not text.isascii() or not text.isdigit() or int(text) < 1:
            raise RowProblem(reasons.QUANTITY_INVALID, f"{column!r} (the quantity) is {text[:20]!r}, not a whole "
                                                       "number of at least 1")
        return int(text)

    def _finish(self, order: str, lines: list[tuple[int, _Line | Invalid]],
                earlier: tuple[int, int] | None) -> Iterator[PurchaseRecord | Invalid]:
        if earlier is not None:
            first, last = earlier
            for row, line in lines:
                yield Invalid(row, reasons.ORDER_NOT_CONTIGUOUS,
                              f"order {order[:60]!r} was already read at rows {first}-{last} and resumes at row "
                              f"{lines[0][0]} after other orders; sort the export by order so each order's rows are "
                              "together", _identifier(line))
            return
        culprits = {row: line for row, line in lines if isinstance(line, Invalid)}
        valid = [(row, line) for row, line in lines if isinstance(line, _Line)]
        if not culprits and valid:
            base_row, base = valid[0]
            for row, line in valid[1:]:
                differs = [what for what, same in (("user", line.identifier == base.identifier),
                                                   ("occurredAt", line.moment == base.moment),
                                                   ("event key", line.key == base.key)) if not same]
                if differs:
                    culprits[row] = Invalid(row, reasons.ORDER_INCONSISTENT,
                                            f"order {order[:60]!r}: this row's {' and '.join(differs)} differ from row "
                                            f"{base_row}'s; every row of an order is one purchase", line.identifier)
        if culprits:
            row, cause = min(culprits.items())
            for at, line in lines:
                yield culprits.get(at) or Invalid(
                    at, reasons.ORDER_REJECTED, f"order {order[:60]!r} is not sent: its row {row} was rejected "
                                                f"({cause.reason}); an order is sent whole or not at all", _identifier(line))
            return
        base = valid[0][1]
        yield PurchaseRecord(tuple(row for row, _ in valid), order, tuple(line.item for _, line in valid), base.stamp,
                             base.identifier, self.reader.kind, self.reader.event.sales_channel, base.key)


def _identifier(line: _Line | Invalid) -> str | None:
    return line.identifier


def _digest(order: str) -> int:
    return int.from_bytes(hashlib.blake2b(order.encode(), digest_size=8).digest(), "big")
