"""Applications (办件): drafts, submissions, their materials, their timeline and their routing promise."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from datahub.identity import IdentityType


class Channel(models.TextChoices):
    """申报渠道 (GB/T 39046)."""

    COUNTER = "1", _("At a service counter")
    PC = "2", _("Online, computer")
    MOBILE = "3", _("Online, mobile")
    POST = "4", _("By post")
    OTHER = "9", _("Other")


class Outcome(models.TextChoices):
    """办结结果."""

    ISSUED = "0", _("Granted")
    REFUSED = "1", _("Refused")
    VOID = "2", _("Void")
    DELETED = "3", _("Deleted")
    FORWARDED = "4", _("Forwarded to a higher authority")
    RETURNED = "5", _("Returned")
    NOT_ACCEPTED = "6", _("Not accepted")


class Application(models.Model):
    """One application (办件), from its first draft to its end."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        IN_REVIEW = "in_review", _("Under review")
        SUPPLEMENT_REQUESTED = "supplement_requested", _("More information requested")
        SUSPENDED = "suspended", _("Suspended (special procedure)")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Refused")
        NOT_ACCEPTED = "not_accepted", _("Not accepted")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REVOKED = "revoked", _("Approval revoked")

    # Before a decision the applicant may still withdraw.
    WITHDRAWABLE = (
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.IN_REVIEW,
        Status.SUPPLEMENT_REQUESTED,
        Status.SUSPENDED,
    )
    FINAL = (Status.COMPLETED, Status.WITHDRAWN, Status.REVOKED, Status.REJECTED, Status.NOT_ACCEPTED)
    # A clerk may ask for a 补正 while it waits for acceptance or is being reviewed.
    SUPPLEMENTABLE = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_REVIEW)
    # A supervisor may extend the time limit (延长审批) of an accepted application being handled,
    # and start a special procedure (特别程序) on one that is not in one already.
    EXTENDABLE = (Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED)
    SUSPENDABLE = (Status.ACCEPTED, Status.IN_REVIEW)
    # While the clock stands (补正, 特别程序) nothing falls due.
    CLOCK_STOPPED = (Status.SUSPENDED, Status.SUPPLEMENT_REQUESTED)

    public_id = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("application number (办件编号)"), max_length=43, unique=True, null=True, blank=True)
    query_password_hash = models.CharField(max_length=64, blank=True, editable=False)
    query_password_encrypted = models.TextField(blank=True, editable=False)

    # Who applies. A counter application for someone without an account has no applicant user;
    # the identity snapshot below is always filled at submission.
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    acting_for = models.ForeignKey(
        "accounts.Enterprise",
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded at the counter by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # 监护人代办: a parent applies for a minor child; the snapshot is the child's identity, the account the parent's.
    is_for_minor = models.BooleanField(_("made by a guardian for a minor"), default=False)
    applicant_name = models.CharField(_("applicant's name"), max_length=100, blank=True)
    applicant_id_type = models.CharField(max_length=3, choices=IdentityType.choices, blank=True)
    applicant_id_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    applicant_id_encrypted = models.TextField(blank=True, editable=False)
    applicant_id_masked = models.CharField(_("applicant's identity number"), max_length=40, blank=True)

    # What is applied for: the version is pinned; the code and department stay for fast scoped lists.
    service = models.ForeignKey(
        "services.ServiceItem", verbose_name=_("service"), on_delete=models.PROTECT, related_name="applications"
    )
    implementation_code = models.CharField(_("implementation code"), max_length=31)
    department = models.ForeignKey(
        "services.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="applications"
    )
    channel = models.CharField(_("channel"), max_length=1, choices=Channel.choices, default=Channel.PC)
    data = models.JSONField(_("form data"), default=dict, blank=True)
    # Which answers came from a base registry: field code → registry ("population", "legal_person").
    prefilled = models.JSONField(default=dict, blank=True)
    # Materials satisfied without an upload: code → {"by": "registry"} or {"by": "certificate", "certificate": id}.
    material_picks = models.JSONField(default=dict, blank=True)
    # What a clerk asked for in a 补正: {"fields": [...], "materials": [...], "note": "..."}.
    supplement_request = models.JSONField(default=dict, blank=True)
    # A notice for the applicant when their draft moved to a new version of the service.
    version_notice = models.TextField(blank=True)
    # 一件事: the bundle this application was made in, one child per item of the bundle.
    bundle_application = models.ForeignKey(
        "BundleApplication",
        verbose_name=_("bundle application"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )

    status = models.CharField(_("status"), max_length=30, choices=Status.choices, default=Status.DRAFT)
    # Where routing stands: the stage of the service's workflow now open, and how many times it was opened
    # (a stage opens again after a 补正 or when a later stage sends the application back).
    stage_index = models.PositiveSmallIntegerField(null=True, blank=True)
    stage_round = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(_("result"), max_length=1, choices=Outcome.choices, blank=True)
    # What the decision produced that other applications take up (a new enterprise's credit code and name).
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    draft_expires_at = models.DateTimeField(_("draft expires at"), null=True, blank=True)
    draft_reminded_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # 受理 is deemed to have happened on the day of receipt when no 补正 came within 5 working days.
    is_deemed_accepted = models.BooleanField(default=False)
    extended_days = models.PositiveSmallIntegerField(_("extension (working days)"), default=0)
    due_date = models.DateField(_("due"), null=True, blank=True)  # the promised limit (承诺时限)
    legal_due_date = models.DateField(_("statutory due date"), null=True, blank=True)  # 法定时限
    # While a 补正 runs the clock stops; when the applicant answers, both due dates move on by the days it stood.
    clock_stopped_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["applicant", "-created_at", "-id"], name="approvals_app_applicant"),
            models.Index(fields=["acting_for", "-created_at", "-id"], name="approvals_app_enterprise"),
            models.Index(fields=["department", "status"], name="approvals_app_dept_status"),
            models.Index(fields=["draft_expires_at"], name="approvals_app_draft_expiry", condition=Q(status="draft")),
            # A clerk's counter drafts, the other half of "my applications" (selectors._owner_scope).
            models.Index(
                fields=["recorded_by", "-created_at", "-id"],
                name="approvals_app_counter_drafts",
                condition=Q(channel="1", status="draft"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False), name="approvals_app_submitted_has_number"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.public_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def can_withdraw(self) -> bool:
        return self.status in self.WITHDRAWABLE

    @property
    def awaits_supplement(self) -> bool:
        return self.status == self.Status.SUPPLEMENT_REQUESTED


class NumberSequence(models.Model):
    """The last 办件编号 sequence given for one 实施编码 on one day (Asia/Shanghai); never goes back."""

    implementation_code = models.CharField(max_length=31)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["implementation_code", "day"], name="approvals_sequence_code_day")
        ]

    def __str__(self) -> str:
        return f"{self.implementation_code} {self.day}: {self.last}"


class Attachment(models.Model):
    """One uploaded file of an application: a required material, or a file field of the form."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    material_code = models.CharField(_("material"), max_length=40, blank=True)
    field_code = models.CharField(_("form field"), max_length=60, blank=True)
    storage_key = models.CharField(max_length=40, editable=False)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(_("file name"), max_length=120)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # A replaced file stays (the timeline refers to it) but no longer counts.
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["application", "material_code"], name="approvals_attachment_material")]

    def __str__(self) -> str:
        return self.original_name


class AttachmentView(models.Model):
    """A member of staff opened an applicant's file: every such view is kept (DESIGN §7)."""

    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("services.Department", null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.viewer_id} viewed {self.attachment_id} at {self.at}"


class ApplicationEvent(models.Model):
    """Append-only timeline and audit trail of one application."""

    class Action(models.TextChoices):
        CREATED = "created", _("Application started")
        PREFILLED = "prefilled", _("Details filled in from government records")
        VERSION_CHANGED = "version_changed", _("Moved to the new version of the service")
        SUBMITTED = "submitted", _("Application submitted")
        ROUTED = "routed", _("Sent to the departments concerned")
        IN_REVIEW = "in_review", _("Under review")
        TASK_CLAIMED = "task_claimed", _("A clerk took up the task")
        TASK_RELEASED = "task_released", _("The task went back to the department's queue")
        TASK_REASSIGNED = "task_reassigned", _("A supervisor reassigned the task")
        TASK_DONE = "task_done", _("A department gave its result")
        APPROVED_ON_TRUST = "approved_on_trust", _("Approved on trust; verification follows")
        REVOKED = "revoked", _("Approval revoked after verification")
        EXTENDED = "extended", _("Time limit extended")
        SUSPENDED = "suspended", _("Special procedure started; the time limit stops")
        RESUMED = "resumed", _("Special procedure ended; the time limit runs again")
        OVERDUE = "overdue", _("A department is past its time limit (electronic supervision)")
        RECORDED_AT_COUNTER = "recorded_at_counter", _("Application recorded at the service counter")
        SUPPLEMENT_REQUESTED = "supplement_requested", _("More information requested")
        SUPPLEMENTED = "supplemented", _("Requested information provided")
        WITHDRAWN = "withdrawn", _("Application withdrawn")
        ACCEPTED = "accepted", _("Application accepted")
        NOT_ACCEPTED = "not_accepted", _("Application not accepted")
        DECIDED = "decided", _("Decision made")
        COMPLETED = "completed", _("Completed")
        AWAITING_PARTIES = "awaiting_parties", _("Waiting for the other party to confirm")
        PARTY_CONFIRMED = "party_confirmed", _("The other party confirmed the application")
        PARTY_DECLINED = "party_declined", _("The other party declined the application")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("what happened"), max_length=30, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True)
    department = models.ForeignKey(
        "services.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    old_status = models.CharField(max_length=30, blank=True)
    new_status = models.CharField(max_length=30, blank=True)
    # Shown to the applicant and on public tracking: never personal data.
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["application", "at"], name="approvals_event_app_at")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action}"


class WorkflowTask(models.Model):
    """One department's piece of work on one application (环节): claimed by a clerk, decided, joined by routing."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CLAIMED = "claimed", _("Being handled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.PENDING, Status.CLAIMED)

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="tasks")
    stage_index = models.PositiveSmallIntegerField()
    stage_key = models.CharField(max_length=40)
    stage_round = models.PositiveSmallIntegerField()
    task_key = models.CharField(max_length=40)
    name = models.CharField(_("task"), max_length=60)
    department = models.ForeignKey(
        "services.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="tasks"
    )
    allowed_results = models.JSONField(default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    due_at = models.DateTimeField(_("due"))
    finished_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)  # 黄灯 told
    escalated_at = models.DateTimeField(null=True, blank=True)  # 红灯 told and recorded

    class Meta:
        verbose_name = _("workflow task")
        verbose_name_plural = _("workflow tasks")
        ordering = ["due_at", "pk"]
        constraints = [
            # Two copies of one routing message never make two tasks.
            models.UniqueConstraint(
                fields=["application", "stage_index", "stage_round", "task_key"], name="approvals_task_once"
            ),
        ]
        indexes = [
            # The queue: open tasks of a department by due time.
            models.Index(
                fields=["department", "due_at", "id"],
                name="approvals_task_queue",
                condition=Q(status__in=["pending", "claimed"]),
            ),
            # The queue's counts by status (and the clerk's own), read from the index alone.
            models.Index(
                fields=["department", "status", "assignee", "due_at"],
                name="approvals_task_queue_counts",
                condition=Q(status__in=["pending", "claimed"]),
            ),
            models.Index(fields=["application", "stage_index", "stage_round"], name="approvals_task_stage"),
            # 已办: a department's decided tasks, the latest first.
            models.Index(
                fields=["department", "-finished_at", "-id"], name="approvals_task_done", condition=Q(status="done")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage_key}/{self.task_key} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class Outbox(models.Model):
    """Work that must happen after a commit (routing an application); the row is the promise, the task the fast path."""

    class Kind(models.TextChoices):
        ROUTE = "route", _("Route to the departments")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="outbox")
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="approvals_outbox_pending", condition=Q(processed_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.application_id}"


class IdempotencyRecord(models.Model):
    """The answer already given to a request with this key, so a retry gets the same answer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="approvals_idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


class ApplicationView(models.Model):
    """A member of staff opened an application's personal data (the workbench's task page): every view is kept."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The department the viewer saw it for (the task's); null when they were not a member of it.
    department = models.ForeignKey("services.Department", null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("view of an application")
        verbose_name_plural = _("views of applications")
        indexes = [models.Index(fields=["application", "at"], name="approvals_appview_app_at")]

    def __str__(self) -> str:
        return f"{self.viewer_id} viewed {self.application_id} at {self.at}"


class BundleApplication(models.Model):
    """一件事一次办: one form and one submission for several items; one child application per item."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        COMPLETED = "completed", _("Completed")

    public_id = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    bundle = models.ForeignKey(
        "services.Bundle", verbose_name=_("bundle"), on_delete=models.PROTECT, related_name="applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="bundle_applications",
    )
    acting_for = models.ForeignKey(
        "accounts.Enterprise",
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bundle_applications",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    # The answers shared by the children, as the one form shows them; each child keeps its own part.
    data = models.JSONField(_("form data"), default=dict, blank=True)
    prefilled = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    draft_expires_at = models.DateTimeField(_("draft expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bundle application (一件事)")
        verbose_name_plural = _("bundle applications (一件事)")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["applicant", "-created_at", "-id"], name="approvals_bundleapp_applicant"),
            models.Index(fields=["draft_expires_at"], name="approvals_bundleapp_expiry", condition=Q(status="draft")),
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id} {self.public_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class ApplicationParty(models.Model):
    """One of the people an application is made by together (结婚登记: the man and the woman).

    The applicant names the others in the form; each confirms from their own account, matched by
    their verified real-name identity against the number given here. Until every party has
    confirmed, the application is not routed and nothing about the unconfirmed is read.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("role"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    id_type = models.CharField(max_length=3, choices=IdentityType.choices)
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_number_encrypted = models.TextField(editable=False)
    id_number_masked = models.CharField(_("identity number"), max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="application_parts"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)

    class Meta:
        verbose_name = _("party to an application")
        verbose_name_plural = _("parties to applications")
        ordering = ["application", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["application", "role"], name="approvals_party_role_once"),
        ]
        indexes = [models.Index(fields=["id_number_hash"], name="approvals_party_id_hash")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.role}"

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None and self.declined_at is None


class DocumentSequence(models.Model):
    """The last serial given to one department's documents of one kind in one year (Asia/Shanghai)."""

    department = models.ForeignKey("services.Department", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=4)  # 受 补 准 不受 不准
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "year", "category"], name="approvals_docseq_dept_year_cat")
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.category} {self.year}: {self.last}"


class DocumentNumber(models.Model):
    """The 文号 an application's formal document was given when it was issued: once, never changed."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="document_numbers")
    kind = models.CharField(max_length=40)  # the document's slug (acceptance, supplement-<event id> …)
    department = models.ForeignKey("services.Department", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=4)
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"], name="approvals_docnumber_one_per_document"),
            models.UniqueConstraint(
                fields=["department", "year", "category", "sequence"], name="approvals_docnumber_unique_serial"
            ),
        ]

    def __str__(self) -> str:
        return self.number
