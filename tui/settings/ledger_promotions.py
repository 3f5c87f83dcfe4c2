"""Promotions as the ledger records them: a `promotion.pending` entry nothing closed, and a
production.toml changed after its last recorded promotion, judged from the file's hash."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from tui.settings.ledger_entries import Action, LedgerEntry


class PromisedFile(str, Enum):
    """What production.toml holds now, against what a pending promotion entry said it would."""
    WRITTEN = "written"             # the promised content: promoted, but never recorded as done
    NOT_WRITTEN = "not written"     # the content from before: nothing was promoted
    CHANGED = "changed"             # neither: the file changed since, by hand or another command
    MISSING = "missing"             # the file named in the entry cannot be read


@dataclass(frozen=True)
class UnfinishedPromotion:
    """A `promotion.pending` entry that no `promotion` or `promotion.abandoned` entry closes: the promoting
    process stopped (killed, crashed, the ledger unavailable) between announcing the write and recording it."""
    entry: LedgerEntry
    state: PromisedFile

    @property
    def destination(self) -> str:
        return self.entry.subject

    @property
    def reason(self) -> str:
        details, name = self.entry.details, self.entry.subject
        path = details.get("path", "production.toml")
        start = (f"the promotion of {name} announced at ledger entry {self.entry.seq} ({self.entry.at[:19]}Z) "
                 "was never recorded as done: ")
        return start + {
            PromisedFile.WRITTEN: f"{path} has the content it promised (sha256 "
                                  f"{str(details.get('production_sha256_after'))[:12]}): {name} was promoted "
                                  "without its audit entry",
            PromisedFile.NOT_WRITTEN: f"{path} still has the content from before it: nothing was promoted",
            PromisedFile.CHANGED: f"{path} has neither the content from before it nor the one it promised: the "
                                  f"file changed since; compare its [destinations.{name}] with the promoted "
                                  f"definition (config hash {str(details.get('config_hash'))[:12]})",
            PromisedFile.MISSING: f"{path} cannot be read to tell whether it was written",
        }[self.state]

    @property
    def fix(self) -> str:
        promote = f"attentive-console promote {self.entry.subject}"
        if self.state is PromisedFile.WRITTEN:
            return f"run `{promote}`: it records the promotion (production.toml is not written again)"
        if self.state is PromisedFile.NOT_WRITTEN:
            return f"run `{promote}` to promote it again; that closes this entry"
        return (f"check production.toml, then run `{promote}`: it closes this entry as not done and shows "
                "what is left to promote")


def promised_file(details: Mapping[str, Any]) -> PromisedFile:
    """Compares the file a pending promotion named with the hashes it recorded."""
    try:
        digest = hashlib.sha256(Path(details["path"]).read_bytes()).hexdigest()
    except (KeyError, TypeError, OSError):
        return PromisedFile.MISSING
    if digest == details.get("production_sha256_after"):
        return PromisedFile.WRITTEN
    if digest == details.get("production_sha256_before"):
        return PromisedFile.NOT_WRITTEN
    return PromisedFile.CHANGED


@dataclass(frozen=True)
class UnrecordedChange:
    """production.toml no longer has the content the newest promotion recorded, and no later entry
    records a change to production: it was edited without the ledger (by hand, git, another tool)."""
    entry: LedgerEntry

    @property
    def reason(self) -> str:
        path = self.entry.details.get("path", "production.toml")
        return (f"{path} changed after ledger entry {self.entry.seq} (the promotion of {self.entry.subject}) "
                "recorded its content, and no later entry records a change to it: it was edited by hand or "
                "by a tool that does not write the audit ledger")

    @property
    def fix(self) -> str:
        return ("review the change (git diff, or against a backup); changes made with `attentive-console "
                "destinations|credentials ... --env production` or `promote` are recorded")




def unfinished(entries: list[LedgerEntry]) -> list[UnfinishedPromotion]:
    closed = {entry.details.get("pending_seq") for entry in entries
              if entry.action in (Action.PROMOTION.value, Action.PROMOTION_ABANDONED.value)}
    return [UnfinishedPromotion(entry, promised_file(entry.details)) for entry in entries
            if entry.action == Action.PROMOTION_PENDING.value and entry.seq not in closed]


def unrecorded(entries: list[LedgerEntry]) -> UnrecordedChange | None:
    """Only the promotion entries record production.toml's content: the check holds from the newest
    one until an entry records another change to production (which would not say the file's hash)."""
    changes = [entry for entry in entries if entry.environment == "production"
               and entry.action.startswith(("destination.", "credential.", "promotion"))]
    if not changes or changes[-1].action != Action.PROMOTION.value:
        return None
    last = changes[-1]
    state = promised_file(last.details)
    return UnrecordedChange(last) if state in (PromisedFile.CHANGED, PromisedFile.NOT_WRITTEN) else None
