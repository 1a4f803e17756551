"""Synthetic data at scale, for load tests and benchmarks: ``python -m bench.scale --items N --applications N``.

``--items N`` tops the catalogue up to N synthetic published items (``items``) after
seeding the demo catalogue. ``--applications N`` tops the approvals up to N synthetic
applications (办件, ``plans`` and ``writer``): each with its 办件编号 and query password,
its timeline (events) and its workflow tasks, over every applicable published item (so
every department), in the statuses a year of a province's work leaves (most completed;
some refused, not accepted or withdrawn; the rest open in a department's queue). They
are written with PostgreSQL's COPY, a batch per transaction, so an interrupted run keeps
what it wrote and the next run adds only what is missing.

The rows belong to services and approvals, but the writer lives here: nothing at run
time depends on it, and the catalogue app knows nothing of applications. bench/fixtures.py
uses the same writer for the benchmarks' own sets of applications.
"""
