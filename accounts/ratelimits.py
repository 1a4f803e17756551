"""How long until allauth's rate limit for an action lets a request through: the wait the portal shows.

allauth answers a limit it hits with a bare 429 (or, for codes sent during sign-up, an error); the
portal asks first, without counting anything, and tells the person how many seconds to wait.
"""

from __future__ import annotations

import math
import time

from allauth.core.internal import ratelimit
from django.core.cache import cache
from django.http import HttpRequest

ACCOUNT_APP = "allauth.account"


def wait_seconds(request: HttpRequest, *, action: str, key: str | None = None) -> int:
    """Seconds until ``action`` (an allauth.account rate limit, e.g. ``verify_phone``) is allowed again; 0 if now.

    Reads the history allauth keeps for each of the action's rates (per address, per key, per user)
    and records nothing.
    """
    now = time.time()
    longest = 0.0
    for rate in ratelimit.get_rates(app=ACCOUNT_APP, action=action):
        if rate.per == "key" and key is None:
            continue
        if rate.per == "user" and not request.user.is_authenticated:
            continue
        cache_key = ratelimit.get_cache_key(request, app=ACCOUNT_APP, action=action, rate=rate, key=key)
        # Newest first, as allauth keeps it; the ones older than the rate's window no longer count.
        history = [stamp for stamp in cache.get(cache_key, []) if stamp > now - rate.duration]
        if len(history) >= rate.amount:
            # A slot frees when the oldest hit that still fills the rate leaves the window.
            longest = max(longest, history[rate.amount - 1] + rate.duration - now)
    return math.ceil(longest) if longest > 0 else 0
