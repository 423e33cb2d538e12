"""A throwaway PostgreSQL cluster that the test suite starts, restarts and deletes by itself.

Debian's `postgresql` package puts its server binaries in /usr/lib/postgresql/<version>/bin
(not on PATH); the newest version found there is used (or the bin folder named by
TB_TEST_PG_BINARIES). `PgCluster.start()` runs `initdb` into a
temporary folder (trust authentication, superuser `postgres`), starts the server on a free
127.0.0.1 port with its unix socket inside that folder, and creates the database `test`;
`destroy()` stops it and deletes the folder. `initdb` refuses to run as root, so under root every
server command runs as the unprivileged `postgres` system user (which Debian's package creates)
through `runuser` (or `setpriv`), with the folder handed over to that user.

Tests that restart or stop PostgreSQL use only such a cluster, never the machine's own service.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
DATABASE = "test"
#: Where to take initdb and pg_ctl from instead of the newest Debian version (a bin folder).
BINARIES_VARIABLE = "TB_TEST_PG_BINARIES"


class ClusterUnavailable(RuntimeError):
    """No cluster could be started here (no binaries, no unprivileged user, initdb failed)."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (0,)


def find_bin_dir(root: Path = DEBIAN_ROOT) -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or None."""
    if not root.is_dir():
        return None
    found = [
        version / "bin"
        for version in root.iterdir()
        if (version / "bin" / "initdb").exists() and (version / "bin" / "pg_ctl").exists()
    ]
    return max(found, key=lambda bin_dir: _version_key(bin_dir.parent), default=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user() -> list[str]:
    """The command prefix that drops root to the `postgres` user; empty when not root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise ClusterUnavailable(
            f"running as root and there is no {SERVER_USER!r} user to run initdb as"
        ) from exc
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", SERVER_USER, "--"]
    if setpriv := shutil.which("setpriv"):
        entry = pwd.getpwnam(SERVER_USER)
        return [
            setpriv,
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--init-groups",
            "--",
        ]
    raise ClusterUnavailable("running as root and neither runuser nor setpriv is installed")


class PgCluster:
    """One PostgreSQL server in a temporary folder; `url` is its `test` database."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        chosen = os.environ.get(BINARIES_VARIABLE)
        found = bin_dir or (Path(chosen) if chosen else find_bin_dir())
        if found is not None and not (found / "initdb").exists():
            raise ClusterUnavailable(f"no initdb in {found}")
        if found is None:
            raise ClusterUnavailable(
                f"no PostgreSQL server binaries under {DEBIAN_ROOT}/<version>/bin "
                "(apt-get install postgresql)"
            )
        self.bin_dir = found
        self.port = free_port()
        self.folder: Path | None = None
        self._prefix: list[str] = []

    # where it is

    @property
    def data_dir(self) -> Path:
        assert self.folder is not None, "the cluster was never started"
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.folder is not None, "the cluster was never started"
        return self.folder / "socket"

    @property
    def url(self) -> str:
        """postgresql://postgres@127.0.0.1:<port>/test"""
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def url_of(self, database: str) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    # life cycle

    def start(self, timeout: float = 60.0) -> PgCluster:
        """Create the cluster on first use, then start the server (no-op when running)."""
        if self.folder is None:
            self._create()
        if self.running():
            return self
        self._pg_ctl(
            "start", "-w", "-t", str(int(timeout)), "-l", str(self.folder_log), timeout=timeout
        )
        self._wait_accepting(timeout)
        return self

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """Stop the server (`fast`: roll back open transactions and disconnect everyone;
        `immediate`: like a crash, recovered at the next start)."""
        if self.folder is None or not self.running():
            return
        self._pg_ctl("stop", "-w", "-m", mode, "-t", str(int(timeout)), timeout=timeout)

    def restart(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """Stop and start again on the same port: every open connection is cut."""
        self.stop(mode, timeout)
        self.start(timeout)

    def running(self) -> bool:
        if self.folder is None:
            return False
        result = subprocess.run(
            [*self._prefix, str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode == 0

    def destroy(self) -> None:
        """Stop the server (immediately) and delete its folder."""
        if self.folder is None:
            return
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    # internals

    @property
    def folder_log(self) -> Path:
        assert self.folder is not None
        return self.folder / "server.log"

    def log_tail(self, lines: int = 40) -> str:
        if self.folder is None or not self.folder_log.exists():
            return ""
        return "\n".join(self.folder_log.read_text(errors="replace").splitlines()[-lines:])

    def _create(self) -> None:
        self._prefix = _as_server_user()
        folder = Path(tempfile.mkdtemp(prefix="tb-test-pg-"))
        self.folder = folder
        atexit.register(self.destroy)  # a session that dies still leaves nothing running
        (folder / "socket").mkdir()
        if self._prefix:
            entry = pwd.getpwnam(SERVER_USER)
            for path in (folder, folder / "socket"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=120,
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            # Throwaway data: no fsync, no waiting for a checkpoint at shutdown.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
        }
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# tests/support/pg_cluster.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.folder_log), timeout=60)
        self._wait_accepting(60)
        self._run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                SERVER_USER,
                DATABASE,
            ],
            timeout=30,
        )

    def _pg_ctl(self, action: str, *args: str, timeout: float = 60.0) -> None:
        self._run(
            [str(self.bin_dir / "pg_ctl"), action, "-D", str(self.data_dir), *args],
            timeout=timeout + 10,
        )

    def _run(self, command: list[str], timeout: float) -> None:
        try:
            result = subprocess.run(
                [*self._prefix, *command],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                cwd=self.folder or "/",
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterUnavailable(f"{Path(command[0]).name} failed: {exc}") from exc
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"{Path(command[0]).name} exited with {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{self.log_tail()}"
            )

    def _wait_accepting(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise ClusterUnavailable(
                        f"the server did not accept connections:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.05)
