"""Build aiogram's pydantic models when they are first used, not all at import.

aiogram declares every Bot API type with pydantic's `defer_build=True`, then
`aiogram/types/__init__.py` calls `model_rebuild()` on all ~440 of them to resolve the names
each module imports only under `TYPE_CHECKING`. That eager loop builds a validator and a
serializer for every type, used or not: `import aiogram` grows a process by ~150 MB
(aiogram/aiogram#1513), most of this service's memory.

`defer_model_builds()` imports `aiogram.types` with that loop turned into what it is for:
each deferred model's missing names are put into its module's globals (as if the
`TYPE_CHECKING` imports had run), and the build itself is left to pydantic, which does it on
first validation or when another model's schema needs it. Only pydantic's public
`model_rebuild` is touched, only while `aiogram.types` is being imported. If aiogram was
imported already, nothing changes; if anything in this goes wrong, aiogram's own eager
rebuild runs instead.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

logger = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _missing_names(model: type[BaseModel], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The names a model's string annotations use that its module does not define."""
    module = sys.modules.get(model.__module__)
    if module is None:
        return {}
    known = vars(module)
    wanted: dict[str, Any] = {}
    for klass in model.__mro__:
        for annotation in vars(klass).get("__annotations__", {}).values():
            if not isinstance(annotation, str):
                continue
            for name in _NAME.findall(annotation):
                if name not in known and name in namespace:
                    wanted[name] = namespace[name]
    return wanted


def defer_model_builds() -> bool:
    """Import `aiogram.types` with its models left unbuilt; True if they were deferred."""
    if "aiogram.types" in sys.modules:
        return False
    eager = BaseModel.__dict__["model_rebuild"]
    deferred: list[tuple[type[BaseModel], Mapping[str, Any]]] = []

    def collect(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Mapping[str, Any] | None = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith("aiogram."):
            deferred.append((cls, _types_namespace))
            return None
        return eager.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(collect)  # type: ignore[assignment,method-assign]
    try:
        import aiogram.types  # noqa: F401  (runs aiogram's rebuild loop through `collect`)
    finally:
        BaseModel.model_rebuild = eager  # type: ignore[method-assign]
    try:
        for model, namespace in deferred:
            module = sys.modules[model.__module__]
            for name, value in _missing_names(model, namespace).items():
                setattr(module, name, value)
    except Exception:  # pydantic or aiogram changed shape: fall back to aiogram's eager build
        logger.exception("could not defer aiogram's model builds; building them all now")
        for model, namespace in deferred:
            model.model_rebuild(_types_namespace=dict(namespace))
        return False
    return True
