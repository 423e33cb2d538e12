"""Check a VK answer against VK's JSON Schema 5.199 (the shared specs, `specs/vk/`).

VK marks mandatory fields with `"required": true` inside the property, which stock validators
ignore; `mismatches` walks `$ref`, `allOf`, objects and arrays and reports every required field
that is missing, every value whose JSON type differs from the schema's and every value
outside the schema's `enum`.

The definitions used are condensed into `vk_shapes.json` beside this file (the closure of the
roots below, descriptions dropped), rebuilt from a checkout of the schema with
`python -m tests.sandbox.vk.vk_schema <dir with objects.json and responses.json>`.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

SHAPES = Path(__file__).with_name("vk_shapes.json")
ROOTS = (
    "responses.json#/definitions/messages_send_deprecated_response",
    "responses.json#/definitions/messages_send_user_ids_response",
    "responses.json#/definitions/users_get_response",
    "responses.json#/definitions/groups_getLongPollServer_response",
    "responses.json#/definitions/groups_getCallbackConfirmationCode_response",
    "responses.json#/definitions/photos_getMessagesUploadServer_response",
    "responses.json#/definitions/photos_saveMessagesPhoto_response",
    "responses.json#/definitions/docs_getUploadServer_response",
    "responses.json#/definitions/docs_save_response",
    "responses.json#/definitions/groups_addCallbackServer_response",
    "responses.json#/definitions/groups_getCallbackServers_response",
    "responses.json#/definitions/base_ok_response",
    "responses.json#/definitions/groups_getTokenPermissions_response",
    "responses.json#/definitions/groups_getLongPollSettings_response",
    "responses.json#/definitions/groups_getCallbackSettings_response",
    "responses.json#/definitions/groups_getById_object_response",
    "objects.json#/definitions/callback_base",
    "objects.json#/definitions/callback_message_object",
    "objects.json#/definitions/callback_message_allow",
    "objects.json#/definitions/callback_message_deny",
)
KEPT = ("$ref", "allOf", "type", "enum", "properties", "items", "required")
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


@cache
def _shapes() -> dict[str, Any]:
    return dict(json.loads(SHAPES.read_text(encoding="utf-8")))


def response_schema(name: str) -> dict[str, Any]:
    """The schema of `response` inside a responses.json entry (e.g. users_get_response)."""
    entry = _shapes()[f"responses.json#/definitions/{name}"]
    return dict(entry["properties"]["response"])


def object_schema(name: str) -> dict[str, Any]:
    return {"$ref": f"objects.json#/definitions/{name}"}


def mismatches(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every required field missing from `value`, every value of the wrong JSON type or
    outside its enum."""
    if "$ref" in schema:
        return mismatches(value, _shapes()[schema["$ref"]], path)
    found: list[str] = []
    for part in schema.get("allOf", []):
        found += mismatches(value, part, path)
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds:
        allowed = tuple(t for k in kinds for t in JSON_TYPES.get(k, (object,)))
        bool_for_number = isinstance(value, bool) and "boolean" not in kinds
        if not isinstance(value, allowed) or bool_for_number:
            return [*found, f"{path}: {type(value).__name__} where the schema has {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, dict):
        for name, rule in schema.get("properties", {}).items():
            if name in value:
                found += mismatches(value[name], rule, f"{path}.{name}")
            elif rule.get("required") is True:
                found.append(f"{path}.{name}: required, missing")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += mismatches(item, schema["items"], f"{path}[{i}]")
    return found


def _condense(node: Any, file: str, wanted: list[str]) -> Any:
    """`node` with only the keys `mismatches` reads; refs made absolute and queued."""
    if isinstance(node, list):
        return [_condense(item, file, wanted) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key in KEPT:
        if key not in node:
            continue
        if key == "$ref":
            ref = node["$ref"] if not node["$ref"].startswith("#") else file + node["$ref"]
            wanted.append(ref)
            out[key] = ref
        elif key == "properties":
            out[key] = {k: _condense(v, file, wanted) for k, v in node[key].items()}
        else:
            out[key] = _condense(node[key], file, wanted)
    return out


def build(source: Path) -> dict[str, Any]:
    files = {
        name: json.loads((source / name).read_text(encoding="utf-8"))["definitions"]
        for name in ("objects.json", "responses.json")
    }
    shapes: dict[str, Any] = {}
    wanted = list(ROOTS)
    while wanted:
        ref = wanted.pop()
        if ref in shapes:
            continue
        file, _, name = ref.partition("#/definitions/")
        shapes[ref] = _condense(files[file][name], file, wanted)
    return dict(sorted(shapes.items()))


if __name__ == "__main__":
    out = build(Path(sys.argv[1]))
    SHAPES.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {SHAPES} ({len(out)} definitions)")
