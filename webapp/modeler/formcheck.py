"""The form editor's server side: JSON Schema meta-validation and a rendered preview."""

from __future__ import annotations

from jsonschema.validators import validator_for

from ..inbox.forms import build_fields


def schema_errors(schema, ui) -> list[dict]:
    """Per-field problems of a form's JSON Schema and UI schema (empty: both fine).

    Each is ``{"field": name or "", "path": "properties/x/type", "message": ...}``.
    """
    errors = []
    if not isinstance(schema, dict):
        return [{"field": "", "path": "", "message": "the schema must be a JSON object"}]
    meta = validator_for(schema)
    for error in sorted(meta(meta.META_SCHEMA).iter_errors(schema), key=lambda e: list(map(str, e.path))):
        path = [str(p) for p in error.path]
        field = path[1] if len(path) > 1 and path[0] == "properties" else ""
        errors.append({"field": field, "path": "/".join(path), "message": error.message})
    if ui is not None and not isinstance(ui, dict):
        errors.append({"field": "", "path": "ui", "message": "the UI schema must be a JSON object"})
    elif ui:
        known = set((schema.get("properties") or {}) if isinstance(schema.get("properties"), dict) else ())
        order = ui.get("ui:order", [])
        for name in order if isinstance(order, list) else []:
            if name not in known and name != "*":
                errors.append({"field": str(name), "path": "ui/ui:order",
                               "message": f"ui:order names '{name}', which the schema does not define"})
    return errors


def preview_fields(schema, ui):
    """The fields the inbox would show for this form (``[]`` when it cannot be built)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties", {}), dict):
        return []
    return build_fields(schema, ui if isinstance(ui, dict) else None)
