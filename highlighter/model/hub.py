"""The Hugging Face Hub as the source of pretrained weights: whether it answers, found out in seconds.

huggingface_hub retries a request that gets no answer five times, with back-off, before it falls back to its
cache: without a network, fetching one model's pretrained weights took a minute and printed dozens of warning
lines. Asked once, quickly, whether the hub answers, downloads run as usual where it does; where it does not
(no network, or ``HF_HUB_OFFLINE`` set) they run in the hub's offline mode, where files come from the local
cache or fail at once.
"""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterator

#: How long the hub has to answer one request before it counts as out of reach.
REACH_TIMEOUT_S = 5.0


def out_of_reach(timeout_s: float = REACH_TIMEOUT_S) -> str | None:
    """Why the hub (``HF_ENDPOINT``) cannot be asked for files now, or None where it answers."""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return "HF_HUB_OFFLINE is set"
    try:
        urllib.request.urlopen(urllib.request.Request(constants.ENDPOINT, method="HEAD"), timeout=timeout_s).close()
    except urllib.error.HTTPError:  # an answer, if not a welcome one
        return None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{urllib.parse.urlsplit(constants.ENDPOINT).netloc} cannot be reached ({reason})"
    return None


@contextlib.contextmanager
def hub_or_cache(timeout_s: float = REACH_TIMEOUT_S) -> Iterator[str | None]:
    """Within: downloads from the hub as usual where it answers, else from the local cache only (the hub's
    offline mode, no retries). Yields why the hub is out of reach, or None."""
    reason = out_of_reach(timeout_s)
    if reason is None:
        yield None
        return
    from huggingface_hub import constants

    offline = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True  # huggingface_hub reads it at every request (constants.is_offline_mode)
    try:
        yield reason
    finally:
        constants.HF_HUB_OFFLINE = offline
