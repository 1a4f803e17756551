"""In a demonstration (``DEBUG``), the real-name page names the registry's people nobody has claimed yet.

A newcomer trying the demo cannot know whom the invented population registry holds; without this the
journey from sign-up to 初级实名 cannot be tried. Never shown without ``DEBUG``: a real registry is not a list.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.account_page import AccountSection
from accounts.models import User
from core import crypto
from datahub.identity import birth_date_of
from datahub.models import ID_NUMBER_HASH_PURPOSE, PersonStatus
from demo.registry_data import FIXED_PERSONS, PersonSpec

ADULT_AGE = 18


def verify_page_hint(request: HttpRequest, user: User) -> AccountSection | None:
    """The demo identities a new person may verify as, or None outside a demonstration."""
    if not settings.DEBUG:
        return None
    people = unclaimed_adults(today=timezone.localdate())
    if not people:
        return None
    return AccountSection("demo/verify_hint.html", {"demo_people": people})


def unclaimed_adults(*, today: datetime.date) -> list[PersonSpec]:
    """The fixed registry people who are adults, living, and not yet any account's verified identity."""
    adults = [person for person in FIXED_PERSONS if person.status == PersonStatus.NORMAL and _is_adult(person, today)]
    hashes = {crypto.keyed_hash(person.id_number, purpose=ID_NUMBER_HASH_PURPOSE): person for person in adults}
    claimed = set(User.objects.filter(id_number_hash__in=hashes).values_list("id_number_hash", flat=True))
    return [person for digest, person in hashes.items() if digest not in claimed]


def _is_adult(person: PersonSpec, today: datetime.date) -> bool:
    born = birth_date_of(person.id_number)
    if born is None:
        return False
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= ADULT_AGE
