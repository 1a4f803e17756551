from __future__ import annotations

import datetime
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from datahub.identity import IdentityType, mask_name
from datahub.models import LegalPersonKind


class RealNameLevel(models.IntegerChoices):
    """实名等级: what the portal knows of who holds the account."""

    UNVERIFIED = 1, _("Not verified")  # 非实名: browse and ask only
    BASIC = 2, _("Basic real-name")  # 初级实名: checked against the population registry
    ADVANCED = 3, _("Advanced real-name")  # 高级实名: face or counter check


class User(AbstractUser):
    """One account for every department (统一认证).

    The identity document is never stored in clear: a keyed hash finds it ("one
    document, one account"), the encrypted number shows it to its owner, the
    masked number shows it to anyone else.
    """

    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    # Confirmed by an SMS code: only a verified number logs in, and it belongs to one account.
    phone_verified = models.BooleanField(_("mobile phone verified"), default=False)
    real_name_level = models.PositiveSmallIntegerField(
        _("real-name level"), choices=RealNameLevel.choices, default=RealNameLevel.UNVERIFIED
    )
    full_name = models.CharField(_("legal name"), max_length=100, blank=True)
    id_type = models.CharField(_("identity document type"), max_length=3, choices=IdentityType.choices, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_masked = models.CharField(_("identity document number"), max_length=40, blank=True, editable=False)
    real_name_verified_at = models.DateTimeField(_("real-name verified at"), null=True, blank=True)
    # 高级实名 at a counter: the clerk who saw the person and the document.
    real_name_confirmed_by = models.ForeignKey(
        "self",
        verbose_name=_("confirmed at the counter by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    privacy_notice_version = models.CharField(_("privacy notice version"), max_length=20, blank=True)
    privacy_consented_at = models.DateTimeField(_("privacy consent given at"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=~Q(id_number_hash=""),
                name="accounts_user_one_account_per_document",
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(phone_verified=True),
                name="accounts_user_one_account_per_verified_phone",
            ),
        ]

    @property
    def masked_name(self) -> str:
        """The verified name masked (*小明), or the masked e-mail address for an account without one."""
        if self.full_name:
            return mask_name(self.full_name)
        local, _at, domain = self.email.partition("@")
        if not local:
            return self.get_username()
        return f"{local[:1]}***@{domain}" if domain else f"{local[:1]}***"

    @property
    def display_name(self) -> str:
        """The whole name, for the owner's own pages."""
        return self.full_name or self.get_full_name() or self.email or self.get_username()

    @property
    def is_real_name_verified(self) -> bool:
        return self.real_name_level >= RealNameLevel.BASIC


class StaffRole(models.TextChoices):
    CLERK = "clerk", _("Clerk")
    SUPERVISOR = "supervisor", _("Department supervisor")
    ADMIN = "admin", _("Department administrator")


class StaffMembership(models.Model):
    """A user works for a department in a role (窗口/审批人员, 部门负责人, 部门管理员)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_memberships")
    # A lazy reference: accounts depends on no workflow app at import time.
    department = models.ForeignKey("services.Department", on_delete=models.PROTECT, related_name="staff_memberships")
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="accounts_staff_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.department_id} {self.role}"


class Enterprise(models.Model):
    """A legal person (法人) known to the portal; claimed by the account of its registered legal representative.

    The claim is ``legal_representative``: set when the legal-person registry confirms the
    claimer, cleared when a later comparison with the registry finds someone else there.
    """

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=2, choices=LegalPersonKind.choices)
    legal_representative = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="represented_enterprises",
        verbose_name=_("legal representative"),
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    registry_checked_at = models.DateTimeField(_("compared with the registry at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class AuthorisationScope(models.TextChoices):
    ALL = "all", _("All items")
    LISTED = "listed", _("Listed items only")


class AgentAuthorisation(models.Model):
    """An agent (经办人) may act for an enterprise, for all items or the listed 实施编码, between two dates.

    ``valid_from`` and ``valid_to`` are days in Asia/Shanghai, both included; no ``valid_to``
    means until revoked. A revoked authorisation stays as the record of what was allowed.
    """

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="authorisations")
    agent = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="agent_authorisations", verbose_name=_("agent")
    )
    scope = models.CharField(_("scope"), max_length=10, choices=AuthorisationScope.choices)
    item_codes = models.JSONField(_("implementation codes"), default=list, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(_("granted at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    revoke_reason = models.CharField(_("reason for revocation"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("agent authorisation")
        verbose_name_plural = _("agent authorisations")
        ordering = ["enterprise_id", "-granted_at", "pk"]
        indexes = [models.Index(fields=["agent", "enterprise"], name="accounts_authorisation_agent")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.agent_id} {self.scope}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.revoked_at is None and self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def covers(self, item_code: str) -> bool:
        return self.scope == AuthorisationScope.ALL or item_code in (self.item_codes or [])


class EnterpriseAction(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    AUTHORISED = "authorised", _("Agent authorised")
    REVOKED = "revoked", _("Authorisation revoked")
    CLAIM_ENDED = "claim_ended", _("Claim ended")
    AUTHORISATION_ENDED = "authorisation_ended", _("Authorisation ended")


class EnterpriseEvent(models.Model):
    """Append-only audit of an enterprise's claim and authorisations: written by the actions, never changed."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=EnterpriseAction.choices)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("enterprise event")
        verbose_name_plural = _("enterprise events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class SmsOutboxMessage(models.Model):
    """A text message as the demo sender "sent" it: kept so that staff can read the codes of a demo."""

    phone = models.CharField(_("mobile phone"), max_length=20)
    text = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.phone} {self.sent_at:%Y-%m-%d %H:%M}"


class StaffEnrolmentCode(models.Model):
    """A one-time code a platform admin issues to a staff member for their first authenticator (TOTP).

    Without it, a staff account's password alone would be enough to enrol TOTP and become a clerk.
    Only a keyed hash of the code is kept; the admin sees the code once, when it is issued.
    """

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="enrolment_codes", verbose_name=_("staff member")
    )
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("issued by")
    )
    issued_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.issued_at:%Y-%m-%d %H:%M}"


class FaceCheck(models.Model):
    """高级实名 by a face-check provider: one attempt, from its start to the provider's signed result.

    The id is the token the provider knows the check by. The row is also the record of how the
    account reached level 3 this way: which provider, when, with what score.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the result")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Not passed")
        EXPIRED = "expired", _("Expired")

    # A result that arrives later than this after the start is not taken: the person has left.
    LIFETIME = datetime.timedelta(minutes=15)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="face_checks", verbose_name=_("user"))
    provider = models.CharField(_("face-check provider"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    score = models.FloatField(_("similarity score"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("face check")
        verbose_name_plural = _("face checks")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="accounts_face_check_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} {self.created_at:%Y-%m-%d %H:%M}"

    def is_overdue(self, now: datetime.datetime) -> bool:
        """Still pending after its lifetime: its result, if it ever comes, will not be taken."""
        return self.status == self.Status.PENDING and self.created_at < now - self.LIFETIME
