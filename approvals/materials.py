"""Which materials an application needs, and how each is satisfied: an upload, the certificate wallet, or a registry.

How the applicant provides a material (``provision_of``) is one rule: a material whose
source is a certificate (``certificate:…``) or a registry (``registry:…``) is fetched by
the department (免提交) and never demanded as an upload — the wallet may still supply
the certificate, and an upload is welcome but optional; one marked ``at_counter`` is
shown or signed in front of the clerk at the visit and is not uploaded at all; only the
rest are uploads, and only those a required one holds up a submission.

The certificate wallet belongs to ``certificates/`` (it comes later). Approvals
speaks to it only through ``CertificateWallet``; until a wallet fills
``wallet_slot`` at start-up, nobody holds certificates, and a certificate material is uploaded.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext as _

from approvals.models import Application, Attachment
from core.registry import Slot
from services.models import ServiceItem

UPLOAD = "upload"
CERTIFICATE_PREFIX = "certificate:"
REGISTRY_PREFIX = "registry:"

# How the applicant provides a material (MaterialState.provision).
PROVIDED_BY_UPLOAD = "upload"
PROVIDED_BY_FETCH = "fetched"
PROVIDED_AT_COUNTER = "counter"


@dataclass(frozen=True)
class WalletCertificate:
    """A certificate the user holds, as the wallet shows it when picking a material."""

    id: str
    certificate_type: str
    name: str
    number_masked: str
    valid_to: datetime.date | None


class CertificateWallet(Protocol):
    """What approvals needs from the certificate wallet of [certificates]."""

    def certificates(self, *, user_id: int, certificate_type: str) -> list[WalletCertificate]:
        """The user's valid certificates of this type (GB/T 36904 type code or the catalogue's name)."""
        ...

    def holds(self, *, user_id: int, certificate_id: str) -> bool:
        """Whether this certificate is the user's and valid today."""
        ...


class EmptyWallet:
    """The wallet before any certificate exists: nobody holds anything."""

    def certificates(self, *, user_id: int, certificate_type: str) -> list[WalletCertificate]:
        return []

    def holds(self, *, user_id: int, certificate_id: str) -> bool:
        return False


# The certificates app fills this at start-up with its wallet.
wallet_slot: Slot[CertificateWallet] = Slot("approvals.certificate_wallet", EmptyWallet())


def wallet() -> CertificateWallet:
    return wallet_slot.get()


def materials_of(item: ServiceItem) -> list[dict[str, Any]]:
    """The item's materials, in the guide's order."""
    return [entry for entry in item.materials if isinstance(entry, dict) and entry.get("code")]


def registry_of(entry: dict[str, Any]) -> str:
    source = str(entry.get("source", ""))
    return source.removeprefix(REGISTRY_PREFIX) if source.startswith(REGISTRY_PREFIX) else ""


def certificate_type_of(entry: dict[str, Any]) -> str:
    source = str(entry.get("source", ""))
    return source.removeprefix(CERTIFICATE_PREFIX) if source.startswith(CERTIFICATE_PREFIX) else ""


def provision_of(entry: dict[str, Any]) -> str:
    """How the applicant provides a material: an upload, fetched by the department, or at the counter."""
    if entry.get("at_counter"):
        return PROVIDED_AT_COUNTER
    if registry_of(entry) or certificate_type_of(entry):
        return PROVIDED_BY_FETCH
    return PROVIDED_BY_UPLOAD


@dataclass(frozen=True)
class MaterialState:
    """One material of the drafts filled in together (one application, or a bundle's) and how it stands."""

    code: str
    name: str
    is_required: bool
    source: str
    notes: str
    satisfied_by: str  # "upload", "certificate", "registry", or "" while a draft that needs it lacks it
    file_name: str
    attachment_id: str
    item_names: tuple[str, ...]  # the items that ask for it
    provision: str  # PROVIDED_BY_UPLOAD, PROVIDED_BY_FETCH or PROVIDED_AT_COUNTER

    @property
    def is_upload_needed(self) -> bool:
        """Whether the application cannot be submitted until the applicant provides this online."""
        return self.is_required and self.provision == PROVIDED_BY_UPLOAD and not self.satisfied_by

    @property
    def is_uploadable(self) -> bool:
        """Whether the materials page offers an upload (never for a registry's data or a document of the counter)."""
        return (
            self.provision != PROVIDED_AT_COUNTER
            and self.satisfied_by != "registry"
            and not self.source.startswith(REGISTRY_PREFIX)
        )


def materials_of_items(items: Iterable[ServiceItem]) -> list[dict[str, Any]]:
    """The materials of several items, each code once (the first item's entry), required if any item requires it."""
    entries: dict[str, dict[str, Any]] = {}
    for item in items:
        for entry in materials_of(item):
            known = entries.get(entry["code"])
            if known is None:
                entries[entry["code"]] = dict(entry)
            elif entry.get("required"):
                known["required"] = True
    return list(entries.values())


def material_states_of(drafts: Sequence[Application]) -> list[MaterialState]:
    """Every material of these applications and what satisfies it in each that needs it (one query for the files).

    One application is the usual case; a 一件事 bundle's children are filled in together and
    share each material, which counts as satisfied only when every child that needs it has it.
    """
    current: dict[tuple[int, str], Attachment] = {
        (attachment.application_id, attachment.material_code): attachment
        for attachment in Attachment.objects.filter(
            application__in=[draft.pk for draft in drafts], replaced_at__isnull=True
        ).exclude(material_code="")
    }
    states = []
    for entry in materials_of_items(draft.service for draft in drafts):
        code = entry["code"]
        needing = [draft for draft in drafts if code in {each["code"] for each in materials_of(draft.service)}]
        ways: list[str] = []
        attachment: Attachment | None = None
        for draft in needing:
            found = current.get((draft.pk, code))
            if found is not None:
                attachment = attachment or found
                ways.append("upload")
            else:
                ways.append(str((draft.material_picks or {}).get(code, {}).get("by", "")))
        satisfied_by = "" if not ways or "" in ways else ("upload" if "upload" in ways else ways[0])
        states.append(
            MaterialState(
                code=code,
                name=str(entry.get("name", code)),
                is_required=bool(entry.get("required")),
                source=str(entry.get("source", UPLOAD)),
                notes=str(entry.get("notes", "")),
                satisfied_by=satisfied_by,
                file_name=attachment.original_name if attachment is not None else "",
                attachment_id=str(attachment.public_id) if attachment is not None else "",
                item_names=tuple(draft.service.name for draft in needing),
                provision=provision_of(entry),
            )
        )
    return states


def material_states(application: Application) -> list[MaterialState]:
    """Every material of the application with what satisfies it (one query for the files)."""
    return material_states_of([application])


def material_problems(application: Application) -> dict[str, list[str]]:
    """A message for each required upload nothing satisfies yet, keyed ``material.<code>``.

    A fetched material or one of the counter never holds up a submission (``provision_of``).
    """
    return {
        f"material.{state.code}": [_("Provide this material: %(name)s.") % {"name": state.name}]
        for state in material_states(application)
        if state.is_upload_needed
    }
