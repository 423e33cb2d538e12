"""Files the widget stores are readable by the service's user only (issue 14): 0600 files in
0700 folders, whatever the umask the service was started with."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.events import Attachment
from tests.adapters.site.harness import WIDGET, Bridge
from tests.adapters.site.test_widget_api import PNG, auth, new_token, say


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The loosest umask an operator might run the service with."""
    before = os.umask(0)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def modes_under(root: Path) -> dict[str, int]:
    found = {".": mode(root)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = mode(path)
    return found


async def test_uploads_and_operators_files_are_0600_in_0700_folders(
    client, bridge: Bridge, permissive_umask
):
    token = await new_token(client)
    visitor = token.split(".")[0]
    headers = {**auth(token), "Content-Type": "image/png", "X-File-Name": "photo.png"}
    uploaded = await client.post(f"/widget/{WIDGET}/uploads", data=PNG, headers=headers)
    assert uploaded.status == 200
    assert (await say(client, token, "and the invoice?", "ask-invoice")).status == 200
    pdf = Attachment("document", file_name="a.pdf", mime_type="application/pdf", data=b"%PDF-1")
    await bridge.reply(visitor, "Here", (pdf,))

    root = bridge.site.files.root
    found = modes_under(root)
    files = {name: m for name, m in found.items() if (root / name).is_file()}
    folders = {name: m for name, m in found.items() if (root / name).is_dir()}
    assert len(files) == 4  # the upload, the operator's file, and their descriptions
    assert files == dict.fromkeys(files, 0o600)
    assert folders == {".": 0o700, WIDGET: 0o700, f"{WIDGET}/{visitor}": 0o700}
