"""The clerk's workbench (工作台): the queue of their departments, one task with its application, the counter.

Staff pages: a staff member with TOTP, scoped to the departments they work for
now (anyone else's task is a 404). Every change goes through one workbench action;
a DomainError comes back as a message on the task page with its status, and
nothing changed. Opening a task shows the applicant's personal data whole, so
each time it is shown an ``ApplicationView`` is kept. The registry checks a
clerk runs from a task read the base registries, each read logged with the
review's purpose for the task's department.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.decorators import staff_member_required_with_mfa
from approvals import forms_engine, outbox, timeline, workflow
from approvals.applications import actions, draft_flow, parties, rules, selectors
from approvals.documents import notices
from approvals.materials import material_states
from approvals.models import Application, WorkflowTask
from approvals.pages import file_response, user_of
from approvals.workbench import actions as workbench_actions
from approvals.workbench import queue
from core import crypto
from core.errors import Conflict, DomainError, NotFound
from datahub.identity import IdentityType
from datahub.models import LegalPersonStatus
from services.models import Department, ServiceItem

# The results a task may give, in words; the values are the national ones (同意, 补齐补正 …).
RESULT_LABELS = {
    workflow.ACCEPT: gettext_lazy("Accept (受理)"),
    workflow.NOT_ACCEPT: gettext_lazy("Do not accept (不予受理)"),
    workflow.SUPPLEMENT: gettext_lazy("Ask for more information (补齐补正)"),
    workflow.APPROVE: gettext_lazy("Approve (同意)"),
    workflow.REFUSE: gettext_lazy("Refuse (不同意)"),
    workflow.RETURN: gettext_lazy("Send back to the previous stage (退回)"),
}
# Where the message of an action's field error is shown on the page.
ERROR_TARGETS = {
    "result": "result",
    "opinion": "opinion",
    "note": "opinion",
    "fields": "supplement_fields",
    "materials": "supplement_materials",
    "assignee": "assignee",
    "days": "days",
    "reason": "reason",
}


def _queue_url(url: str = "", /, **params: str) -> str:
    """The queue's URL with these filters; ``url`` is the queue's own when already reversed (once a page)."""
    url = url or reverse("workbench:queue")
    return f"{url}?{urlencode(params)}" if params else url


def _task_url(task_id: int) -> str:
    return reverse("workbench:task", kwargs={"task_id": task_id})


# --- the queue ---------------------------------------------------------------------


@never_cache
@staff_member_required_with_mfa
@require_GET
def queue_list(request: HttpRequest) -> HttpResponse:
    """The open tasks of the clerk's departments by due time, with 黄灯/红灯, filters, counts and key paging."""
    user = user_of(request)
    departments = queue.staff_department_list(user)
    department_ids = [department.pk for department in departments]
    filters, errors = queue.parse_filters(request.GET, departments)
    limits = queue.deadlines()
    tasks = queue.queue_tasks(user, filters, limits, department_ids=department_ids)
    after = queue.Cursor.decode(request.GET.get("after", ""))
    before = queue.Cursor.decode(request.GET.get("before", "")) if after is None else None
    page = queue.queue_page(tasks, limits, after=after, before=before)
    counts, items = queue.queue_summary(user, filters, limits, department_ids=department_ids)
    params = filters.as_params()
    other_params = {key: text for key, text in params.items() if key != "status"}
    queue_url = reverse("workbench:queue")
    status_links = [
        {
            "value": value,
            "label": label,
            "count": counts[value],
            "url": _queue_url(queue_url, **other_params, **({"status": value} if value != queue.ALL_OPEN else {})),
            "is_current": value == filters.status,
        }
        for value, label in queue.STATUS_CHOICES
    ]
    if filters.item and filters.item not in {code for code, _name in items}:
        items.append((filters.item, filters.item))
    context = {
        "departments": departments,
        "items": items,
        "filters": filters,
        "errors": errors,
        "status_choices": queue.STATUS_CHOICES,
        "due_choices": queue.DUE_CHOICES,
        "status_links": status_links,
        "page": page,
        "is_filtered": bool(params),
        "next_url": _queue_url(queue_url, **params, after=page.next_cursor) if page.next_cursor else "",
        "previous_url": _queue_url(queue_url, **params, before=page.previous_cursor) if page.previous_cursor else "",
        # Asked only when the page is empty: just after a decision, the next stage may still be on its way.
        "awaiting_routing": 0 if page.rows else outbox.awaiting_routing_count(department_ids),
    }
    return render(request, "workbench/queue.html", context, status=400 if errors else 200)


@never_cache
@staff_member_required_with_mfa
@require_GET
def done_list(request: HttpRequest) -> HttpResponse:
    """已办: the tasks the clerk's departments decided (or the clerk alone), newest first, in pages."""
    user = user_of(request)
    department_ids = account_selectors.staff_departments(user)
    who, errors = queue.parse_done_filter(request.GET)
    after = queue.Cursor.decode(request.GET.get("after", ""))
    page = queue.done_page(queue.done_tasks(user, department_ids=department_ids, who=who), after=after)
    done_url = reverse("workbench:done")
    params = {"who": who} if who else {}
    context = {
        "rows": [(task, RESULT_LABELS.get(task.result, task.result)) for task in page.tasks],
        "errors": errors,
        "who": who,
        "who_links": [
            {
                "label": label,
                "url": _queue_url(done_url, **({"who": value} if value else {})),
                "is_current": value == who,
            }
            for value, label in queue.DONE_CHOICES
        ],
        "next_url": _queue_url(done_url, **params, after=page.next_cursor) if page.next_cursor else "",
        "first_url": _queue_url(done_url, **params) if after is not None else "",
    }
    return render(request, "workbench/done.html", context, status=400 if errors else 200)


# --- one task ------------------------------------------------------------------------


def _identity_number(application: Application) -> str:
    if not application.applicant_id_encrypted:
        return application.applicant_id_masked
    return crypto.decrypt(application.applicant_id_encrypted)


def _task_page(
    request: HttpRequest,
    task: WorkflowTask,
    *,
    problem: str = "",
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    registry_check: dict[str, Any] | None = None,
) -> HttpResponse:
    """The task page; it shows the applicant's personal data whole, so the view is kept each time.

    ``registry_check`` is what a registry check just run answered, shown once on this page.
    """
    user = user_of(request)
    application = task.application
    actions.application_view_record(application=application, viewer=user, department_id=task.department_id)
    item = application.service
    # Reassigning is for the task's department's supervisors; extending, for the application's department's.
    is_supervisor_here = queue.is_supervisor(user, task.department_id)
    is_application_supervisor = (
        is_supervisor_here
        if application.department_id == task.department_id
        else queue.is_supervisor(user, application.department_id)
    )
    field_errors: dict[str, list[str]] = {}
    for key, texts in (errors or {}).items():
        field_errors.setdefault(ERROR_TARGETS.get(key, key), []).extend(texts)
    is_mine = queue.is_held_by(task, user)
    posted = request.POST if request.method == "POST" else None
    supplement_fields = [
        field for step in forms_engine.form_steps(item.form_schema, item.form_ui) for field in step.fields
    ]
    events = selectors.timeline(application)
    context = {
        "task": task,
        "application": application,
        "item": item,
        "identity_type": IdentityType(application.applicant_id_type).label if application.applicant_id_type else "",
        "identity_number": _identity_number(application),
        "answers": draft_flow.application_answers(application),
        "parties": [(parties.role_label(party.role), party) for party in parties.parties_of(application)],
        "materials": material_states(application),
        "events": events,
        "timeline": timeline.entries(events),
        # The reasons of these results are the applicant's to read: the timeline shows them, the tasks' table not.
        "opinions_in_timeline": sorted(workflow.NEEDS_OPINION),
        # Any department with a task on the application may download its documents (documents.application_for_staff).
        "documents": notices.documents_of(application, events),
        "can_verify_applicant": task.is_open and queue.has_applicant_identity(application),
        "can_lookup_enterprise": task.is_open and application.acting_for is not None,
        "registry_purpose": queue.review_purpose(application),
        "registry_check": registry_check,
        "tasks": queue.application_tasks(application),
        "mark": queue.deadlines().mark(task.due_at) if task.is_open else "",
        "is_mine": is_mine,
        "can_claim": task.status == WorkflowTask.Status.PENDING,
        "results": [(result, RESULT_LABELS.get(result, result)) for result in task.allowed_results],
        "needs_opinion": [
            RESULT_LABELS.get(result, result) for result in task.allowed_results if result in workflow.NEEDS_OPINION
        ],
        "can_supplement": workflow.SUPPLEMENT in task.allowed_results,
        "supplement_fields": supplement_fields,
        "can_reassign": is_supervisor_here and task.is_open,
        "members": queue.department_staff(task.department_id) if is_supervisor_here and task.is_open else [],
        "can_extend": is_application_supervisor
        and workbench_actions.may_be_extended(application)
        and application.extended_days < workbench_actions.MAX_EXTENSION_DAYS,
        "extension_days_left": workbench_actions.MAX_EXTENSION_DAYS - application.extended_days,
        "can_suspend": is_application_supervisor and workbench_actions.may_be_suspended(application),
        "can_resume": is_application_supervisor and workbench_actions.may_be_resumed(application),
        "procedures": list(workbench_actions.SPECIAL_PROCEDURES.items()),
        "posted": {
            "result": posted.get("result", "") if posted else "",
            "opinion": posted.get("opinion", "") if posted else "",
            "supplement_fields": posted.getlist("supplement_fields") if posted else [],
            "supplement_materials": posted.getlist("supplement_materials") if posted else [],
            "days": posted.get("days", "") if posted else "",
            "reason": posted.get("reason", "") if posted else "",
        },
        "problem": problem,
        "errors": field_errors,
    }
    return render(request, "workbench/task.html", context, status=status)


def _refused(request: HttpRequest, task_id: int, error: DomainError) -> HttpResponse:
    """The task page again, as it is now, with what was wrong (nothing was changed)."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    return _task_page(request, task, problem=str(error.message), errors=error.fields, status=error.status)


@never_cache
@staff_member_required_with_mfa
@require_GET
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """One task of the clerk's department and its application: answers, materials, timeline, what can be done."""
    return _task_page(request, queue.task_for_staff(request.user, task_id=task_id))


@never_cache
@staff_member_required_with_mfa
@require_POST
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    """Take a waiting task; when someone else was quicker, back to the queue with a message."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    if queue.is_held_by(task, request.user):
        messages.info(request, _("You already hold this task."))
        return HttpResponseRedirect(_task_url(task.pk))
    try:
        workbench_actions.task_claim(task_id=task.pk, clerk=user_of(request))
    except Conflict as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(_queue_url())
    messages.success(request, _("You hold this task now."))
    return HttpResponseRedirect(_task_url(task.pk))


@never_cache
@staff_member_required_with_mfa
@require_POST
def task_verify_applicant(request: HttpRequest, task_id: int) -> HttpResponse:
    """核验申请人身份: the population registry says whether it knows the applicant so (the read is logged)."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    try:
        is_match = queue.applicant_verify(user_of(request), task)
    except DomainError as error:
        return _refused(request, task.pk, error)
    return _task_page(request, task, registry_check={"kind": "person", "is_match": is_match})


@never_cache
@staff_member_required_with_mfa
@require_POST
def task_lookup_enterprise(request: HttpRequest, task_id: int) -> HttpResponse:
    """查询法人登记信息: the legal person registry's record of the enterprise applied for (the read is logged)."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    try:
        record = queue.enterprise_lookup(user_of(request), task)
    except DomainError as error:
        return _refused(request, task.pk, error)
    status_label = (
        LegalPersonStatus(record.status).label if record and record.status in LegalPersonStatus.values else ""
    )
    return _task_page(
        request, task, registry_check={"kind": "legal_person", "record": record, "status_label": status_label}
    )


@never_cache
@staff_member_required_with_mfa
@require_POST
def task_release(request: HttpRequest, task_id: int) -> HttpResponse:
    """Put one's task back in the queue."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    try:
        workbench_actions.task_release(task_id=task.pk, clerk=user_of(request))
    except DomainError as error:
        return _refused(request, task.pk, error)
    messages.success(request, _("The task is back in the queue."))
    return HttpResponseRedirect(_queue_url())


@never_cache
@staff_member_required_with_mfa
@require_POST
def task_decide(request: HttpRequest, task_id: int) -> HttpResponse:
    """Give one's task its result; routing moves the application on after the commit."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    result = request.POST.get("result", "")
    try:
        if not result:
            raise DomainError(
                _("Choose a result."), code="validation_error", fields={"result": [_("Choose a result.")]}
            )
        workbench_actions.task_decide(
            task_id=task.pk,
            clerk=user_of(request),
            result=result,
            opinion=request.POST.get("opinion", "")[:4000],
            supplement_fields=request.POST.getlist("supplement_fields"),
            supplement_materials=request.POST.getlist("supplement_materials"),
        )
    except DomainError as error:
        return _refused(request, task.pk, error)
    messages.success(
        request,
        _("%(task)s of application %(number)s: %(result)s. Recorded.")
        % {"task": task.name, "number": task.application.number, "result": RESULT_LABELS.get(result, result)},
    )
    return HttpResponseRedirect(_queue_url())


@never_cache
@staff_member_required_with_mfa
@require_POST
def task_reassign(request: HttpRequest, task_id: int) -> HttpResponse:
    """A supervisor gives the task to a member of the department, or back to the queue."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    raw = request.POST.get("assignee", "").strip()
    try:
        if raw and not raw.isdigit():
            raise DomainError(
                _("Give the task to a member of the department."),
                code="validation_error",
                fields={"assignee": [_("Not a member of this department.")]},
            )
        workbench_actions.task_reassign(
            task_id=task.pk, supervisor=user_of(request), to_user_id=int(raw) if raw else None
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return _refused(request, task.pk, error)
    messages.success(request, _("The task was reassigned.") if raw else _("The task is back in the queue."))
    return HttpResponseRedirect(_task_url(task.pk))


@never_cache
@staff_member_required_with_mfa
@require_POST
def application_extend(request: HttpRequest, task_id: int) -> HttpResponse:
    """延长审批: a supervisor gives the application more working days, with the reason the applicant is told."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    raw_days = request.POST.get("days", "").strip()
    try:
        if not raw_days.isdigit() or len(raw_days) > 3:
            raise DomainError(
                _("The extension cannot be granted as asked."),
                code="validation_error",
                fields={"days": [_("Enter a whole number of working days.")]},
            )
        application = workbench_actions.application_extend(
            application_id=task.application_id,
            supervisor=user_of(request),
            days=int(raw_days),
            reason=request.POST.get("reason", "")[:500],
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return _refused(request, task.pk, error)
    assert application.due_date is not None
    messages.success(
        request,
        _("The time limit was extended to %(date)s. The applicant is told.")
        % {"date": application.due_date.isoformat()},
    )
    return HttpResponseRedirect(_task_url(task.pk))


@never_cache
@staff_member_required_with_mfa
@require_POST
def application_suspend(request: HttpRequest, task_id: int) -> HttpResponse:
    """特别程序: a supervisor stops the clock for a hearing, testing or an appraisal, saying why."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    try:
        workbench_actions.application_suspend(
            application_id=task.application_id,
            supervisor=user_of(request),
            procedure=request.POST.get("procedure", ""),
            reason=request.POST.get("reason", "")[:500],
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return _refused(request, task.pk, error)
    messages.success(request, _("The special procedure started: the time limit stops. The applicant sees why."))
    return HttpResponseRedirect(_task_url(task.pk))


@never_cache
@staff_member_required_with_mfa
@require_POST
def application_resume(request: HttpRequest, task_id: int) -> HttpResponse:
    """The special procedure ended: the clock runs again."""
    task = queue.task_for_staff(request.user, task_id=task_id)
    try:
        application = workbench_actions.application_resume(
            application_id=task.application_id, supervisor=user_of(request)
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return _refused(request, task.pk, error)
    messages.success(
        request,
        _("The time limit runs again; the application is now due on %(date)s.")
        % {"date": application.due_date.isoformat() if application.due_date else "—"},
    )
    return HttpResponseRedirect(_task_url(task.pk))


# --- files and the counter -------------------------------------------------------


@never_cache
@staff_member_required_with_mfa
@require_http_methods(["GET"])
def staff_attachment_download(request: HttpRequest, public_id: str) -> FileResponse:
    """A file of an application one of the clerk's departments handles; every view is kept."""
    attachment = selectors.attachment_for_staff(request.user, public_id=public_id)
    actions.attachment_view_record(attachment=attachment, viewer=user_of(request))
    return file_response(attachment.storage_key, attachment.content_type, attachment.original_name)


class CounterForm(forms.Form):
    department = forms.TypedChoiceField(label=gettext_lazy("Department"), coerce=int)
    service = forms.ChoiceField(label=gettext_lazy("Service"))
    name = forms.CharField(label=gettext_lazy("Applicant's name"), max_length=60)
    id_type = forms.ChoiceField(label=gettext_lazy("Identity document"), choices=IdentityType.choices)
    id_number = forms.CharField(label=gettext_lazy("Document number"), max_length=40)
    document_seen = forms.BooleanField(
        label=gettext_lazy("I have checked the original document and that it shows the person in front of me.")
    )


@never_cache
@staff_member_required_with_mfa
@require_http_methods(["GET", "POST"])
def counter_start(request: HttpRequest) -> HttpResponse:
    """A clerk records an application for a person at the counter, then fills the form with them."""
    user = user_of(request)
    departments = list(Department.objects.filter(pk__in=account_selectors.staff_departments(user)).order_by("name"))
    items = rules.online_only(
        ServiceItem.objects.published().filter(department__in=departments, for_persons=True)
    ).order_by("name")
    form = CounterForm(request.POST or None)
    form.fields["department"].choices = [(department.pk, department.name) for department in departments]  # type: ignore[attr-defined]
    form.fields["service"].choices = [(item.implementation_code, item.name) for item in items]  # type: ignore[attr-defined]
    problem = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                application = actions.application_counter_start(
                    clerk=user,
                    department_id=form.cleaned_data["department"],
                    service_code=form.cleaned_data["service"],
                    name=form.cleaned_data["name"],
                    id_type=form.cleaned_data["id_type"],
                    id_number=form.cleaned_data["id_number"],
                )
            except DomainError as error:
                if isinstance(error, NotFound):
                    raise
                problem = str(error.message)
                for field, texts in (error.fields or {}).items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                return HttpResponseRedirect(
                    reverse("approvals:draft_step", kwargs={"public_id": application.public_id, "step": 1})
                )
        status = 400
    return render(request, "approvals/counter_start.html", {"form": form, "problem": problem}, status=status)


@never_cache
@staff_member_required_with_mfa
@require_http_methods(["GET"])
def counter_receipt(request: HttpRequest, public_id: str) -> HttpResponse:
    """The receipt the clerk prints for the person: number, query password, where to follow it."""
    application = selectors.counter_application_for_clerk(request.user, public_id=public_id)
    context = {
        "application": application,
        "item": application.service,
        "query_password": selectors.query_password(application),
        "track_url": request.build_absolute_uri(reverse("approvals:track")),
    }
    return render(request, "approvals/counter_receipt.html", context)
