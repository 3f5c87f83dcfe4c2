"""Why a send cannot start as asked: the engine's refusals, raised before anything is sent."""
from __future__ import annotations

from tui.settings.model import Destination
from tui.settings.segment_file_settings import SEGMENT_FILE_ONLY


class SendRefused(Exception):
    """The send cannot start as asked (resume/retry of the wrong run, source changed, ...)."""


class ShrinkRefused(SendRefused):
    """The audience shrink guard refused; SendRequest.allow_shrink (the front end says how) overrides it."""


def refuse_options(destination: Destination, *, full: bool, include_unknown: bool, retry: bool, dry_run: bool) -> None:
    """What no send of `destination` may do, refused before anything is read or sent."""
    if destination.kind == "segment-file":
        raise SendRefused(SEGMENT_FILE_ONLY.format(name=destination.name))
    if destination.subscriptions and not dry_run:
        # Refused rather than ignored: an operator who turned it on expects people to be subscribed.
        raise SendRefused(f"destination {destination.name!r} has subscriptions = true, but an attributes destination "
                          'subscribes nobody: send consent from a kind = "subscription" destination (README: '
                          "Subscriptions), and set subscriptions = false here to send the attributes")
    if destination.sends_once and full:
        raise SendRefused(f"--full sends unchanged attributes again; {destination.name!r} is a {destination.kind} "
                          "destination, whose requests are sent once. One that came back unknown goes again "
                          "with `retry RUN --include-unknown`")
    if include_unknown and not (destination.sends_once and retry):
        raise SendRefused("--include-unknown is for a retry of an event or subscriptions destination's run: it sends "
                          "again what came back unknown")
