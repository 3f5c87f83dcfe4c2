"""Untyped mapped columns whose text Attentive would turn into a Number (leading zero or `+`)."""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing

from tui.settings.attribute_types import constant_traps, number_trap, number_trap_warning
from tui.settings.model import Destination
from tui.sync.sources import SourceReader, SourceRow, SourceSpec, inspect_source


class TrapScanner:
    """Feed it the rows read for `destination` (its ProfileBuilder's column order); `warnings()`
    names each untyped attribute that holds such a value, with the first example seen."""

    def __init__(self, destination: Destination, columns: tuple[str, ...]):
        self.destination = destination
        identifier_columns = set(destination.identifiers.values())
        self._watch = [(name, columns.index(column)) for name, column in destination.attributes.items()
                       if name not in destination.types and column not in identifier_columns and column in columns]
        self.examples: dict[str, str] = {}

    @property
    def done(self) -> bool:
        """Every watched attribute has its example: reading on would find nothing new."""
        return len(self.examples) == len(self._watch)

    def feed(self, rows: Iterable[SourceRow]) -> None:
        if self.done:
            return
        for source in rows:
            if source.problem is not None:
                continue
            for name, index in self._watch:
                value = source.values[index]
                if name not in self.examples and number_trap(value):
                    self.examples[name] = str(value).strip()

    def warnings(self) -> list[str]:
        destination = self.destination
        return constant_traps(destination.name, destination.constants, destination.types) + [
            number_trap_warning(destination.name, name, example) for name, example in sorted(self.examples.items())]


def scan_source(destination: Destination, columns: tuple[str, ...], source: SourceSpec) -> list[str]:
    """The warnings for the file, read only until every untyped attribute has shown one (a dry run
    of a million rows should not read the file again to the end for a warning already found)."""
    scanner = TrapScanner(destination, columns)
    if scanner.done:
        return scanner.warnings()  # no untyped column to watch: no second pass over the file at all
    with closing(SourceReader(inspect_source(source), columns).chunks()) as chunks:
        for chunk in chunks:
            scanner.feed(chunk)
            if scanner.done:
                break
    return scanner.warnings()
