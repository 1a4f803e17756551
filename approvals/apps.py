from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Applications and approvals")

    def ready(self) -> None:
        from accounts.account_page import AccountSection, account_page_sections
        from accounts.actions import staff_left_hooks
        from approvals.applications.selectors import recent_for_owner
        from approvals.bundles.actions import child_finished
        from approvals.routing.engine import bundle_child_finished
        from approvals.workbench import actions as workbench_actions
        from interaction.events import Event, register

        # The account page (/me/) shows the owner's latest applications and drafts.
        account_page_sections.connect(
            lambda request, user: AccountSection("approvals/_recent.html", recent_for_owner(user))
        )

        # Someone who leaves a department no longer holds its tasks: they return to the queue at once.
        staff_left_hooks.connect(
            lambda user_id, department_id: workbench_actions.staff_left_department(
                user_id=user_id, department_id=department_id
            )
        )
        # A bundle is complete when its last child ends: routing (and a withdrawal) tell it through this hook.
        bundle_child_finished.connect(child_finished)
        register(
            "task_overdue",
            Event(
                subject=_("Overdue: %(task_name)s of application %(number)s"),
                body=_(
                    "The task %(task_name)s of application %(number)s (%(service_name)s) is past its due time. "
                    "Please see that it is decided or reassigned."
                ),
                link_key="url",
            ),
        )
        register(
            "task_due_soon",
            Event(
                subject=_("Due soon: %(task_name)s of application %(number)s"),
                body=_(
                    "The task %(task_name)s of application %(number)s (%(service_name)s) is due within one working day."
                ),
                link_key="url",
            ),
        )
        register(
            "application_extended",
            Event(
                subject=_("%(service_name)s: more time for application %(number)s"),
                body=_(
                    "The time limit of your application %(number)s (%(service_name)s) was extended by %(days)s "
                    "working days, to %(due_date)s. Reason: %(reason)s"
                ),
                link_key="url",
            ),
        )
        register(
            "bundle_completed",
            Event(
                subject=_("%(bundle_name)s: every application is decided"),
                body=_(
                    "Every application you made together in %(bundle_name)s has been decided. "
                    "The results of each and their progress are on one page."
                ),
                link_key="url",
            ),
        )
