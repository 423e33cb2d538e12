"""Condense VK's JSON Schema (methods.json + errors.json) into the fake's `spec.json`.

Run on a checkout of VK's schema (github.com/VKCOM/vk-api-schema):
`python -m sandbox.vk.build_spec path/to/vk-api-schema`.
The output keeps, for every method, who may call it and each parameter's type and limits;
and for every error, its code and description. That is all the fake checks against.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PARAM_KEYS = ("type", "required", "maxLength", "minLength", "minimum", "maximum", "maxItems")


def condense(methods: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    """The condensed spec: {"version", "methods": {name: ...}, "errors": {name: {code, ...}}}."""
    out_methods: dict[str, Any] = {}
    for method in methods["methods"]:
        params: dict[str, Any] = {}
        for param in method.get("parameters", []):
            kept = {k: param[k] for k in PARAM_KEYS if k in param}
            if "enum" in param:
                kept["enum"] = param["enum"]
            params[param["name"]] = kept
        out_methods[method["name"]] = {
            "access_token_type": method.get("access_token_type", []),
            "parameters": params,
        }
    out_errors = {
        name: {"code": err["code"], "description": err["description"]}
        for name, err in errors["errors"].items()
    }
    return {"version": methods.get("version", ""), "methods": out_methods, "errors": out_errors}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sandbox.vk.build_spec <dir with methods.json and errors.json>")
        return 2
    src = Path(argv[0])
    methods = json.loads((src / "methods.json").read_text(encoding="utf-8"))
    errors = json.loads((src / "errors.json").read_text(encoding="utf-8"))
    target = Path(__file__).with_name("spec.json")
    spec = condense(methods, errors)
    target.write_text(json.dumps(spec, ensure_ascii=False, separators=(",", ":")), "utf-8")
    print(f"wrote {target} ({len(spec['methods'])} methods, {len(spec['errors'])} errors)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
