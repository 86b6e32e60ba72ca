"""The OpenAPI schema as the contract (docs/api.md "Errors"): drf-spectacular's AutoSchema, told
what every endpoint shares, so that no view has to repeat it and a new one cannot forget it.

- **Error responses, with their bodies.** Every operation may answer 401 (no valid
  credentials), 403 (the default permission: a role in the hub; each endpoint narrows it) and
  429 (the rate limits, with `Retry-After`); one with a path parameter, or a page of a list, 404;
  one with a body or query parameters 400 with messages by field; one with a body 413 (too large)
  and 415 (not JSON), and 409 when it takes a version (`expected_version...`). A view's own
  description of a code is kept; the body is added.
- **Request bodies are closed** (`additionalProperties: false`) where the serializer refuses a
  field it does not know (`core.api.RefusesUnknownFields`), and what a service needs but its
  serializer lets through for the service to refuse in its own words (the serializer's
  `required_by_service`) is declared required and not empty.
- **Text says what it may hold** (`pattern`): free text no control characters but tab and
  line breaks (core.text), and text that may not be blank something but spaces, since it is
  trimmed before it is checked.
- **Only a list read is paged**: a write answering with a list (the information requests it
  made, say) answers with the list itself.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, get_doc
from rest_framework import serializers

from .api import RefusesUnknownFields
from .dates import EARLIEST, not_before_earliest
from .text import FreeTextSerializerField

UNSAFE = ("POST", "PUT", "PATCH")

# The bodies of the error responses, as components.
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "What went wrong, in words for a person.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "FieldErrors": {
        "type": "object",
        "description": (
            "Messages by field: `{field: [message]}`; those about no one field under "
            '`non_field_errors`; within a list, by position (`{"subjects": {"0": {field: '
            '[message]}}}`). A body that could not be read at all: `{"detail": message}`.'
        ),
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                {"type": "object"},
                {"type": "string"},
            ]
        },
    },
    "StaleWrite": {
        "type": "object",
        "description": (
            "It changed after you read it; nothing was saved. Read it again (its version is "
            "now `current_version`) and decide again."
        ),
        "properties": {
            "detail": {"type": "string"},
            "changes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What changed since, each in words.",
            },
            "current_version": {"type": "integer"},
            "current_person_version": {
                "type": "integer",
                "description": "A person's correction: their version now.",
            },
            "current_versions": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "A merge: the two people's versions now.",
            },
        },
        "required": ["detail", "changes"],
    },
    "IntakeKeyReused": {
        "type": "object",
        "description": "The `Idempotency-Key` was used for other details; nothing was saved.",
        "properties": {
            "detail": {"type": "string"},
            "references": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What the key logged the first time.",
            },
        },
        "required": ["detail", "references"],
    },
}

# Each code: its body's component, and what it means when the view says nothing of its own.
ERRORS: dict[str, tuple[str, str]] = {
    "400": ("FieldErrors", "The request needs correcting: messages by field."),
    "401": ("Error", "No valid credentials: sign in, or send `Authorization: Token <key>`."),
    "403": ("Error", "Your role (or agency) does not allow this."),
    "404": ("Error", "Nothing you may see is there (or no such page of the list)."),
    "409": ("StaleWrite", "It changed after you read it; nothing was saved."),
    "413": ("Error", "Too much to send at once; nothing was saved."),
    "415": ("Error", "The body is not JSON (`Content-Type: application/json`)."),
    "422": ("IntakeKeyReused", "The `Idempotency-Key` was used for other details."),
    "429": ("Error", "Too many calls: wait `Retry-After` seconds."),
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until calls are taken again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
VERSIONS = ("expected_version", "expected_versions", "expected_person_version")
# The control characters free text may not hold (core.text), as a regular expression's class.
CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"


def text_pattern(*, free: bool, not_blank: bool) -> str | None:
    """The pattern of a text field: free text holds no control characters but tab and line
    breaks (core.text), and text that may not be blank holds something but spaces (it is
    trimmed before it is checked)."""
    if free and not_blank:
        return f"^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$"
    if free:
        return f"^[^{CONTROL}]*$"
    return r"\S" if not_blank else None


class ContractSchema(AutoSchema):
    """The project's DEFAULT_SCHEMA_CLASS (settings REST_FRAMEWORK)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            self._add_errors(operation)
        return operation

    # Errors

    def _error_codes(self, operation: dict) -> set[str]:
        codes = {"401", "403", "429"}
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        has_body = "requestBody" in operation
        if has_body or query:
            codes.add("400")
        if "{" in self.path or "page" in query:
            codes.add("404")
        if has_body:
            codes |= {"413", "415"}
            if self._takes_a_version():
                codes.add("409")
        return codes

    def _takes_a_version(self) -> bool:
        request = force_instance(self.get_request_serializer())
        fields = getattr(request, "fields", {})
        return any(name in fields for name in VERSIONS)

    def _add_errors(self, operation: dict) -> None:
        responses = operation["responses"]
        for code in sorted(self._error_codes(operation) | set(responses)):
            if code not in ERRORS:
                continue
            component, meaning = ERRORS[code]
            response = responses.setdefault(code, {"description": meaning})
            if not response.get("description"):
                response["description"] = meaning
            response.setdefault(
                "content", {"application/json": {"schema": self._error_component(component)}}
            )
            if code == "429":
                response.setdefault("headers", {}).update(RETRY_AFTER)
        operation["responses"] = dict(sorted(responses.items()))

    def _error_component(self, name: str) -> dict:
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            schema=ERROR_SCHEMAS[name],
            object=f"core.schema.{name}",
        )
        self.registry.register_on_missing(component)
        return component.ref

    # Pages

    def _get_paginator(self):
        # A write that answers with a list answers with the list, not a page of it.
        return super()._get_paginator() if self.method == "GET" else None

    # Request bodies

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        serializer = force_instance(serializer)
        if direction == "request" and isinstance(serializer, RefusesUnknownFields):
            schema["additionalProperties"] = False
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if schema.get("description") == get_doc(RefusesUnknownFields):
            # The mixin's docstring, which spectacular takes for a serializer without its own.
            del schema["description"]
        if direction != "request":
            return schema
        serializer = force_instance(serializer)
        needed = getattr(serializer, "required_by_service", ())
        properties = schema.get("properties", {})
        for name, field in serializer.fields.items():
            if name not in properties:
                continue
            if name in needed:
                properties[name] = _needed(properties[name])
                schema.setdefault("required", [])
                if name not in schema["required"]:
                    schema["required"].append(name)
            _text(field, properties[name])
            _earliest(field, properties[name])
        return schema


def _needed(schema: dict) -> dict:
    """A field the service refuses empty: no default, no null, nothing blank."""
    schema = {key: value for key, value in schema.items() if key not in ("default", "nullable")}
    if "enum" in schema:
        # A choice that may be blank: not this one.
        schema["enum"] = [value for value in schema["enum"] if value not in ("", None)]
    elif schema.get("type") == "string" and "format" not in schema:
        schema["minLength"] = max(1, schema.get("minLength", 0))
    if schema.get("type") == "array":
        schema["minItems"] = max(1, schema.get("minItems", 0))
    return schema


def _text(field: serializers.Field, schema: dict) -> None:
    if not isinstance(field, serializers.CharField) or "pattern" in schema:
        return
    pattern = text_pattern(
        free=isinstance(field, FreeTextSerializerField),
        not_blank=field.trim_whitespace and schema.get("minLength", 0) >= 1,
    )
    if pattern:
        schema["pattern"] = pattern


def _earliest(field: serializers.Field, schema: dict) -> None:
    if not_before_earliest in getattr(field, "validators", ()):
        note = f"Not before {EARLIEST.isoformat()}."
        schema["description"] = (
            f"{schema['description']} {note}" if "description" in schema else note
        )
