"""``python -m bench.scale``: Django with the settings of the environment (``portal.settings`` by default)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from bench.scale.command import main  # noqa: E402  # the models load once Django is set up

main()
