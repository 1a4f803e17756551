from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Applications and approvals")

    def ready(self) -> None:
        from accounts.account_page import AccountSection, account_page_sections
        from accounts.actions import staff_left_hooks
        from approvals.applications.parties import pending_for
        from approvals.applications.selectors import recent_for_owner
        from approvals.bundles.actions import child_finished
        from approvals.routing.engine import bundle_child_finished
        from approvals.workbench import actions as workbench_actions
        from interaction.events import Event, register

        # The account page (/me/) shows the owner's latest applications and drafts.
        account_page_sections.connect(
            lambda request, user: AccountSection("approvals/_recent.html", recent_for_owner(user))
        )

        # The account page also lists what others applied for together with the owner (待我确认).
        account_page_sections.connect(
            lambda request, user: AccountSection("approvals/_confirmations.html", {"waiting": pending_for(user)[:5]})
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
            "party_confirmation_requested",
            Event(
                subject=_("%(applicant_name)s named you in an application for %(service_name)s"),
                body=_(
                    "%(applicant_name)s applied for %(service_name)s (%(number)s) together with you. "
                    "Nothing goes ahead until you confirm; you may also decline. Both are on the page of "
                    "applications waiting for your confirmation."
                ),
                link_key="url",
            ),
        )
        register(
            "party_confirmed",
            Event(
                subject=_("%(service_name)s: %(party_name)s confirmed (application %(number)s)"),
                body=_(
                    "%(party_name)s confirmed your application for %(service_name)s (%(number)s) and the registry "
                    "checks passed. Go to the registry office together; the registrar decides there."
                ),
                link_key="url",
            ),
        )
        register(
            "party_declined",
            Event(
                subject=_("%(service_name)s: %(party_name)s declined (application %(number)s)"),
                body=_("%(party_name)s declined your application for %(service_name)s (%(number)s); it has ended."),
                link_key="url",
            ),
        )
        register(
            "party_check_failed",
            Event(
                subject=_("%(service_name)s: application %(number)s cannot go ahead"),
                body=_(
                    "The application for %(service_name)s (%(number)s) was not accepted after the checks "
                    "against the population registry: %(reason)s"
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
