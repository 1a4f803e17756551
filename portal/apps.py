from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_session_renewed_at_login, dispatch_uid="portal.session_renewed_at_login")


def _session_renewed_at_login(request: Any = None, **_kwargs: Any) -> None:
    from portal.middleware import note_session_renewed

    session = getattr(request, "session", None)
    if session is not None:
        note_session_renewed(session)  # the login saves it: the next request need not
