"""Import and export of the catalogue: regions, departments, themes, items, bundles, synonyms.

Two formats. JSON holds the whole catalogue in one document; CSV holds service
items only, one row per version, with list and object values as JSON text in
their cells and the department named by its credit code.

An import checks every row before it writes anything: one rejected row and
nothing is written. Imported items are approved by the import itself (a
platform admin runs it): a new entry becomes version 1, a changed entry a new
version that retires the one before, published by ``services.actions.version_publish``
as every version is; a published version is never modified in place.
"""
