"""A bulk job's results link, checked before anything is fetched: an absolute http(s) URL, resolved
against where it came from, or a ValueError the download reports as its own failure."""
from __future__ import annotations

from yarl import URL

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def results_target(url: str, base: URL) -> URL:
    if not isinstance(url, str) or not url.strip() or any(ch in url for ch in "\r\n\x00"):
        raise ValueError(f"{url!r} is not a URL")
    given = URL(url.strip(), encoded=True)  # a signed URL must go out byte for byte as it came
    target = given if given.is_absolute() else base.join(given)
    if target.scheme not in ("http", "https") or not target.host:
        raise ValueError(f"{url!r} is not an http(s) URL")
    return target
