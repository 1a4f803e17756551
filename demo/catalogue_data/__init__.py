"""The demo catalogue: a realistic slice of Zhejiang's 权力清单 for the demo and the tests.

Plain data in Chinese (it is content, not interface text), loaded by
``demo.catalogue.seed_catalogue``. The modules are read in this order:
``regions`` → ``departments`` → ``themes`` → ``items`` → ``bundles`` → ``synonyms``;
``parts`` and ``fields`` hold the building blocks the items are written with.
"""
