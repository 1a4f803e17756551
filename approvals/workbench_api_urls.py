from django.urls import path

from approvals.workbench import api as workbench_api
from approvals.workbench import counter_api

urlpatterns = [
    path("workbench/tasks/", workbench_api.TaskList.as_view(), name="api-workbench-tasks"),
    path("workbench/tasks/<int:task_id>/claim/", workbench_api.TaskClaim.as_view(), name="api-workbench-task-claim"),
    path(
        "workbench/tasks/<int:task_id>/release/",
        workbench_api.TaskRelease.as_view(),
        name="api-workbench-task-release",
    ),
    path("workbench/tasks/<int:task_id>/decide/", workbench_api.TaskDecide.as_view(), name="api-workbench-task-decide"),
    path(
        "workbench/tasks/<int:task_id>/reassign/",
        workbench_api.TaskReassign.as_view(),
        name="api-workbench-task-reassign",
    ),
    path("workbench/counter/", counter_api.CounterStart.as_view(), name="api-workbench-counter"),
    path(
        "workbench/counter/<uuid:application_id>/receipt/",
        counter_api.CounterReceipt.as_view(),
        name="api-workbench-counter-receipt",
    ),
]
