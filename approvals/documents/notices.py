"""The formal documents (文书) of an application under 行政许可法, and each rendered as a PDF.

An application has a document when the event that the document records happened:

- ``acceptance`` — 受理通知书, from the ``accepted`` event (deemed acceptance included);
- ``supplement-<event id>`` — 补正通知书, one for each ``supplement_requested`` event;
- ``non-acceptance`` — 不予受理决定书, from the ``decided`` event with outcome 6;
- ``grant`` — 准予（行政许可/办理）决定书, from the ``decided`` event with outcome 0, or ``approved_on_trust``;
- ``refusal`` — 不予（行政许可/办理）决定书, from the ``decided`` event with outcome 1.

Document numbers (文号) are given once, when the event is recorded
(``approvals.document_numbers``): ``西湖民准〔2026〕17号``, a serial per department,
kind and year. A document issued before that register existed keeps the number it
was issued with, which embeds the 办件编号: ``<代字><类别字>〔<year>〕<办件编号>号``.

The documents are Chinese official documents and are written in Chinese whatever
the page's language. They carry a "（印章）" placeholder where the department's
seal goes: electronic seals come with the certificates app.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, KeepTogether, PageTemplate, Paragraph, Spacer

from approvals import document_numbers, forms_engine, workflow
from approvals.applications.parties import parties_of
from approvals.materials import materials_of
from approvals.models import Application, ApplicationEvent
from core import calendar
from core.errors import NotFound
from services.models import DayUnit, Department, DepartmentKind, ItemType

Event = ApplicationEvent.Action
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A CID font every PDF reader has: no font file is shipped or embedded.
FONT = "STSong-Light"

# The slugs live with the register of numbers; the names are kept here for the views and tests.
ACCEPTANCE = document_numbers.ACCEPTANCE
NON_ACCEPTANCE = document_numbers.NON_ACCEPTANCE
SUPPLEMENT = document_numbers.SUPPLEMENT
GRANT = document_numbers.GRANT
REFUSAL = document_numbers.REFUSAL

ID_TYPES = {
    "111": "居民身份证",
    "414": "普通护照",
    "511": "台湾居民来往大陆通行证",
    "516": "港澳居民来往内地通行证",
    "553": "外国人永久居留身份证",
    "554": "港澳台居民居住证",
}
NUMERALS = "一二三四五六七八九十"
PARTY_ROLES = {"male": "男方", "female": "女方"}


@dataclass(frozen=True)
class Document:
    """One document of an application: what it is, its number, and the event it records."""

    kind: str  # the slug in its URL
    title: str
    number: str
    issued_on: datetime.date
    event: ApplicationEvent
    reasons: tuple[str, ...] = ()  # refusals: the opinions that decided it
    is_on_trust: bool = False  # a grant made on the applicant's promise (信任在先), verified afterwards

    @property
    def ascii_filename(self) -> str:
        return f"{self.kind}-{self.event.application.number}.pdf"

    @property
    def filename(self) -> str:
        return f"{self.title}-{self.event.application.number}.pdf"


# --- which documents an application has ------------------------------------------------


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment, SHANGHAI).date()


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _number_before_register(application: Application, category: str, day: datetime.date, sequence: int) -> str:
    """The number a document issued before the register of numbers was given: it embeds the 办件编号."""
    department = application.department
    prefix = department.short_name or department.name
    suffix = f"-{sequence}" if sequence else ""
    return f"{prefix}{category}〔{day.year}〕{application.number}{suffix}号"


def _decision_titles(application: Application) -> tuple[str, str]:
    if application.service.item_type == ItemType.LICENSING:
        return "准予行政许可决定书", "不予行政许可决定书"
    return "准予办理决定书", "不予办理决定书"


def _reasons(events: list[ApplicationEvent], before: int, result: str, department_id: int) -> tuple[str, ...]:
    """The opinions of the tasks that gave ``result`` in the stage round that ended at ``events[before]``."""
    start = 0
    for index in range(before - 1, -1, -1):
        if events[index].action == Event.ROUTED and "stage" in events[index].details:
            start = index
            break
    reasons = []
    for event in events[start:before]:
        if event.action != Event.TASK_DONE or event.details.get("result") != result or not event.note:
            continue
        if event.department_id not in (None, department_id) and event.department is not None:
            reasons.append(f"{event.department.name}：{event.note}")
        else:
            reasons.append(event.note)
    return tuple(reasons)


def documents_of(application: Application, events: list[ApplicationEvent] | None = None) -> list[Document]:
    """The documents the application has, oldest first; ``events`` is its timeline when the caller has it."""
    if application.number is None:
        return []
    if events is None:
        events = list(application.events.select_related("department").order_by("at", "pk"))
    grant_title, refusal_title = _decision_titles(application)
    numbers = dict(application.document_numbers.values_list("kind", "number"))
    found: list[Document] = []
    kinds: set[str] = set()
    supplements = 0
    titles = {
        ACCEPTANCE: "受理通知书",
        SUPPLEMENT: "补正通知书",
        GRANT: grant_title,
        NON_ACCEPTANCE: "不予受理决定书",
        REFUSAL: refusal_title,
    }
    refusal_results = {NON_ACCEPTANCE: workflow.NOT_ACCEPT, REFUSAL: workflow.REFUSE}

    for index, event in enumerate(events):
        event.application = application  # the documents need it; spare a query each
        issued = document_numbers.document_kind(event)
        if issued is None:
            continue
        kind, category = issued
        is_supplement = kind.startswith(SUPPLEMENT)
        supplements += is_supplement
        if kind in kinds:
            continue  # one decision per application: a repeated event changes nothing
        kinds.add(kind)
        day = local_day(event.at)
        number = numbers.get(kind) or _number_before_register(
            application, category, day, supplements if is_supplement else 0
        )
        extra: dict[str, Any] = {}
        if kind in refusal_results:
            extra["reasons"] = _reasons(events, index, refusal_results[kind], application.department_id)
        if kind == NON_ACCEPTANCE and event.details.get("registry_check") and event.note:
            extra["reasons"] = (event.note,)  # the parties' registry check (applications.parties), not a task
        if event.action == Event.APPROVED_ON_TRUST:
            extra["is_on_trust"] = True
        title = titles[SUPPLEMENT if is_supplement else kind]
        found.append(Document(kind=kind, title=title, number=number, issued_on=day, event=event, **extra))
    return found


def document_for(application: Application, kind: str) -> Document:
    """The application's document of this kind; NotFound when it has none (yet)."""
    for document in documents_of(application):
        if document.kind == kind:
            return document
    raise NotFound(_("No such document."))


# --- what each document says --------------------------------------------------------------


def review_authority(department: Department) -> str:
    """Where 行政复议 against this department's decision is asked (行政复议法 2023, 第二十四条、第二十七条).

    A working department of a local government: that government. Taxation is under
    vertical leadership: the tax authority one level up. A national department: itself.
    """
    if department.kind == DepartmentKind.TAXATION:
        return "上一级税务机关"
    region = department.region
    if region.level <= 1:
        return department.name
    name = region.name
    # A county is named with its city (杭州市西湖区), as its government signs.
    if region.level >= 4 and region.parent is not None and region.parent.level >= 3:
        name = f"{region.parent.name}{name}"
    return f"{name}人民政府"


def review_rights(department: Department) -> str:
    return (
        f"如不服本决定，可以自收到本决定书之日起六十日内向{review_authority(department)}申请行政复议，"
        "也可以自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
    )


def _you(application: Application) -> str:
    if application.acting_for_id:
        return "你单位"
    return "你们" if parties_of(application) else "你"


def _addressee(application: Application) -> str:
    if application.acting_for is not None:
        return application.acting_for.name
    if parties := parties_of(application):
        return "、".join(party.name for party in parties)
    return application.applicant_name or "申请人"


def _identity(application: Application) -> str:
    kind = ID_TYPES.get(application.applicant_id_type, "证件")
    return f"{kind} {application.applicant_id_masked}" if application.applicant_id_masked else ""


def _particulars(application: Application) -> list[str]:
    """Who applied for what: the identity masked (its owner and the handling staff read the document)."""
    lines = []
    if application.acting_for is not None:
        lines.append(f"申请人：{application.acting_for.name}")
        lines.append(f"统一社会信用代码：{application.acting_for.uscc}")
        agent = application.applicant_name
        identity = _identity(application)
        if agent:
            lines.append(f"经办人：{agent}（{identity}）" if identity else f"经办人：{agent}")
    elif parties := parties_of(application):
        # Made together (结婚登记): the decision names every party, each with their document.
        for party in parties:
            kind = ID_TYPES.get(party.id_type, "证件")
            lines.append(f"{PARTY_ROLES.get(party.role, '当事人')}：{party.name}（{kind} {party.id_number_masked}）")
    else:
        lines.append(f"申请人：{application.applicant_name or '—'}")
        if _identity(application):
            lines.append(f"证件：{_identity(application)}")
    lines.append(f"申请事项：{application.service.name}")
    lines.append(f"办件编号：{application.number}")
    if application.submitted_at is not None:
        lines.append(f"申请日期：{chinese_date(local_day(application.submitted_at))}")
    return lines


def _limit(days: int | None, unit: str) -> str:
    return f"{days}个{'工作日' if unit == DayUnit.WORKING else '自然日'}" if days else ""


def _acceptance(application: Application, document: Document) -> list[str]:
    item = application.service
    is_licensing = item.item_type == ItemType.LICENSING
    you = _you(application)
    submitted = chinese_date(local_day(application.submitted_at or document.event.at))
    accepted_at = application.accepted_at or document.event.at
    paragraphs = []
    if application.is_deemed_accepted:
        basis = "依照《中华人民共和国行政许可法》第三十二条第一款第（四）项的规定，" if is_licensing else ""
        paragraphs.append(
            f"{you}于{submitted}提出的{item.name}申请，本机关未在收到申请材料之日起五个工作日内一次告知需要补正的"
            f"全部内容，{basis}自收到申请材料之日起即为受理。"
        )
    elif is_licensing:
        paragraphs.append(
            f"{you}于{submitted}提出的{item.name}申请，经审查，申请事项属于本机关职权范围，申请材料齐全、符合法定形式。"
            "根据《中华人民共和国行政许可法》第三十二条第一款第（五）项的规定，本机关决定予以受理。"
        )
    else:
        paragraphs.append(
            f"{you}于{submitted}提出的{item.name}申请，经审查，申请材料齐全、符合规定形式，本机关决定予以受理。"
        )
    limits = []
    if legal := _limit(item.legal_limit, item.legal_limit_unit):
        limits.append(f"法定办结时限为{legal}")
    if promised := _limit(item.promised_limit, item.promised_limit_unit):
        limits.append(f"本机关承诺办结时限为{promised}")
    due = _due_at_acceptance(application, accepted_at)
    sentence = f"本事项{'，'.join(limits)}。" if limits else ""
    if due is not None:
        sentence += f"本机关将于{chinese_date(due)}前作出决定。"
    if is_licensing:
        sentence += "依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，所需时间不计算在上述期限内。"
    if sentence:
        paragraphs.append(sentence)
    paragraphs.append(f"{you}可以凭办件编号和查询密码在一网通办平台查询办理进度。")
    return paragraphs


def _due_at_acceptance(application: Application, accepted_at: datetime.datetime) -> datetime.date | None:
    """The due date the acceptance set: today's due date without the extensions granted since (延长审批)."""
    if application.due_date is None:
        return None
    if not application.extended_days:
        return application.due_date
    start = calendar.local_day(accepted_at)
    days = calendar.working_days_between(start, application.due_date) - application.extended_days
    return calendar.add_working_days(start, max(days, 0))


def _numbered(items: list[str]) -> list[str]:
    return [f"{number}. {text}" for number, text in enumerate(items, start=1)]


def _supplement(application: Application, document: Document) -> list[str]:
    item = application.service
    event = document.event
    you = _you(application)
    submitted = chinese_date(local_day(application.submitted_at or event.at))
    before_acceptance = application.accepted_at is None or event.at <= application.accepted_at
    paragraphs = []
    if item.item_type == ItemType.LICENSING and before_acceptance:
        paragraphs.append(
            f"{you}于{submitted}提出的{item.name}申请，经审查，申请材料不齐全或者不符合法定形式。根据《中华人民共和国"
            "行政许可法》第三十二条第一款第（四）项的规定，现一次告知需要补正的全部内容如下："
        )
    else:
        paragraphs.append(
            f"{you}于{submitted}提出的{item.name}申请，经审查，需要补正。现一次告知需要补正的全部内容如下："
        )
    asked_fields = list(event.details.get("fields") or [])
    asked_materials = list(event.details.get("materials") or [])
    steps = forms_engine.form_steps(item.form_schema, item.form_ui)
    labels = {field.code: field.label for step in steps for field in step.fields}
    names = {str(entry["code"]): str(entry.get("name") or entry["code"]) for entry in materials_of(item)}
    sections: list[tuple[str, list[str]]] = []
    if asked_fields:
        sections.append(("需要补正的申请信息：", [labels.get(code, code) for code in asked_fields]))
    if asked_materials:
        sections.append(("需要补正的申请材料：", [names.get(code, code) for code in asked_materials]))
    if event.note:
        sections.append(("补正说明：", [event.note]))
    for index, (heading, entries) in enumerate(sections):
        paragraphs.append(f"{NUMERALS[index]}、{heading}")
        paragraphs.extend(_numbered(entries) if heading != "补正说明：" else entries)
    paragraphs.append(
        f"请{you}登录一网通办平台，在本办件页面一次提交上述补正内容。"
        f"{you}按照本通知提交全部补正内容后，本机关将继续办理。"
    )
    return paragraphs


def _reason_paragraphs(document: Document) -> list[str]:
    if not document.reasons:
        return ["理由：经审查，申请不符合规定的条件。"]
    if len(document.reasons) == 1:
        return [f"理由：{document.reasons[0]}"]
    return ["理由如下：", *_numbered(list(document.reasons))]


def _non_acceptance(application: Application, document: Document) -> list[str]:
    item = application.service
    you = _you(application)
    submitted = chinese_date(local_day(application.submitted_at or document.event.at))
    paragraphs = [f"{you}于{submitted}提出的{item.name}申请，经审查，本机关决定不予受理。"]
    paragraphs.extend(_reason_paragraphs(document))
    if item.item_type == ItemType.LICENSING:
        paragraphs.append("根据《中华人民共和国行政许可法》第三十二条第一款的规定，特此告知。")
    paragraphs.append(review_rights(application.department))
    return paragraphs


def _decision(application: Application, document: Document) -> list[str]:
    item = application.service
    is_licensing = item.item_type == ItemType.LICENSING
    you = _you(application)
    submitted = chinese_date(local_day(application.submitted_at or document.event.at))
    accepted = f"本机关于{chinese_date(local_day(application.accepted_at))}受理。" if application.accepted_at else ""
    opening = f"{you}于{submitted}提出的{item.name}申请，{accepted}"
    paragraphs = []
    if document.kind == GRANT:
        if document.is_on_trust:
            paragraphs.append(
                f"{opening}{you}已书面承诺符合规定的条件、标准，本机关依照告知承诺制，决定准予"
                f"{'行政许可' if is_licensing else '办理'}。本机关将依法对承诺内容进行核查；"
                "经核查不符合条件的，将依法撤销本决定。"
            )
        elif is_licensing:
            paragraphs.append(
                f"{opening}经审查，申请符合法定条件、标准。根据《中华人民共和国行政许可法》第三十八条第一款的规定，"
                "本机关决定准予行政许可。"
            )
        else:
            paragraphs.append(f"{opening}经审查，申请符合规定的条件，本机关决定准予办理。")
        if item.legal_basis.strip():
            paragraphs.append(f"依据：{item.legal_basis.strip()}")
        return paragraphs
    paragraphs.append(f"{opening}经审查，本机关决定不予{'行政许可' if is_licensing else '办理'}。")
    paragraphs.extend(_reason_paragraphs(document))
    if is_licensing:
        paragraphs.append("根据《中华人民共和国行政许可法》第三十八条第二款的规定，特此告知。")
    paragraphs.append(review_rights(application.department))
    return paragraphs


def document_text(application: Application, document: Document) -> tuple[list[str], list[str]]:
    """The document's particulars (who, what) and its body paragraphs, in Chinese."""
    # Field labels come from the form in the active language: the document is Chinese.
    with translation.override("zh-hans"):
        if document.kind == ACCEPTANCE:
            body = _acceptance(application, document)
        elif document.kind.startswith(SUPPLEMENT):
            body = _supplement(application, document)
        elif document.kind == NON_ACCEPTANCE:
            body = _non_acceptance(application, document)
        else:
            body = _decision(application, document)
    return _particulars(application), body


# --- the PDF ----------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("body", fontName=FONT, fontSize=14, leading=24, wordWrap="CJK")
    return {
        "issuer": ParagraphStyle("issuer", parent=base, fontSize=18, leading=30, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=24, leading=40, alignment=TA_CENTER, spaceAfter=6),
        "number": ParagraphStyle("number", parent=base, fontSize=14, alignment=TA_CENTER, spaceAfter=14),
        "particular": ParagraphStyle("particular", parent=base, fontSize=12, leading=20),
        "addressee": ParagraphStyle("addressee", parent=base, spaceBefore=14),
        "body": ParagraphStyle("body", parent=base, firstLineIndent=28),
        "signature": ParagraphStyle("signature", parent=base, alignment=TA_RIGHT),
    }


def render_pdf(application: Application, document: Document) -> bytes:
    """The document as an A4 PDF whose text can be extracted; the same document gives the same bytes."""
    particulars, body = document_text(application, document)
    styles = _styles()
    department = application.department
    story: list[Flowable] = [
        Paragraph(escape(department.name), styles["issuer"]),
        Paragraph(escape(document.title), styles["title"]),
        Paragraph(escape(document.number), styles["number"]),
        *(Paragraph(escape(line), styles["particular"]) for line in particulars),
        Paragraph(escape(f"{_addressee(application)}："), styles["addressee"]),
        *(Paragraph(escape(paragraph), styles["body"]) for paragraph in body[:-1]),
        # The seal never stands alone on a page: the last paragraph goes with it.
        KeepTogether(
            [
                Paragraph(escape(body[-1]), styles["body"]),
                Spacer(1, 36),
                Paragraph(escape(f"{department.name}（印章）"), styles["signature"]),
                Paragraph(escape(chinese_date(document.issued_on)), styles["signature"]),
            ]
        ),
    ]
    issued = document.issued_on

    def on_page(canvas: Canvas, template: BaseDocTemplate) -> None:
        # The PDF's own dates are the day of issue, so that downloading it again gives the same file.
        canvas.setDateFormatter(lambda *_parts: f"D:{issued:%Y%m%d}000000+08'00'")

    def on_page_end(canvas: Canvas, template: BaseDocTemplate) -> None:
        # Drawn after the page's text, so that the text reads (and is extracted) in order.
        canvas.setFont(FONT, 10)
        canvas.drawCentredString(A4[0] / 2, 15 * mm, f"— {template.page} —")

    buffer = io.BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=A4,
        topMargin=30 * mm,
        bottomMargin=28 * mm,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        title=f"{document.title} {document.number}",
        author=department.name,
        subject=application.service.name,
        creator="一网通办",
        lang="zh-CN",
        invariant=True,
    )
    frame = Frame(template.leftMargin, template.bottomMargin, template.width, template.height, id="text")
    template.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page, onPageEnd=on_page_end)])
    template.build(story)
    return buffer.getvalue()
