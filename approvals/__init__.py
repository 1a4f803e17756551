"""统一申报 and 并联审批: applications, their routing across departments, the clerk's workbench, 一件事 bundles.

One Django app (its models, migrations, templates and url modules stay here) in parts that import one way
only, as the ``approvals-parts`` contract in ``.importlinter`` checks:

    tasks, apps, urls…   the Celery tasks (names ``approvals.tasks.*``), start-up wiring, the url modules
    bundles/  workbench/ 一件事 bundles; the clerk's queue, claims, decisions, supervisors' powers, the counter
    documents/           the written decisions (受理通知书 …) as PDF
    applications/        drafts, materials, submission, withdrawal, 补正, my applications, public tracking; the
                         applicant's one draft-form flow (draft_flow, over merged_form) that a bundle's pages use too
    routing/             the engine that moves applications through their workflow; the deadline sweeps
    journal, outbox, access, pages, prefill   what every part calls down into
    materials, uploads, forms_engine, workflow
    models

A part that must tell a higher one something declares a ``core.registry.Hooks`` that the higher part connects
to in ``apps.ready`` (routing's ``bundle_child_finished``, which bundles connect to).
"""
