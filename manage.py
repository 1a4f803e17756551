#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Loaded here, not inside Django's command runner: it sets a settings error aside and then fails on
        # something else ("Models aren't loaded yet"), hiding which variable is missing.
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as error:
        # A deployment's mistake, said plainly: the settings name the variable and what it needs.
        sys.stderr.write(f"Configuration error: {error}\n")
        sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
