"""Peak memory of serving an operator's 20 MB Telegram file at `/files/telegram/...`.

    python -m bench.telegram_files [--mb 20]

The fake Telegram serves the file in 64 KB pieces; the bridge's route pipes it to a client that
reads it in pieces too. tracemalloc's peak covers every Python allocation of the process while
the download runs (the fake's stored copy exists before measuring and is not counted).
"""

from __future__ import annotations

import argparse
import asyncio

from tests.botapi.files_harness import served_files
from tests.botapi.test_files import peak_memory_of_download


async def measure(megabytes: int) -> None:
    size = megabytes * 1024 * 1024
    async with served_files() as h:
        h.fake.slow_downloads(chunk_size=64 * 1024, pause=0)
        link = h.files.link(h.store("video", b"\0" * size, "talk.mp4"))
        assert link is not None
        peak = await peak_memory_of_download(link)
    assert peak.received == size, peak.received
    print(f"served {megabytes} MB: peak Python memory {peak.bytes / 1024 / 1024:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=20, help="file size in MB (at most 20)")
    asyncio.run(measure(parser.parse_args().mb))


if __name__ == "__main__":
    main()
