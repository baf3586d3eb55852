"""Throwaway PostgreSQL and MariaDB servers on loopback, for tests that run rendered scripts."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ADMIN_USER, ADMIN_PASSWORD = "admin", "admin-secret"


@dataclass
class Server:
    engine: str
    port: int
    folder: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tool(pattern: str, reason: str) -> str:
    found = shutil.which(pattern) or next(iter(sorted(glob.glob(pattern))), None)
    if found is None:
        pytest.skip(reason)
    return found


def _as(user: str) -> dict[str, object]:
    """Run as ``user`` when we are root: the servers refuse to run as root."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _owned_folder(user: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"dbfleet-{user}-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


def postgresql(settings: dict[str, str] | None = None, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``settings``: lines added to postgresql.conf; ``env``: the server's environment (what its
    archive_command reads)."""
    initdb = _tool("/usr/lib/postgresql/*/bin/initdb", "PostgreSQL is not installed (CI installs Debian's postgresql)")
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    folder = _owned_folder("postgres")
    (folder / "pw").write_text(ADMIN_PASSWORD)
    run_as = _as("postgres")
    if run_as:
        os.chown(folder / "pw", run_as["user"], run_as["group"])  # type: ignore[arg-type]
    subprocess.run([initdb, "-D", str(folder / "data"), "-U", ADMIN_USER, "--pwfile", str(folder / "pw"),
                    "--auth=scram-sha-256", "--no-sync"], check=True, capture_output=True, **run_as)  # type: ignore[call-overload]
    port = free_port()
    with open(folder / "data" / "postgresql.conf", "a") as conf:
        conf.writelines(f"{name} = '{value}'\n" for name, value in (settings or {}).items())
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    subprocess.run([pg_ctl, "-D", str(folder / "data"), "-o", options, "-l", str(folder / "log"), "-w", "start"],
                   check=True, capture_output=True, env={**os.environ, **(env or {})}, **run_as)  # type: ignore[call-overload]
    try:
        yield Server("postgresql", port, folder)
    finally:
        subprocess.run([pg_ctl, "-D", str(folder / "data"), "-m", "immediate", "stop"], capture_output=True, **run_as)  # type: ignore[call-overload]
        shutil.rmtree(folder, ignore_errors=True)


def mariadb() -> Iterator[Server]:
    mariadbd = _tool("mariadbd", "MariaDB is not installed (CI installs Debian's mariadb-server)")
    install = _tool("mariadb-install-db", "MariaDB is not installed (CI installs Debian's mariadb-server)")
    folder = _owned_folder("mysql")
    user = "mysql" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run([install, f"--user={user}", f"--datadir={folder}/data", "--skip-test-db", "--auth-root-authentication-method=socket"],
                   check=True, capture_output=True)
    port, sock = free_port(), folder / "mysqld.sock"
    process = subprocess.Popen([mariadbd, "--no-defaults", f"--user={user}", f"--datadir={folder}/data", f"--socket={sock}",
                                f"--port={port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
                                f"--pid-file={folder}/mysqld.pid", "--innodb-flush-log-at-trx-commit=0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if sock.exists():
                break
            time.sleep(0.1)
        else:
            pytest.fail("MariaDB did not start")
        sql = (f"CREATE USER '{ADMIN_USER}'@'%' IDENTIFIED BY '{ADMIN_PASSWORD}'; "
               f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' WITH GRANT OPTION;")
        for _ in range(50):
            done = subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-e", sql], capture_output=True)
            if done.returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"cannot create the MariaDB admin: {done.stderr!r}")
        yield Server("mysql", port, folder)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
