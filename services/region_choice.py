"""Where a visitor looks for services: the region searched, remembered between visits, and their own district.

The region of a search or a theme page comes, first to last, from:

1. a place the query names (结婚 西湖 → 西湖区), for that search only;
2. the ``region`` of the address (the form's choice; empty: every region), which is remembered;
3. the remembered choice: in the session of a signed-in user, in a cookie for anyone
   else (a session would take an anonymous visitor's pages out of the shared page cache);
4. the district (county) of the registered household of a signed-in user with a
   verified identity, read from the population registry once a session.

The visitor's own district (the household's, else the region chosen) decides which
region's item a service that many regions offer leads to.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from accounts import selectors as account_selectors
from services.codes import RegionLevel, parent_region_code, region_level_of
from services.selectors import region_chain_codes

REGION_PARAMETER = "region"
REGION_COOKIE = "region"
REGION_COOKIE_SECONDS = 365 * 24 * 3600
REGION_SESSION_KEY = "catalogue_region"
HOME_SESSION_KEY = "catalogue_home_region"
EVERY_REGION = "all"  # what is remembered when a visitor chooses every region


@dataclass(frozen=True)
class RegionChoice:
    code: str  # the region searched; '' for every region
    source: str  # "place", "address", "remembered", "household" or '' (nothing chosen)
    home: str  # the visitor's registered district; '' when not known
    remember: str | None = None  # what to keep for the next visit (a code or EVERY_REGION); None: nothing new
    is_ignored: bool = False  # the address named a region that does not exist

    @property
    def preferred_regions(self) -> tuple[str, ...]:
        """The regions whose item a service offered by many leads to, most local first.

        The visitor's own district and the regions above it, when it lies in the
        region searched; else the region searched and those above it.
        """
        home_chain = region_chain_codes(self.home) if self.home else ()
        if home_chain and (not self.code or self.code in home_chain):
            return home_chain
        return region_chain_codes(self.code) if self.code else ()


def _is_region(code: str) -> bool:
    return region_level_of(code) is not None and bool(region_chain_codes(code))


def _district_of(code: str) -> str:
    """The county a household's division code lies in (a registry may name the town or village), if known."""
    current: str | None = code
    while current is not None:
        level = region_level_of(current)
        if level is not None and level <= RegionLevel.COUNTY and _is_region(current):
            return current
        current = parent_region_code(current)
    return ""


def _home(request: HttpRequest) -> str:
    """The signed-in user's household district, kept in the session with the real-name level it was read at."""
    user = request.user
    if not user.is_authenticated:
        return ""
    level = getattr(user, "real_name_level", 0)
    kept = request.session.get(HOME_SESSION_KEY)
    if isinstance(kept, list) and len(kept) == 2 and kept[0] == level:
        return str(kept[1])
    code = _district_of(account_selectors.household_region_code(user=user))
    request.session[HOME_SESSION_KEY] = [level, code]
    return code


def _remembered(request: HttpRequest) -> str:
    if request.user.is_authenticated:
        value = str(request.session.get(REGION_SESSION_KEY, ""))
    else:
        value = request.COOKIES.get(REGION_COOKIE, "")
    return value if value == EVERY_REGION or _is_region(value) else ""


def choose_region(request: HttpRequest, *, place_code: str = "") -> RegionChoice:
    """The region this request looks in, and why (see the module's docstring for the order)."""
    home = _home(request)
    if place_code:
        return RegionChoice(code=place_code, source="place", home=home)
    is_ignored = False
    if REGION_PARAMETER in request.GET:
        asked = request.GET[REGION_PARAMETER].strip()
        if not asked:
            return RegionChoice(code="", source="address", home=home, remember=EVERY_REGION)
        if _is_region(asked):
            return RegionChoice(code=asked, source="address", home=home, remember=asked)
        is_ignored = True
    kept = _remembered(request)
    if kept:
        code = "" if kept == EVERY_REGION else kept
        return RegionChoice(code=code, source="remembered", home=home, is_ignored=is_ignored)
    if home and _is_region(home):
        return RegionChoice(code=home, source="household", home=home, is_ignored=is_ignored)
    return RegionChoice(code="", source="", home=home, is_ignored=is_ignored)


def remember_region(request: HttpRequest, response: HttpResponseBase, choice: RegionChoice) -> None:
    """Keep the region chosen for the next visit: in the session when signed in, else in a cookie."""
    if choice.remember is None:
        return
    if request.user.is_authenticated:
        if request.session.get(REGION_SESSION_KEY) != choice.remember:
            request.session[REGION_SESSION_KEY] = choice.remember
        return
    if request.COOKIES.get(REGION_COOKIE) != choice.remember:
        response.set_cookie(
            REGION_COOKIE,
            choice.remember,
            max_age=REGION_COOKIE_SECONDS,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
