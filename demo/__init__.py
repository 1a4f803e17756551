"""Demo data and its seeding: the catalogue, registries, accounts and calendar that ``make run`` loads.

``manage.py seed_demo`` loads them. Nothing at run time imports this app, so a
production installation may leave it out of ``INSTALLED_APPS`` (``DEMO_APP=false``).
"""
