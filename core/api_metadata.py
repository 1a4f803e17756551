"""The API's answer to OPTIONS (DRF's DEFAULT_METADATA_CLASS).

Its own module: ``rest_framework.views`` reads ``DEFAULT_METADATA_CLASS`` when it
is imported, so this class must not live in a module that imports it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request


class ApiMetadata(SimpleMetadata):
    """OPTIONS: describes the request body of views that declare a serializer, and leaves out the others' fields.

    DRF's own asks every generic view for its serializer, and a view that takes no body has none.
    """

    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        if getattr(view, "serializer_class", None) is None:
            return {}
        return dict(super().determine_actions(request, view))
