"""What an operator chooses to send, as a front end reads it from typed text: the source (a file, a
folder or a glob of an export's parts, or a DuckDB query) and this send's constants written as the
shell would (`Campaign="Winter 2026" Wave=3`, the `--set` values of `attentive-console send`).
No Textual here: the console reads its fields with these and its backend resolves them."""
from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.core.send_constants import with_constants
from tui.core.workspace import Target
from tui.settings.attribute_tables import ConstantsInput
from tui.settings.errors import SettingsError
from tui.sync.membership import AudienceCounts
from tui.sync.source_query import spool_query

_QUERY = re.compile(r"(select|with)\s", re.IGNORECASE)
CONSTANTS_EXAMPLE = 'Campaign="Winter 2026" Wave=3'
QUOTED_EXAMPLE = '"Sale Wave"="Winter 2026"'


@dataclass(frozen=True)
class SourceQuery:
    """A DuckDB query whose result is the audience (`send --query SQL`)."""
    sql: str

    def __str__(self) -> str:
        return self.sql


SendSource = Path | SourceQuery   # a Path may name a file, a folder or a glob: the source reader expands it


@dataclass(frozen=True)
class SendChoice:
    """What the operator chose: the destination, the source and this send's constants (NAME=VALUE items)."""
    destination: str
    source: SendSource
    constants: tuple[str, ...] = ()


def read_source(text: str) -> SendSource | None:
    """The source typed: None when empty, a query when it starts with SELECT or WITH (any case), else a path."""
    text = text.strip()
    if not text:
        return None
    if _QUERY.match(text):
        return SourceQuery(text)
    return Path(text).expanduser()


def resolved(source: SendSource, spool_dir: Path) -> tuple[Path, str | None]:
    """The path the engine reads and the query it came from: a query's result is spooled to Parquet
    under `spool_dir` (its own file each time it is asked)."""
    if isinstance(source, SourceQuery):
        return spool_query(source.sql, spool_dir), source.sql
    return source, None


def split_constants(text: str) -> tuple[str, ...]:
    """`Campaign="Winter 2026" Wave=3` -> ("Campaign=Winter 2026", "Wave=3"); SettingsError says what is wrong."""
    try:
        items = shlex.split(text)
    except ValueError as err:
        raise SettingsError(f"Constants: {err} (a quote is not closed); write NAME=VALUE pairs, quoting a value "
                            f"with spaces: {CONSTANTS_EXAMPLE}") from None
    return tuple(items)


CONSTANTS_FIELD = ConstantsInput("Constants:", f"NAME=VALUE, quoting a name or value with spaces: {QUOTED_EXAMPLE}")


def with_send_constants(target: Target, items: Sequence[str]) -> Target:
    """`with_constants`, its problems named as the console's Constants field, not as --set."""
    return with_constants(target, list(items), CONSTANTS_FIELD)


def shrink_refused(counts: AudienceCounts | None) -> bool:
    """The shrink guard would refuse the send (more members would leave than the limit allows), which
    `allow_shrink` overrides; a refusal for jobs still pending is not overridden."""
    return counts is not None and counts.shrinking
