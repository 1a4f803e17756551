"""The service catalogue (权力清单 / 实施清单): regions, departments, items and their versions.

A ``ServiceItem`` row is one version of one catalogue entry. Versions of the
same entry share its 实施编码; exactly one of them is published at a time, a
published version never changes, and applications pin the version they were
made under.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from services.codes import RegionLevel, validate_basic_code, validate_region_code, validate_uscc


class Region(models.Model):
    """An administrative division: 国家 → 省 → 市 → 县 → 乡镇 → 村."""

    code = models.CharField(_("division code"), max_length=12, unique=True, validators=[validate_region_code])
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DepartmentKind(models.TextChoices):
    """What a department does; workflows name departments by kind and region."""

    GOVERNMENT_OFFICE = "government_office", _("Government office")
    ADMINISTRATIVE_SERVICE = "administrative_service", _("Administrative service bureau")
    MARKET_REGULATION = "market_regulation", _("Market regulation")
    PUBLIC_SECURITY = "public_security", _("Public security")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
    HUMAN_RESOURCES = "human_resources", _("Human resources and social security")
    HEALTH = "health", _("Health commission")
    TAXATION = "taxation", _("Taxation")
    NATURAL_RESOURCES = "natural_resources", _("Natural resources and planning")
    HOUSING = "housing", _("Housing and urban-rural development")
    EDUCATION = "education", _("Education")
    TRANSPORT = "transport", _("Transport")
    MEDICAL_SECURITY = "medical_security", _("Medical security")
    ECOLOGY = "ecology", _("Ecology and environment")
    EMERGENCY = "emergency", _("Emergency management")
    CULTURE = "culture", _("Culture and tourism")
    AGRICULTURE = "agriculture", _("Agriculture and rural affairs")
    HOUSING_FUND = "housing_fund", _("Housing provident fund")
    JUSTICE = "justice", _("Justice")


class Department(models.Model):
    """A government department, identified by its 统一社会信用代码."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc])
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    # 机关代字: what opens the department's document numbers (西湖民 in 西湖民准〔2026〕17号).
    document_code = models.CharField(
        _("document code"),
        max_length=12,
        blank=True,
        help_text=_("The short mark that opens the numbers of the department's formal documents, such as 西湖民."),
    )
    kind = models.CharField(_("kind"), max_length=40, choices=DepartmentKind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="departments")
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["region__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="services_department_one_kind_per_region")
        ]

    def __str__(self) -> str:
        return self.name


class Audience(models.TextChoices):
    """The two halves of the catalogue: 个人办事 and 法人办事."""

    PERSON = "person", _("Individuals")
    ENTERPRISE = "enterprise", _("Enterprises")


class Theme(models.Model):
    """A life event (婚育收养, 企业开办 …) that groups items for one audience."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=60)
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["audience", "position", "slug"]

    def __str__(self) -> str:
        return self.name


class ItemType(models.TextChoices):
    """事项类型, as the national catalogue codes it."""

    LICENSING = "01", _("Administrative licensing")
    PENALTY = "02", _("Administrative penalty")
    COERCION = "03", _("Administrative coercion")
    LEVY = "04", _("Administrative levy")
    BENEFIT = "05", _("Administrative benefit")
    INSPECTION = "06", _("Administrative inspection")
    CONFIRMATION = "07", _("Administrative confirmation")
    REWARD = "08", _("Administrative reward")
    ADJUDICATION = "09", _("Administrative adjudication")
    OTHER_POWER = "10", _("Other administrative power")
    PUBLIC_SERVICE = "20", _("Public service")


class ServedParty(models.TextChoices):
    """服务对象."""

    NATURAL_PERSON = "1", _("Natural person")
    ENTERPRISE = "2", _("Enterprise legal person")
    PUBLIC_INSTITUTION = "3", _("Public institution")
    SOCIAL_ORGANISATION = "4", _("Social organisation")
    ADMINISTRATIVE_ORGAN = "5", _("Administrative organ")
    OTHER_ORGANISATION = "6", _("Other organisation")


class HandlingType(models.TextChoices):
    """办件类型."""

    IMMEDIATE = "1", _("Decided at once")
    COMMITTED = "2", _("Decided within a promised time")


class DayUnit(models.TextChoices):
    WORKING = "W", _("working days")
    CALENDAR = "N", _("calendar days")


class OnlineDepth(models.IntegerChoices):
    """网上办理深度."""

    GUIDE_ONLY = 1, _("Guide published online")
    FORMS_ONLINE = 2, _("Forms downloadable online")
    PRE_REVIEW = 3, _("Online pre-review")
    ONLINE_ACCEPTANCE = 4, _("Online application and acceptance")
    FULLY_ONLINE = 5, _("Fully online, result delivered online")


class Scope(models.TextChoices):
    """通办范围: where else the item can be handled."""

    NATIONWIDE = "1", _("Nationwide")
    PROVINCE = "2", _("Anywhere in the province")
    CITY = "3", _("Anywhere in the city")
    COUNTY = "4", _("Anywhere in the county")
    LOCAL = "5", _("Only at the implementing department")


class RequiredRealNameLevel(models.IntegerChoices):
    """The real-name level an applicant needs (the levels are accounts'; 1 may browse and ask only)."""

    BASIC = 2, _("Basic real-name verification (level 2)")
    ADVANCED = 3, _("Advanced real-name verification (level 3)")


class Section(models.TextChoices):
    APPROVAL = "approval", _("Administrative approval")
    CONVENIENCE = "convenience", _("Convenience services")
    TRANSPARENCY = "transparency", _("Open government")


class ServiceItemQuerySet(models.QuerySet["ServiceItem"]):
    def published(self) -> ServiceItemQuerySet:
        return self.filter(status=ServiceItem.Status.PUBLISHED)


class ServiceItem(models.Model):
    """One version of a catalogue entry (实施清单) with its whole service guide."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("Awaiting approval")
        SCHEDULED = "scheduled", _("Approved, takes effect later")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    # Identity of the entry, shared by all its versions.
    implementation_code = models.CharField(_("implementation code (实施编码)"), max_length=31, db_index=True)
    basic_code = models.CharField(_("basic code (基本编码)"), max_length=12, validators=[validate_basic_code])
    department = models.ForeignKey(
        Department, verbose_name=_("implementing department"), on_delete=models.PROTECT, related_name="items"
    )
    exercise_level = models.PositiveSmallIntegerField(_("level exercised (行使层级)"), choices=RegionLevel.choices)

    # The guide.
    name = models.CharField(_("name"), max_length=200)
    aliases = models.CharField(_("common names"), max_length=300, blank=True, help_text=_("Comma-separated."))
    summary = models.TextField(_("summary"), blank=True)
    item_type = models.CharField(_("item type (事项类型)"), max_length=2, choices=ItemType.choices)
    served_parties = models.JSONField(_("served parties (服务对象)"), default=list)
    for_persons = models.BooleanField(_("for individuals"), default=False)
    for_enterprises = models.BooleanField(_("for enterprises"), default=False)
    handling_type = models.CharField(_("handling type (办件类型)"), max_length=1, choices=HandlingType.choices)
    legal_limit = models.PositiveSmallIntegerField(_("statutory time limit"), null=True, blank=True)
    legal_limit_unit = models.CharField(_("unit"), max_length=1, choices=DayUnit.choices, default=DayUnit.WORKING)
    promised_limit = models.PositiveSmallIntegerField(_("promised time limit"), null=True, blank=True)
    promised_limit_unit = models.CharField(_("unit"), max_length=1, choices=DayUnit.choices, default=DayUnit.WORKING)
    visits = models.PositiveSmallIntegerField(_("visits in person (到现场次数)"), default=0)
    star_level = models.PositiveSmallIntegerField(_("star level"), default=3)
    online_depth = models.PositiveSmallIntegerField(_("online depth"), choices=OnlineDepth.choices)
    min_real_name_level = models.PositiveSmallIntegerField(
        _("real-name level needed to apply"),
        choices=RequiredRealNameLevel.choices,
        default=RequiredRealNameLevel.BASIC,
    )
    scope = models.CharField(_("handling scope (通办范围)"), max_length=1, choices=Scope.choices, default=Scope.LOCAL)
    section = models.CharField(_("section"), max_length=20, choices=Section.choices, default=Section.APPROVAL)
    conditions = models.TextField(_("conditions of acceptance (受理条件)"), blank=True)
    legal_basis = models.TextField(_("legal basis (设定依据)"), blank=True)
    consult_phone = models.CharField(_("consultation phone"), max_length=60, blank=True)
    supervise_phone = models.CharField(_("supervision phone"), max_length=60, blank=True)
    location = models.CharField(_("where to apply"), max_length=300, blank=True)
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    materials = models.JSONField(_("materials"), default=list, blank=True)
    fees = models.JSONField(_("fees"), default=list, blank=True)
    faqs = models.JSONField(_("questions and answers"), default=list, blank=True)
    process = models.JSONField(_("process steps"), default=list, blank=True)
    form_schema = models.JSONField(_("form schema"), default=dict, blank=True)
    form_ui = models.JSONField(_("form UI hints"), default=dict, blank=True)
    workflow = models.JSONField(_("workflow"), default=dict, blank=True)
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), blank=True, related_name="items")

    # The version.
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    change_note = models.TextField(_("what changed"), blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("edited by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ServiceItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["implementation_code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["implementation_code", "version"], name="services_item_code_version"),
            models.UniqueConstraint(
                fields=["implementation_code"],
                condition=Q(status="published"),
                name="services_item_one_published_version",
            ),
            models.UniqueConstraint(
                fields=["implementation_code"],
                condition=Q(status__in=["draft", "in_review", "scheduled"]),
                name="services_item_one_open_draft",
            ),
            models.CheckConstraint(condition=Q(star_level__gte=1, star_level__lte=5), name="services_item_star_1_5"),
        ]
        indexes = [
            models.Index(fields=["status", "department"], name="services_item_status_dept"),
            models.Index(fields=["status", "item_type"], name="services_item_status_type"),
            # The audience facet narrows by these flags (search's broad queries too).
            models.Index(fields=["status", "for_persons"], name="services_item_status_person"),
            models.Index(fields=["status", "for_enterprises"], name="services_item_status_enterp"),
            # The list page's order with the facets it is most often narrowed by: a page is read
            # from the index, the facets checked there, instead of sorting every matching item.
            models.Index(
                fields=[
                    "-star_level",
                    "implementation_code",
                    "item_type",
                    "department",
                    "for_persons",
                    "for_enterprises",
                ],
                condition=Q(status="published"),
                name="services_item_published_list",
            ),
            # Search's one result per service reads each match's basic code and department from here,
            # without visiting the rows (services/search.py, ``one_per_service``).
            models.Index(
                fields=["id", "basic_code", "department"],
                condition=Q(status="published"),
                name="services_item_published_svc",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class Bundle(models.Model):
    """一件事: several items applied for in one form, one submission, routed in parallel."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100)
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    theme = models.ForeignKey(
        Theme, verbose_name=_("theme"), null=True, blank=True, on_delete=models.SET_NULL, related_name="bundles"
    )
    description = models.TextField(_("description"), blank=True)
    item_codes = models.JSONField(_("implementation codes of its items"), default=list)
    # {implementation code: [codes of the items it waits for]}: a waiting item is routed once they are all
    # approved, and ended if one of them is not.
    depends_on = models.JSONField(_("items that wait for others"), default=dict, blank=True)
    # Set for an enterprise that does not exist yet (企业开办): nobody acts for an enterprise, and this item's
    # approval registers it; the items that wait for it take its credit code, name and licence from it.
    founding_item_code = models.CharField(_("item that registers the new enterprise"), max_length=31, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("bundle (一件事)")
        verbose_name_plural = _("bundles (一件事)")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_for_new_enterprise(self) -> bool:
        return bool(self.founding_item_code)

    def prerequisites_of(self, implementation_code: str) -> list[str]:
        """The codes of the items of this bundle that this item waits for."""
        return [str(code) for code in (self.depends_on or {}).get(implementation_code, [])]


# What the registration of a new enterprise gives the items of its bundle that wait for it: these answers,
# and the materials of these sources (its licence, its record in the legal-person registry).
FOUNDING_FIELDS = ("uscc", "enterprise_name")
FOUNDING_MATERIAL_SOURCES = ("certificate:business_license", "registry:legal_person")


class Synonym(models.Model):
    """A word people type and the catalogue words it stands for (身份证 → 居民身份证)."""

    term = models.CharField(_("what people type"), max_length=60, unique=True)
    expansions = models.CharField(_("what it means"), max_length=300, help_text=_("Comma-separated."))

    class Meta:
        verbose_name = _("search synonym")
        verbose_name_plural = _("search synonyms")
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


class ServiceSearchToken(models.Model):
    """One search token of a published item, with its weight; built by ``services.search.reindex``.

    Looked up by ``token IN (…)`` and summed per item, which gives the same
    results on PostgreSQL and SQLite (see services/search.py).
    """

    pk = models.CompositePrimaryKey("item", "token")
    # The primary key (item, token) serves lookups by item; a second index on item alone would be waste.
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="+", db_index=False)
    token = models.CharField(max_length=64)
    weight = models.PositiveSmallIntegerField()
    # The item's star level, repeated so that ties are ranked without reading the items.
    star_level = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("search token")
        verbose_name_plural = _("search tokens")
        # Covers the search query, so it reads the index only.
        indexes = [models.Index(fields=["token", "item", "weight", "star_level"], name="services_search_token_lookup")]

    def __str__(self) -> str:
        return self.token
