"""The one form of drafts filled in together (a 一件事 bundle's children), merged from their items' forms.

One draft is a bundle of one: its form is its item's form. The materials of several drafts are
``approvals.materials.material_states_of``.

The bundle's form is the union of the children's forms: steps merged by title in
the order first seen, a field that several items ask for (the same code) shown once.
An answer is checked against the schema of every child that has the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from approvals import forms_engine
from approvals.applications import submission
from approvals.models import Application
from core.errors import DomainError
from services.models import ServiceItem

Errors = dict[str, list[str]]

EMPTY: tuple[Any, ...] = (None, "", [])


def form_properties(item: ServiceItem) -> set[str]:
    return set((item.form_schema.get("properties") or {}).keys())


def file_field_codes(item: ServiceItem) -> set[str]:
    return {code for code, ui in (item.form_ui.get("fields") or {}).items() if (ui or {}).get("widget") == "file"}


def form_steps(items: Iterable[ServiceItem]) -> list[forms_engine.Step]:
    """The one form of a bundle: each item's steps merged by title (first seen first), each field code once.

    A field that one item makes optional and another requires is shown as required.
    One item's form is its own steps, as they are.
    """
    every = list(items)
    if len(every) == 1:
        return forms_engine.form_steps(every[0].form_schema, every[0].form_ui)
    titles: list[str] = []
    fields_by_title: dict[str, dict[str, forms_engine.FieldSpec]] = {}
    placed: dict[str, str] = {}  # field code → the title of the step that shows it
    for item in every:
        for step in forms_engine.form_steps(item.form_schema, item.form_ui):
            if step.title not in fields_by_title:
                titles.append(step.title)
                fields_by_title[step.title] = {}
            for field in step.fields:
                if field.code in placed:
                    shown = fields_by_title[placed[field.code]]
                    if field.is_required and not shown[field.code].is_required:
                        shown[field.code] = dataclasses.replace(shown[field.code], is_required=True)
                    continue
                placed[field.code] = step.title
                fields_by_title[step.title][field.code] = field
    steps: list[forms_engine.Step] = []
    for title in titles:
        if fields_by_title[title]:
            steps.append(
                forms_engine.Step(index=len(steps), title=title, fields=tuple(fields_by_title[title].values()))
            )
    return steps


def first_of_each(mappings: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One mapping of every key of these, each with the value of the first mapping that has it."""
    merged: dict[str, Any] = {}
    for mapping in mappings:
        for key, value in mapping.items():
            merged.setdefault(key, value)
    return merged


def merged_data(children: Iterable[Application]) -> dict[str, Any]:
    """The answers of the children as the one form shows them (the first child's value of a shared field)."""
    return first_of_each(child.data for child in children)


def merged_prefilled(children: Iterable[Application]) -> dict[str, str]:
    """Where each prefilled answer came from (the first child's source of a shared field)."""
    return first_of_each(child.prefilled for child in children)


def require_known_fields(drafts: Iterable[Application], data: dict[str, Any]) -> None:
    """Refuse answers to fields that none of these drafts' forms has."""
    known = set().union(*(form_properties(draft.service) for draft in drafts))
    unknown = sorted(set(data) - known)
    if unknown:
        raise DomainError(
            _("The form has no such fields."),
            code="validation_error",
            fields={code: [_("This form has no such field.")] for code in unknown},
        )


def _add_errors(errors: Errors, found: Errors) -> None:
    for key, messages in found.items():
        known = errors.setdefault(key, [])
        known.extend(message for message in messages if message not in known)


def validate_answers(children: Iterable[Application], changes: dict[str, Any], *, only: Iterable[str]) -> Errors:
    """What is wrong with these answers, checked against the schema of each child that has the field.

    ``changes`` maps field codes to new values (an empty value clears the field);
    each child is checked with its own answers and these changes, for the codes in
    ``only`` that its form has. Errors keep the field codes: they are shared.
    """
    wanted = set(only)
    errors: Errors = {}
    for child in children:
        item = child.service
        properties = form_properties(item)
        codes = wanted & properties
        if not codes:
            continue
        answer = dict(child.data)
        for code, value in changes.items():
            if code not in properties:
                continue
            if value in EMPTY:
                answer.pop(code, None)
            else:
                answer[code] = value
        _add_errors(errors, forms_engine.validate(item.form_schema, item.form_ui, answer, only=codes))
    return errors


def submission_problems(children: Iterable[Application]) -> Errors:
    """Everything that stops any child draft from being submitted (answers by field code, ``material.<code>``)."""
    problems: Errors = {}
    for child in children:
        if child.status == Application.Status.DRAFT:
            _add_errors(problems, submission.submission_problems(child))
    return problems
