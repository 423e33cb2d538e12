"""Avatar rendering benchmark: avatars per second, cold (nothing cached) and cached.

    .venv/bin/python bench/avatars.py [--count 300] [--size 256]

Cold: the render cache is cleared and distinct customers are rendered (customers who share
initials, colour and platform share one render, so the rate counts actual renders: drawing plus
PNG encoding). Cached: the same customers again, served from the LRU.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from app.looks import platform_badges
from bridge.avatars import AvatarService

BADGES = platform_badges()
PLATFORMS = BADGES.platforms

FIRST = ["Иван", "Анна", "Mary", "Jean", "Ольга", "Carlos", "Ελένη", "Дмитрий", "Zoe", "Юлия"]
LAST = ["Петров", "Watson", "Смирнова", "Díaz", "Lee", "Кузнецов", "Müller", "Орлова", "Kim"]


def customers(count: int) -> list[tuple[str | None, str, str]]:
    """`count` distinct customers: (name or None for a guest, channel, seed)."""
    rows = []
    for n in range(count):
        name = None if n % 10 == 9 else f"{FIRST[n % len(FIRST)]} {LAST[(n // 3) % len(LAST)]}"
        rows.append((name, PLATFORMS[n % len(PLATFORMS)], f"customer-{n}"))
    return rows


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure(service: AvatarService, rows: list, size: int) -> float:
    """Seconds to fetch every avatar of `rows` through the service."""
    start = time.perf_counter()
    for name, channel, seed in rows:
        service.render(name, channel=channel, seed=seed, size=size)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="distinct avatars per run")
    parser.add_argument("--size", type=int, nargs="+", default=[256, 64], help="sides to test")
    args = parser.parse_args(argv)

    rows = customers(args.count)
    service = AvatarService(badges=BADGES, cache_size=args.count * 2)
    service.render("warm up", channel="vk", seed="w")  # font loading is a one-off cost
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {cpu_model()}")
    print(f"python {sys.version.split()[0]}, one thread, {args.count} distinct avatars per run")
    print()
    header = ("size", "cold avatars/s", "ms each", "cached avatars/s", "renders")
    print(f"{header[0]:>6} | {header[1]:>14} | {header[2]:>8} | {header[3]:>16} | {header[4]}")
    print(f"{'-' * 6}-+-{'-' * 14}-+-{'-' * 8}-+-{'-' * 16}-+-{'-' * 8}")
    for size in args.size:
        service.cache_clear()
        elapsed = measure(service, rows, size)
        distinct = service.cache_stats().misses  # customers sharing a style render once
        cold = distinct / elapsed
        cached = len(rows) * 20 / measure(service, rows * 20, size)
        print(f"{size:>6} | {cold:>14.0f} | {1000 / cold:>8.1f} | {cached:>16.0f} | {distinct:>8}")
        assert service.cache_stats().misses == distinct
    return 0


if __name__ == "__main__":
    sys.exit(main())
