"""Run `outreach serve` as a real process against its own database (for HTTP tests)."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

BIN = Path(sys.executable).parent
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_available() -> bool:
    """Whether the local PostgreSQL answers (CI starts it; see .ci/run)."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """A served instance: base URL, its env, and helpers to run the CLI against it."""

    backend: str
    workdir: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen | None = None
    pg_database: str | None = None
    outputs: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        """Run an `outreach` command with the server's environment; return stdout."""
        result = subprocess.run(
            [str(BIN / "outreach"), *args],
            env=self.env,
            text=True,
            capture_output=True,
            timeout=300,
            cwd=self.workdir,
        )
        if result.returncode != 0:
            raise RuntimeError(f"outreach {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def start(self, workers: int = 4) -> None:
        self.port = _free_port()
        log = open(self.workdir / "server.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(BIN / "outreach"),
                "serve",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.workdir / "server.log").read_text())
            try:
                requests.get(f"{self.url}/v1/projects", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("server did not start in 60 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.pg_database:
            engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(
                    sa.text(
                        f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)'
                    )
                )
            engine.dispose()

    def log(self) -> str:
        return (self.workdir / "server.log").read_text()

    def count(self, table: str, where: str = "") -> int:
        """Count rows straight from the database the server uses."""
        engine = sa.create_engine(
            self.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
        )
        with engine.connect() as conn:
            value = conn.execute(
                sa.text(f"SELECT count(*) FROM {table} {where}")
            ).scalar_one()
        engine.dispose()
        return int(value)


def make_server(
    backend: str, workdir: Path, xlsforms_dir: Path | None = None
) -> LiveServer:
    """Prepare (not start) a server with a fresh database of the given backend."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "SECRET_KEY": secrets.token_hex(16),
            "OUTREACH_DATA_DIR": str(workdir / "blobs"),
            "XLSFORMS_DIR": str(xlsforms_dir or workdir / "xlsforms"),
        }
    )
    server = LiveServer(backend, workdir, env)
    if backend == "postgres":
        name = f"outreach_live_{secrets.token_hex(4)}"
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        server.pg_database = name
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'live.sqlite'}"
    return server


def parse_key_url(output: str) -> str:
    """The Collect server URL printed by `outreach app-user-create`."""
    match = re.search(r"(http://\S+/v1/key/\S+/projects/\d+)", output)
    assert match, output
    return match.group(1)


def admin_password(output: str) -> str:
    """The generated admin password printed once by `outreach setup`."""
    match = re.search(r"password: (\S+)", output)
    assert match, output
    return match.group(1)


def backends() -> list[t.Any]:
    """The backends to run live tests on: the suite's own, plus PostgreSQL if reachable."""
    import pytest

    wanted = ["postgres"] if os.environ.get("DATABASE_URL") else ["sqlite", "postgres"]
    return [
        pytest.param(
            b,
            marks=pytest.mark.skipif(
                b == "postgres" and not postgres_available(),
                reason="PostgreSQL not reachable",
            ),
        )
        for b in wanted
    ]
