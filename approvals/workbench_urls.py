"""The clerk's workbench pages, under /workbench/ (the counter and staff file pages are in approvals.urls)."""

from django.urls import path

from approvals.workbench import views as workbench_views

app_name = "workbench"

urlpatterns = [
    path("", workbench_views.queue_list, name="queue"),
    path("done/", workbench_views.done_list, name="done"),
    path("tasks/<int:task_id>/", workbench_views.task_detail, name="task"),
    path("tasks/<int:task_id>/claim/", workbench_views.task_claim, name="claim"),
    path("tasks/<int:task_id>/release/", workbench_views.task_release, name="release"),
    path("tasks/<int:task_id>/decide/", workbench_views.task_decide, name="decide"),
    path("tasks/<int:task_id>/reassign/", workbench_views.task_reassign, name="reassign"),
    path("tasks/<int:task_id>/extend/", workbench_views.application_extend, name="extend"),
    path("tasks/<int:task_id>/suspend/", workbench_views.application_suspend, name="suspend"),
    path("tasks/<int:task_id>/resume/", workbench_views.application_resume, name="resume"),
    path("tasks/<int:task_id>/checks/applicant/", workbench_views.task_verify_applicant, name="verify_applicant"),
    path("tasks/<int:task_id>/checks/enterprise/", workbench_views.task_lookup_enterprise, name="lookup_enterprise"),
]
