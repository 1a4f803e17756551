from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionConfig(AppConfig):
    name = "interaction"
    verbose_name = _("Interaction")

    def ready(self) -> None:
        from accounts.account_page import account_page_sections
        from core.notices import inbox
        from interaction.actions import notify
        from interaction.views import account_page_section

        # The apps below the inbox (accounts) tell users through the kernel.
        inbox.fill(notify)
        # The account page (accounts, below) links to the inbox with the unread count.
        account_page_sections.connect(account_page_section)
