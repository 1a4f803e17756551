"""The OpenAPI schema's answers that every /api/v1/ operation may give (a drf-spectacular postprocessing hook).

Any endpoint can refuse a request before its own code runs: input it cannot read
(400), a body too large (413) or of another type (415), a caller over the rate
limit (429), a missing or ended session (401, 403), an object the caller may not
see (404), a method it does not take (405), a state that forbids the change
(409). Each answers with the API's one error body; the schema says so for every
operation, next to what the operation declares itself.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"  # the name drf-spectacular gives core.api.ErrorSerializer, the same body
ERROR_SCHEMA = {
    "type": "object",
    "description": "The error body of every /api/v1/ endpoint.",
    "properties": {
        "code": {"type": "string", "description": "A stable code, e.g. `invalid`, `not_found`, `throttled`."},
        "message": {"type": "string", "description": "What went wrong, in the language asked for."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Each input that is not valid, with its problems.",
        },
    },
    "required": ["code", "message", "fields"],
}
COMMON_ERRORS = {
    "400": "The request could not be read, or a value is not valid (`fields` names it)",
    "401": "The session token is not valid or its session has ended",
    "403": "Not signed in, or not allowed",
    "404": "Nothing of this kind that the caller may see",
    "405": "The endpoint does not take this method",
    "409": "The object's state does not allow this now",
    "413": "The request body is larger than allowed",
    "415": "The request body is not of a type the endpoint takes",
    "429": "Too many requests: wait for the `Retry-After` header's seconds",
}
_METHODS = {"get", "put", "post", "patch", "delete", "options", "head"}


def declare_common_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Add the common error answers to every operation under /api/v1/ that does not declare them already."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result
