"""The suite owns its PostgreSQL: a throwaway cluster when none answers, restartable clusters,
and a per-test timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import pytest

from tests.support.pg_cluster import PgCluster, find_bin_dir, free_port

REPO = Path(__file__).resolve().parents[2]


async def _select_one(url: str) -> int:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return int(await conn.fetchval("SELECT 1"))
    finally:
        await conn.close()


def test_the_newest_debian_server_binaries_are_found() -> None:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("Debian's postgresql package is not installed")
    assert (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists()
    assert bin_dir.parent.parent == Path("/usr/lib/postgresql")


async def test_a_restartable_cluster_survives_stop_start_and_restart(pg_restartable) -> None:
    cluster = pg_restartable
    assert cluster.url.endswith("/test") and f":{cluster.port}/" in cluster.url
    conn = await asyncpg.connect(cluster.url, timeout=5)
    await conn.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
    await conn.execute("INSERT INTO kept VALUES (1)")
    cluster.restart()
    with pytest.raises((asyncpg.PostgresError, OSError, asyncpg.InterfaceError)):
        await conn.fetchval("SELECT 1")  # the restart cut the open connection
    conn.terminate()
    assert await _select_one(cluster.url) == 1
    cluster.stop()
    with pytest.raises(OSError):
        await asyncpg.connect(cluster.url, timeout=2)
    cluster.start()
    conn = await asyncpg.connect(cluster.url, timeout=5)
    try:
        assert await conn.fetchval("SELECT count(*) FROM kept") >= 1  # data outlives restarts
        await conn.execute("DROP TABLE kept")
    finally:
        await conn.close()


def test_destroy_stops_the_server_and_deletes_its_folder() -> None:
    if find_bin_dir() is None:
        pytest.skip("Debian's postgresql package is not installed")
    cluster = PgCluster().start()
    folder = cluster.folder
    assert folder is not None and cluster.running()
    cluster.destroy()
    assert not folder.exists()
    assert not cluster.running()


# Run by the test below in a pytest of its own, pointed at a port where nothing listens.
INNER_TEST = "tests/support/test_pg_cluster.py::test_pg_url_gives_a_usable_database"


async def test_pg_url_gives_a_usable_database(pg_url: str) -> None:
    assert await _select_one(pg_url) == 1
    print(f"PG_URL={pg_url}")


def test_the_suite_starts_its_own_cluster_when_no_server_answers() -> None:
    closed = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", INNER_TEST, "-q", "-s", "-p", "no:cacheprovider"],
        cwd=REPO,
        env={
            **os.environ,
            "TB_TEST_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{closed}/test",
            "CI": "true",  # a skip would be a failure
        },
        capture_output=True,
        text=True,
        timeout=110,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output
    used = next(line for line in output.splitlines() if "PG_URL=" in line)
    assert f":{closed}/" not in used and "127.0.0.1:" in used


def test_a_missing_server_fails_in_ci_when_no_cluster_can_start(tmp_path: Path) -> None:
    closed = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", INNER_TEST, "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env={
            **os.environ,
            "TB_TEST_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{closed}/test",
            "CI": "true",
            "TB_TEST_PG_BINARIES": str(tmp_path / "nowhere"),
        },
        capture_output=True,
        text=True,
        timeout=110,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "starting a throwaway cluster failed too" in output


def test_the_default_per_test_timeout_is_set(request: pytest.FixtureRequest) -> None:
    assert float(request.config.getini("timeout")) == 120


def test_a_hung_test_fails_instead_of_hanging(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            async def test_hangs():
                await asyncio.sleep(3600)
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\ntimeout = 2\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Timeout" in output and "1 failed" in output
