from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionConfig(AppConfig):
    name = "interaction"
    verbose_name = _("Interaction")

    def ready(self) -> None:
        from core.notices import inbox
        from interaction.actions import notify

        # The apps below the inbox (accounts) tell users through the kernel.
        inbox.fill(notify)
