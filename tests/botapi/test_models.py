"""aiogram's models are built on first use (botapi/models.py) and behave the same.

Each case runs in a fresh interpreter: whether the models are deferred depends on what imported
aiogram first, and the test process has imported it long ago.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

UPDATES = [
    {
        "update_id": 1,
        "message": {
            "message_id": 7,
            "date": 1700000000,
            "message_thread_id": 12,
            "is_topic_message": True,
            "chat": {"id": -100123, "type": "supergroup", "title": "Support", "is_forum": True},
            "from": {"id": 5, "is_bot": False, "first_name": "Анна", "username": "anna"},
            "text": "Заказ <b>42</b> где?",
            "entities": [{"type": "bold", "offset": 0, "length": 5}],
            "reply_to_message": {
                "message_id": 3,
                "date": 1700000000,
                "chat": {"id": -100123, "type": "supergroup", "title": "Support"},
                "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 60}],
                "caption": "чек",
            },
        },
    },
    {
        "update_id": 2,
        "callback_query": {
            "id": "cb1",
            "from": {"id": 5, "is_bot": False, "first_name": "Анна"},
            "chat_instance": "ci",
            "data": "accept:17",
            "message": {
                "message_id": 9,
                "date": 1700000001,
                "chat": {"id": -100123, "type": "supergroup", "title": "Support"},
                "text": "New inquiry",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "Accept", "callback_data": "accept:17"}]]
                },
            },
        },
    },
    {
        "update_id": 3,
        "edited_message": {
            "message_id": 8,
            "date": 1700000002,
            "edit_date": 1700000003,
            "chat": {"id": 77, "type": "private", "first_name": "Ivan"},
            "from": {"id": 77, "is_bot": False, "first_name": "Ivan"},
            "document": {"file_id": "d1", "file_unique_id": "du1", "file_name": "a.pdf"},
            "caption": "invoice",
        },
    },
    {
        "update_id": 4,
        "my_chat_member": {
            "chat": {"id": 77, "type": "private", "first_name": "Ivan"},
            "from": {"id": 77, "is_bot": False, "first_name": "Ivan"},
            "date": 1700000004,
            "old_chat_member": {
                "status": "member",
                "user": {"id": 1, "is_bot": True, "first_name": "Bridge"},
            },
            "new_chat_member": {
                "status": "kicked",
                "until_date": 0,
                "user": {"id": 1, "is_bot": True, "first_name": "Bridge"},
            },
        },
    },
]

SCRIPT = """
import json, sys


def main():  # pydantic builds a deferred model from a caller's frame: not at module level
    if sys.argv[1] == "lazy":
        import desk  # defers the builds before aiogram is imported
    import aiogram.methods as methods
    import aiogram.types as types
    from aiogram.methods.base import Response

    report = {"deferred": not types.Message.__pydantic_complete__}
    report["updates"] = [
        types.Update.model_validate(u).model_dump(mode="json", exclude_none=True)
        for u in json.loads(sys.argv[2])
    ]
    markup = types.InlineKeyboardMarkup(
        inline_keyboard=[[types.InlineKeyboardButton(text="Принять", callback_data="accept:1")]]
    )
    calls = [
        methods.SendMessage(chat_id=-100123, message_thread_id=12, text="<b>hi</b>",
                            parse_mode="HTML", reply_markup=markup),
        methods.EditMessageText(chat_id=-100123, message_id=9, text="Taken", reply_markup=markup),
        methods.CreateForumTopic(chat_id=-100123, name="Ivan · VK"),
        methods.GetChatMember(chat_id=-100123, user_id=5),
    ]
    report["calls"] = [c.model_dump(mode="json", exclude_defaults=True) for c in calls]
    sent = Response[methods.SendMessage.__returning__].model_validate(
        {"ok": True, "result": json.loads(sys.argv[2])[0]["message"]}
    )
    report["response"] = sent.result.model_dump(mode="json", exclude_none=True)
    broken = []
    for name in methods.__all__:
        method = getattr(methods, name)
        if not isinstance(method, type) or not issubclass(method, methods.TelegramMethod):
            continue  # Request, Response: helpers, not Bot API methods
        if method is methods.TelegramMethod:
            continue
        try:
            Response[method.__returning__].__pydantic_validator__.validate_python
            method.__pydantic_serializer__.to_python
        except Exception as exc:
            broken.append(f"{name}: {exc}")
    for name in types.__all__:
        model = getattr(types, name)
        if isinstance(model, type) and hasattr(model, "__pydantic_validator__"):
            try:
                model.__pydantic_validator__.validate_python
                model.__pydantic_serializer__.to_python
            except Exception as exc:
                broken.append(f"{name}: {exc}")
    report["broken"] = broken
    print(json.dumps(report, ensure_ascii=False))


main()
"""


@cache  # one interpreter per mode for the module: building every model takes seconds
def run(mode: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), mode, json.dumps(UPDATES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_deferred_models_parse_and_serialize_exactly_like_eagerly_built_ones() -> None:
    lazy, eager = run("lazy"), run("eager")
    assert lazy["deferred"] is True
    assert eager["deferred"] is False
    assert lazy["updates"] == eager["updates"]
    assert lazy["calls"] == eager["calls"]
    assert lazy["response"] == eager["response"]
    assert lazy["updates"][0]["message"]["reply_to_message"]["photo"][0]["file_id"] == "p1"
    assert lazy["updates"][3]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert lazy["calls"][0]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Принять"


def test_every_bot_api_type_and_method_still_builds_when_deferred() -> None:
    assert run("lazy")["broken"] == []


def modules_importing_aiogram() -> list[str]:
    """Every first-party module with an aiogram import (the ones that could import it first)."""
    found = []
    for package in ("adapters", "app", "botapi", "bridge", "config", "desk", "sandbox", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = [
                alias.name if isinstance(node, ast.Import) else node.module or ""
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names
            ]
            if any(name.split(".")[0] == "aiogram" for name in names):
                found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_whichever_module_imports_aiogram_first_the_models_stay_deferred() -> None:
    modules = modules_importing_aiogram()
    assert "botapi.files" in modules and "desk.routers.feed" in modules
    check = "import aiogram.types as t\nassert not t.Message.__pydantic_complete__"
    for module in modules:
        result = subprocess.run(
            [sys.executable, "-c", f"import {module}\n{check}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"importing {module} first: {result.stderr[-800:]}"
