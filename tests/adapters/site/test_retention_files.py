"""The retention jobs on the widget's files, seen from the widget: which links still work.

Uploads never sent in a message go after `retention.unattached_uploads` (by the file's age,
then the database); every file goes after `retention.files`. Real file store, real SQLite,
the widget's real HTTP API.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col

from adapters.site.retention import UPLOAD_ID_LENGTH, SiteFiles
from adapters.site.tokens import new_visitor_id, reply_file_id
from bridge.events import Attachment
from bridge.leader import Leader
from bridge.retention import CLOSED_CONVERSATIONS, FILES, UNATTACHED_UPLOADS, Retention
from config import RetentionConfig
from storage.conversations import close_conversation
from storage.customers import find_customer
from storage.forget import customer_conversations
from storage.models import Conversation
from tests.adapters.site.harness import WIDGET
from tests.adapters.site.test_widget_api import PNG, auth, history, new_token, say

PDF = b"%PDF-1.4 invoice"


async def upload(client, token: str, data: bytes = PNG) -> dict:
    headers = {**auth(token), "Content-Type": "image/png", "X-File-Name": "photo.png"}
    response = await client.post(f"/widget/{WIDGET}/uploads", data=data, headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["file"]


def age(folder: Path, file_id: str, by: timedelta) -> None:
    """Make a stored file (and its description) look `by` old."""
    when = time.time() - by.total_seconds()
    for path in (folder / file_id, folder / f"{file_id}.json"):
        os.utime(path, (when, when))


def retention(bridge) -> Retention:
    return Retention(
        RetentionConfig(),  # 30 minutes for unattached uploads, 90 days for every file
        sessions=bridge.sessions,
        leader=Leader(bridge.config.database),
        files=[SiteFiles(bridge.site.files)],
    )


async def status(client, url: str) -> int:
    return (await client.get(url)).status


async def test_an_unattached_upload_goes_after_the_period_and_an_attached_one_stays(
    client, bridge
) -> None:
    token = await new_token(client)
    visitor = token.split(".")[0]
    folder = bridge.site.files.root / WIDGET / visitor
    sent = await upload(client, token)
    assert (await say(client, token, "see photo", "photo-msg-1", files=[sent["id"]])).status == 200
    forgotten = await upload(client, token)
    fresh = await upload(client, token)  # picked a minute ago, not sent yet
    for file in (sent, forgotten):
        age(folder, file["id"], timedelta(hours=2))
    age(folder, fresh["id"], timedelta(minutes=1))
    jobs = retention(bridge)

    assert await jobs.run(UNATTACHED_UPLOADS) == 1

    assert await status(client, forgotten["url"]) == 404
    assert await status(client, sent["url"]) == 200
    assert await status(client, fresh["url"]) == 200
    (shown,) = (await history(client, token))[0]["attachments"]
    assert shown["url"] == sent["url"]
    # The forgotten upload can no longer be sent; the fresh one still can.
    assert (await say(client, token, "late", "late-msg-1", files=[forgotten["id"]])).status == 400
    assert (await say(client, token, "now", "now-msg-1", files=[fresh["id"]])).status == 200
    assert await jobs.run(UNATTACHED_UPLOADS) == 0


async def test_an_operators_file_kept_for_the_visitor_is_not_an_unattached_upload(
    client, bridge
) -> None:
    token = await new_token(client)
    visitor = token.split(".")[0]
    assert (await say(client, token, "the invoice please", "ask-for-invoice")).status == 200
    invoice = Attachment(kind="document", file_name="invoice.pdf", data=PDF)
    await bridge.reply(visitor, "Your invoice", (invoice,))
    (shown,) = (await history(client, token))[-1]["attachments"]
    folder = bridge.site.files.root / WIDGET / visitor
    (kept,) = [p.name for p in folder.iterdir() if not p.name.endswith(".json")]
    age(folder, kept, timedelta(days=3))

    assert await retention(bridge).run(UNATTACHED_UPLOADS) == 0
    assert await status(client, shown["url"]) == 200


async def test_every_file_goes_after_the_files_period_and_empty_folders_with_it(
    client, bridge
) -> None:
    old_token, new_token_ = await new_token(client), await new_token(client)
    old_visitor, new_visitor = old_token.split(".")[0], new_token_.split(".")[0]
    old_folder = bridge.site.files.root / WIDGET / old_visitor
    sent = await upload(client, old_token)
    assert (await say(client, old_token, "photo", "photo-msg-2", files=[sent["id"]])).status == 200
    await bridge.reply(
        old_visitor, "Invoice", (Attachment(kind="document", file_name="i.pdf", data=PDF),)
    )
    (reply_copy,) = (await history(client, old_token))[-1]["attachments"]
    for path in old_folder.iterdir():
        os.utime(path, (time.time() - 91 * 86400,) * 2)
    recent = await upload(client, new_token_)
    assert (
        await say(client, new_token_, "pic", "photo-msg-3", files=[recent["id"]])
    ).status == 200
    jobs = retention(bridge)

    assert await jobs.run(FILES) == 2  # the visitor's photo and the operator's invoice
    assert await status(client, sent["url"]) == 404
    assert await status(client, reply_copy["url"]) == 404
    assert await status(client, recent["url"]) == 200
    assert old_folder.is_dir()  # emptied just now: removed once it has stayed empty a while
    os.utime(old_folder, (time.time() - 3600,) * 2)
    assert await jobs.run(FILES) == 0
    assert not old_folder.exists()
    assert (bridge.site.files.root / WIDGET / new_visitor).is_dir()


def test_uploads_and_operators_files_are_told_apart_by_their_ids(bridge) -> None:
    """What `SiteFiles` relies on: an upload's random id is shorter than a kept file's."""
    visitor = new_visitor_id()
    stored = bridge.site.files.save(WIDGET, visitor, PNG, "a.png", "image/png")
    assert len(stored.id) == UPLOAD_ID_LENGTH
    assert len(reply_file_id(b"key", WIDGET, visitor, "m1", 0)) != UPLOAD_ID_LENGTH
    (found,) = SiteFiles(bridge.site.files).scan()
    assert found.uploaded and found.ref == f"site-file:{visitor}/{stored.id}"
    assert found.channel == f"site:{WIDGET}" and found.customer == visitor


async def close_conversations_of(bridge, visitor: str, closed_ago: timedelta) -> None:
    """Close the visitor's open conversation as an operator would, `closed_ago` back."""
    async with bridge.sessions() as session, session.begin():
        customer = await find_customer(session, f"site:{WIDGET}", visitor)
        assert customer is not None
        (conversation,) = [
            c for c in await customer_conversations(session, customer.id) if c.is_open
        ]
        assert await close_conversation(session, conversation.id)
        await session.exec(
            update(Conversation)
            .where(col(Conversation.id) == conversation.id)
            .values(closed_at=datetime.now(UTC) - closed_ago)
        )


async def test_a_closed_conversations_files_go_with_its_messages_and_a_newer_ones_stay(
    client, bridge
) -> None:
    token = await new_token(client)
    visitor = token.split(".")[0]
    old_photo = await upload(client, token)
    assert (
        await say(client, token, "old photo", "old-msg-1", files=[old_photo["id"]])
    ).status == 200
    invoice = Attachment(kind="document", file_name="invoice.pdf", data=PDF)
    await bridge.reply(visitor, "Your invoice", (invoice,))
    (old_invoice,) = (await history(client, token))[-1]["attachments"]
    await close_conversations_of(bridge, visitor, timedelta(days=31))
    new_photo = await upload(client, token)
    assert (
        await say(client, token, "new photo", "new-msg-1", files=[new_photo["id"]])
    ).status == 200
    jobs = Retention(
        RetentionConfig(closed_conversations="30d"),
        sessions=bridge.sessions,
        leader=Leader(bridge.config.database),
        files=[SiteFiles(bridge.site.files, bridge.config.widget_signing_key())],
    )

    # Two messages and the two files they used: the visitor's photo, the operator's invoice.
    assert await jobs.run(CLOSED_CONVERSATIONS) == 4

    assert await status(client, old_photo["url"]) == 404
    assert await status(client, old_invoice["url"]) == 404
    assert await status(client, new_photo["url"]) == 200
    assert [m["text"] for m in await history(client, token)] == ["new photo"]
    assert await jobs.run(CLOSED_CONVERSATIONS) == 0
