from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the ``seed_demo`` command; no models."""

    name = "demo"

    def ready(self) -> None:
        from accounts.account_page import verify_page_sections
        from demo.verify_hint import verify_page_hint

        verify_page_sections.connect(verify_page_hint)
