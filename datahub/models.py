"""The base registries (人口库, 法人库) and the log of every read of them.

The registries are the ground truth for identity: real-name checks, prefilled
forms and agent authorisations read them, always through ``datahub.registries``,
which writes a ``DataAccessLog`` row in the same transaction as each read.

Identity numbers are never stored in clear: each is kept encrypted (to show it
to its owner), as a keyed hash (to find it) and masked (to show it to anyone
else). Region codes are the 12-digit division codes as text: datahub depends on
no other app of the portal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from datahub.identity import Gender, IdentityType, mask_name, validate_uscc

# keyed_hash purposes: the hash of an identity number is the same in every table that stores one.
ID_NUMBER_HASH_PURPOSE = "id-number"
PHONE_HASH_PURPOSE = "phone"


class Ethnicity(models.TextChoices):
    """民族 (GB/T 3304-1991)."""

    HAN = "01", pgettext_lazy("ethnic group", "Han")
    MONGOL = "02", pgettext_lazy("ethnic group", "Mongol")
    HUI = "03", pgettext_lazy("ethnic group", "Hui")
    TIBETAN = "04", pgettext_lazy("ethnic group", "Tibetan")
    UYGHUR = "05", pgettext_lazy("ethnic group", "Uyghur")
    MIAO = "06", pgettext_lazy("ethnic group", "Miao")
    YI = "07", pgettext_lazy("ethnic group", "Yi")
    ZHUANG = "08", pgettext_lazy("ethnic group", "Zhuang")
    BOUYEI = "09", pgettext_lazy("ethnic group", "Bouyei")
    KOREAN = "10", pgettext_lazy("ethnic group", "Korean")
    MANCHU = "11", pgettext_lazy("ethnic group", "Manchu")
    DONG = "12", pgettext_lazy("ethnic group", "Dong")
    YAO = "13", pgettext_lazy("ethnic group", "Yao")
    BAI = "14", pgettext_lazy("ethnic group", "Bai")
    TUJIA = "15", pgettext_lazy("ethnic group", "Tujia")
    HANI = "16", pgettext_lazy("ethnic group", "Hani")
    KAZAKH = "17", pgettext_lazy("ethnic group", "Kazakh")
    DAI = "18", pgettext_lazy("ethnic group", "Dai")
    LI = "19", pgettext_lazy("ethnic group", "Li")
    LISU = "20", pgettext_lazy("ethnic group", "Lisu")
    VA = "21", pgettext_lazy("ethnic group", "Va")
    SHE = "22", pgettext_lazy("ethnic group", "She")
    GAOSHAN = "23", pgettext_lazy("ethnic group", "Gaoshan")
    LAHU = "24", pgettext_lazy("ethnic group", "Lahu")
    SHUI = "25", pgettext_lazy("ethnic group", "Shui")
    DONGXIANG = "26", pgettext_lazy("ethnic group", "Dongxiang")
    NAXI = "27", pgettext_lazy("ethnic group", "Naxi")
    JINGPO = "28", pgettext_lazy("ethnic group", "Jingpo")
    KYRGYZ = "29", pgettext_lazy("ethnic group", "Kyrgyz")
    TU = "30", pgettext_lazy("ethnic group", "Tu")
    DAUR = "31", pgettext_lazy("ethnic group", "Daur")
    MULAO = "32", pgettext_lazy("ethnic group", "Mulao")
    QIANG = "33", pgettext_lazy("ethnic group", "Qiang")
    BLANG = "34", pgettext_lazy("ethnic group", "Blang")
    SALAR = "35", pgettext_lazy("ethnic group", "Salar")
    MAONAN = "36", pgettext_lazy("ethnic group", "Maonan")
    GELAO = "37", pgettext_lazy("ethnic group", "Gelao")
    XIBE = "38", pgettext_lazy("ethnic group", "Xibe")
    ACHANG = "39", pgettext_lazy("ethnic group", "Achang")
    PUMI = "40", pgettext_lazy("ethnic group", "Pumi")
    TAJIK = "41", pgettext_lazy("ethnic group", "Tajik")
    NU = "42", pgettext_lazy("ethnic group", "Nu")
    UZBEK = "43", pgettext_lazy("ethnic group", "Uzbek")
    RUSSIAN = "44", pgettext_lazy("ethnic group", "Russian")
    EWENKI = "45", pgettext_lazy("ethnic group", "Ewenki")
    DEANG = "46", pgettext_lazy("ethnic group", "De'ang")
    BONAN = "47", pgettext_lazy("ethnic group", "Bonan")
    YUGUR = "48", pgettext_lazy("ethnic group", "Yugur")
    GIN = "49", pgettext_lazy("ethnic group", "Gin")
    TATAR = "50", pgettext_lazy("ethnic group", "Tatar")
    DERUNG = "51", pgettext_lazy("ethnic group", "Derung")
    OROQEN = "52", pgettext_lazy("ethnic group", "Oroqen")
    HEZHEN = "53", pgettext_lazy("ethnic group", "Hezhen")
    MONBA = "54", pgettext_lazy("ethnic group", "Monba")
    LHOBA = "55", pgettext_lazy("ethnic group", "Lhoba")
    JINO = "56", pgettext_lazy("ethnic group", "Jino")
    OTHER = "97", pgettext_lazy("ethnic group", "Other")
    FOREIGN_ORIGIN = "98", pgettext_lazy("ethnic group", "Chinese citizen of foreign origin")


class HouseholdRelation(models.TextChoices):
    """与户主关系, by the groups of GB/T 4761-2008 (a child's sex is in ``gender``)."""

    HEAD = "02", _("Head of household")
    SPOUSE = "10", _("Spouse")
    CHILD = "20", _("Child")
    PARENT = "50", _("Parent")
    OTHER = "99", _("Other relative or member")


class PersonStatus(models.TextChoices):
    """人口状态."""

    NORMAL = "1", _("Registered")
    MOVED_OUT = "2", _("Moved out")
    DECEASED = "3", _("Deceased")


class MaritalStatus(models.TextChoices):
    """婚姻状况 (GB/T 2261.2-2003)."""

    UNMARRIED = "10", _("Unmarried")
    MARRIED = "20", _("Married")
    FIRST_MARRIAGE = "21", _("Married (first marriage)")
    REMARRIED = "22", _("Married (remarried)")
    MARRIED_AGAIN = "23", _("Married (remarried to a former spouse)")
    WIDOWED = "30", _("Widowed")
    DIVORCED = "40", _("Divorced")
    UNSTATED = "90", _("Not stated")


# Codes under which a person has a spouse now (已婚 and its kinds).
MARRIED_STATUSES = frozenset(
    {MaritalStatus.MARRIED, MaritalStatus.FIRST_MARRIAGE, MaritalStatus.REMARRIED, MaritalStatus.MARRIED_AGAIN}
)


class PersonRecord(models.Model):
    """One person of the population registry (人口库), with their household (户)."""

    name = models.CharField(_("name"), max_length=60)
    id_type = models.CharField(_("identity document type"), max_length=3, choices=IdentityType.choices)
    id_number_hash = models.CharField(_("identity number (keyed hash)"), max_length=64)
    id_number_encrypted = models.TextField(_("identity number (encrypted)"))
    id_number_masked = models.CharField(_("identity number (masked)"), max_length=40)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("date of birth"))
    ethnicity = models.CharField(_("ethnic group"), max_length=2, choices=Ethnicity.choices, blank=True)
    household_number = models.CharField(_("household number"), max_length=20, db_index=True)
    relation_to_head = models.CharField(
        _("relation to the head of household"), max_length=2, choices=HouseholdRelation.choices
    )
    household_region_code = models.CharField(_("household registration region (division code)"), max_length=12)
    address = models.CharField(_("address"), max_length=200)
    phone_hash = models.CharField(_("phone (keyed hash)"), max_length=64, blank=True)
    phone_masked = models.CharField(_("phone (masked)"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=1, choices=PersonStatus.choices, default=PersonStatus.NORMAL)
    marital_status = models.CharField(
        _("marital status"), max_length=2, choices=MaritalStatus.choices, default=MaritalStatus.UNSTATED
    )
    # The spouse's identity number as a keyed hash (ID_NUMBER_HASH_PURPOSE), while married.
    spouse_id_hash = models.CharField(_("spouse's identity number (keyed hash)"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("person record")
        verbose_name_plural = _("population registry")
        ordering = ["household_number", "relation_to_head", "birth_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number_hash"], name="datahub_person_one_per_document")
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {self.id_number_masked}"


class LegalPersonKind(models.TextChoices):
    """Kind of legal person: the registering authority and category digits that begin its USCC (GB 32100)."""

    ENTERPRISE = "91", _("Enterprise")
    INDIVIDUAL_BUSINESS = "92", _("Individual business")
    FARMERS_COOPERATIVE = "93", _("Farmers' cooperative")
    PUBLIC_INSTITUTION = "12", _("Public institution")
    SOCIAL_ORGANISATION = "51", _("Social organisation")
    SOCIAL_SERVICE_ORGANISATION = "52", _("Social service organisation")
    FOUNDATION = "53", _("Foundation")


class LegalPersonStatus(models.TextChoices):
    """登记状态."""

    ACTIVE = "1", _("Active")
    REVOKED = "2", _("Licence revoked")
    DEREGISTERED = "3", _("Deregistered")
    MOVED_OUT = "4", _("Moved out")


class LegalPersonRecord(models.Model):
    """One legal person of the legal-person registry (法人库), identified by its 统一社会信用代码."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=2, choices=LegalPersonKind.choices)
    legal_representative_name = models.CharField(_("legal representative"), max_length=60)
    legal_representative_id_type = models.CharField(
        _("legal representative's document type"), max_length=3, choices=IdentityType.choices
    )
    legal_representative_id_hash = models.CharField(_("legal representative's number (keyed hash)"), max_length=64)
    legal_representative_id_masked = models.CharField(_("legal representative's number (masked)"), max_length=40)
    registered_region_code = models.CharField(_("registration region (division code)"), max_length=12)
    address = models.CharField(_("address"), max_length=200)
    established_on = models.DateField(_("established on"))
    registered_capital_fen = models.BigIntegerField(_("registered capital (fen)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=1, choices=LegalPersonStatus.choices, default=LegalPersonStatus.ACTIVE
    )
    registration_authority = models.CharField(_("registration authority"), max_length=100)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("legal person record")
        verbose_name_plural = _("legal person registry")
        ordering = ["uscc"]
        indexes = [models.Index(fields=["legal_representative_id_hash"], name="datahub_legal_rep_hash")]

    def __str__(self) -> str:
        return self.name


class AccessResource(models.TextChoices):
    POPULATION = "population", _("Population registry")
    LEGAL_PERSON = "legal_person", _("Legal person registry")


class AccessMethod(models.TextChoices):
    """共享方式: how the data was used."""

    VERIFY = "verify", _("Verification (yes or no)")
    LOOKUP = "lookup", _("Lookup (data returned)")


class AccessResult(models.TextChoices):
    FOUND = "found", _("Found")
    NOT_FOUND = "not_found", _("Not found")
    MATCH = "match", _("Match")
    MISMATCH = "mismatch", _("Mismatch")


class DataAccessLog(models.Model):
    """One read of a base registry: who, for which department, what, why, and with what result.

    Append-only: rows are only ever created, by ``datahub.registries``, in the
    transaction of the read they record.
    """

    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor label"), max_length=100, blank=True)
    department_id = models.BigIntegerField(_("department id"), null=True, blank=True)
    resource = models.CharField(_("resource"), max_length=20, choices=AccessResource.choices)
    method = models.CharField(_("method"), max_length=10, choices=AccessMethod.choices)
    record_key = models.CharField(_("record key"), max_length=40)
    # The keyed hash of the identity number read (as in PersonRecord.id_number_hash), so that
    # "who read my data" can be answered without a clear number in the log.
    subject_hash = models.CharField(_("subject (keyed hash)"), max_length=64, blank=True, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=200)
    result = models.CharField(_("result"), max_length=10, choices=AccessResult.choices)

    class Meta:
        verbose_name = _("data access log entry")
        verbose_name_plural = _("data access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["actor", "at"], name="datahub_access_actor_at"),
            models.Index(fields=["resource", "at"], name="datahub_access_resource_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=False) | ~Q(actor_label=""), name="datahub_access_has_actor"
            ),
            models.CheckConstraint(condition=~Q(purpose=""), name="datahub_access_has_purpose"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.method} {self.record_key}"
