"""deploy/nginx/talker-bridge.conf is a config nginx accepts, routes the paths the bridge
serves, and is the one copy docs/setup.md points to; deploy/systemd's unit runs `talker-bridge
run` with the options the docs promise and passes `systemd-analyze verify`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from adapters.facebook.webhook import PATH as FACEBOOK_PATH
from adapters.viber.callback import PATH as VIBER_PATH
from adapters.vk.callback import PATH as VK_PATH
from botapi.files import PREFIX as TELEGRAM_FILES
from botapi.updates import WEBHOOK_PATH as TELEGRAM_PATH
from tests.deploy.bridge import missing_tool

ROOT = Path(__file__).resolve().parents[2]
NGINX = ROOT / "deploy" / "nginx" / "talker-bridge.conf"
UNIT = ROOT / "deploy" / "systemd" / "talker-bridge@.service"
TARGET = ROOT / "deploy" / "systemd" / "talker-bridge.target"
SETUP = ROOT / "docs" / "setup.md"


def nginx_config_for_test(tmp_path: Path) -> Path:
    """A whole nginx.conf around the deploy file, with a throwaway certificate and tmp paths."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=support.example.com", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    site = NGINX.read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/support.example.com/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/support.example.com/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    include {tmp_path}/site.conf;
}}
""",
        encoding="utf-8",
    )
    return main


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        missing_tool("nginx", "nginx-light")
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(nginx_config_for_test(tmp_path))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_nginx_site_routes_the_paths_the_bridge_serves() -> None:
    site = NGINX.read_text(encoding="utf-8")
    # The socket route matches the widget's socket path exactly, with the upgrade headers.
    socket = re.search(r"location ~ (\S+) \{(.*?)\n    \}", site, re.S)
    assert socket is not None
    pattern, body = socket.groups()
    assert re.match(pattern, "/widget/shop/ws")
    assert not re.match(pattern, "/widget/shop/history")
    assert "proxy_set_header Upgrade" in body and "$connection_upgrade" in body
    # Everything else (webhooks, widget, files, health) reaches the bridge through "location /".
    assert "location / {" in site
    for path in (TELEGRAM_PATH, VK_PATH, VIBER_PATH, FACEBOOK_PATH, TELEGRAM_FILES):
        assert path in site, path
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", site) == ["8081", "8082"]


def test_the_docs_point_to_the_deploy_files_instead_of_copying_them() -> None:
    docs = SETUP.read_text(encoding="utf-8")
    for path in ("deploy/nginx/talker-bridge.conf", "deploy/systemd/talker-bridge@.service"):
        assert path in docs
    assert "upstream talker_bridge" not in docs and "ssl_certificate" not in docs


def test_the_unit_runs_the_bridge_on_its_instance_port_with_hardening() -> None:
    unit = UNIT.read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M)
    assert exec_start is not None
    words = exec_start.group(1).split()
    assert words[1:] == [
        "run", "-c", "/etc/talker-bridge/config.yaml", "--port", "%i", "--log-json"
    ]  # fmt: skip
    for line in ("User=talker-bridge", "Restart=on-failure", "RestartPreventExitStatus=2"):
        assert line in unit.splitlines()
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes"):
        assert option in unit.splitlines()


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing_tool("systemd-analyze", "systemd")
    # The binary must exist for verify: point ExecStart at one that does.
    unit = UNIT.read_text(encoding="utf-8").replace(
        "/opt/talker-bridge/venv/bin/talker-bridge", "/bin/true"
    )
    (tmp_path / "talker-bridge@.service").write_text(unit, encoding="utf-8")
    (tmp_path / "talker-bridge@8081.service").symlink_to(tmp_path / "talker-bridge@.service")
    shutil.copy(TARGET, tmp_path / "talker-bridge.target")
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "talker-bridge@8081.service")],
        capture_output=True,
        text=True,
    )
    problems = [
        line
        for line in result.stderr.splitlines()
        if "talker-bridge" in line and "Failed to" not in line  # no system bus in containers
    ]
    assert problems == [], result.stderr
