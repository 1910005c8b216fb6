"""Ingest benchmark: a real ``outreach serve`` under OpenRosa submission load.

For each database (SQLite, PostgreSQL) the script builds a fresh database and data
directory in a temporary folder, initialises it through the ``outreach`` CLI (``db
upgrade``, ``project-create``, ``forms publish``, ``app-user-create``), starts
``outreach serve`` and then, for each database state (empty, then with ``--preload``
submissions stored), each payload (no attachment, one 100 KB attachment) and each
concurrency, POSTs ``--n`` new submissions plus 20 % exact resends of already-sent ones,
interleaved. Every response must be 201, and afterwards the database must hold exactly
``--n`` more submissions. It prints one table row per run and removes its temporary
files and databases at the end.

    .venv/bin/python bench/ingest.py                  # full run (about 15 minutes)
    .venv/bin/python bench/ingest.py --quick          # smoke run (< 60 s)
    .venv/bin/python bench/ingest.py --db postgres --concurrency 8 --n 5000

The client is deliberately cheap because it shares the CPUs with the server: request
bodies are prebuilt, the 100 KB attachment is one shared buffer plus a unique 64-byte
head per submission, and each thread keeps one raw keep-alive socket.

Not part of the test suite (too slow); ``--quick`` is what a smoke test may call.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORM_ID = "bench"
FORM_VERSION = "1"
ATTACHMENT_NAME = "photo1.jpg"
ATTACHMENT_BYTES = 100 * 1024
UNIQUE_HEAD = 64  # bytes of each attachment that differ between submissions
RESEND_SHARE = 0.2
SOCKET_TIMEOUT = 60.0
MAX_ERRORS = 100  # a run stops early after this many failed requests
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/{name}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- payloads


def _factories():  # type: ignore[no-untyped-def]
    """tests/factories.py: the same form and instance XML the test suite uses."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import factories

    return factories


def instance_xml(instance_id: str, photo: str | None) -> bytes:
    fields = {"village": "Bản A Ur", "total": str(random.randint(0, 99))}
    if photo:
        fields["photo1"] = photo
    return _factories().submission_xml(
        FORM_ID, FORM_VERSION, instance_id=instance_id, fields=fields
    )


@dataclass(slots=True)
class Request:
    """One prebuilt POST: sent as ``head`` (+ ``shared`` + ``tail`` with a file)."""

    head: bytes
    shared: memoryview | None = None
    tail: bytes = b""


class Payloads:
    """Prebuilds multipart POSTs; the attachment body is shared except its head."""

    def __init__(self, host: str, path: str) -> None:
        self.host = host
        self.path = path
        rnd = random.Random(1234)
        self.shared = memoryview(rnd.randbytes(ATTACHMENT_BYTES - UNIQUE_HEAD))

    def build(self, with_attachment: bool) -> Request:
        instance_id = f"uuid:{uuid.uuid4()}"
        xml = instance_xml(instance_id, ATTACHMENT_NAME if with_attachment else None)
        b = str(uuid.uuid4())  # a fresh boundary per request, as Collect's OkHttp does
        body = (
            (
                f'--{b}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
                f'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n'
            ).encode()
            + xml
            + b"\r\n"
        )
        tail = f"--{b}--\r\n".encode()
        shared = None
        if with_attachment:
            body += (
                f'--{b}\r\nContent-Disposition: form-data; name="{ATTACHMENT_NAME}"; '
                f'filename="{ATTACHMENT_NAME}"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            body += instance_id.encode().ljust(UNIQUE_HEAD, b"#")[:UNIQUE_HEAD]
            shared = self.shared
            tail = b"\r\n" + tail
        length = len(body) + len(tail) + (len(shared) if shared is not None else 0)
        headers = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"X-OpenRosa-Version: 1.0\r\nUser-Agent: outreach-bench/1\r\n"
            f"Content-Type: multipart/form-data; boundary={b}\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()
        if shared is None:
            return Request(headers + body + tail)
        return Request(headers + body, shared, tail)


# --------------------------------------------------------------------------- client


class Connection:
    """One keep-alive HTTP/1.1 connection over a raw socket (minimal parser)."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=SOCKET_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buf = sock, b""
        return sock

    def _recv(self) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("server closed the connection")
        return chunk

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            self.buf += self._recv()
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buf) < size:
            self.buf += self._recv()
        data, self.buf = self.buf[:size], self.buf[size:]
        return data

    def request(self, req: Request) -> tuple[int, bytes]:
        """Send one request; retry once on a stale keep-alive socket."""
        for attempt in (0, 1):
            fresh = self.sock is None
            sock = self.sock or self._connect()
            try:
                sock.sendall(req.head)
                if req.shared is not None:
                    sock.sendall(req.shared)
                    sock.sendall(req.tail)
                return self._response()
            except (ConnectionResetError, BrokenPipeError):
                self.close()
                if fresh or attempt:
                    raise
        raise AssertionError("unreachable")

    def _response(self) -> tuple[int, bytes]:
        head = self._read_until(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif chunked:
            body = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                body += self._read_exactly(size)
                self._read_exactly(2)
        elif length is not None:
            body = self._read_exactly(length)
        else:  # body ends when the server closes
            body = self.buf
            while True:
                try:
                    body += self._recv()
                except ConnectionResetError:
                    break
            close = True
        if close:
            self.close()
        return status, body


@dataclass
class RunResult:
    db: str
    state: str
    rows_before: int
    payload: str
    concurrency: int
    requests: int
    new: int
    resends: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    stored_ok: bool
    server_cpu_ms: float  # per request, gunicorn master + workers
    db_cpu_ms: float  # per request, every postgres process (0 on SQLite)
    client_cpu_ms: float  # per request, this process
    machine_busy: float  # share of all CPUs busy during the run
    other_busy: float  # share of all CPUs used by anything but server, our PG, client
    cpu_ceiling: float  # nproc / (server + PG CPU per request): rate on idle CPUs
    pg_connects: int  # new PostgreSQL sessions during the run (pool churn)
    fs_create_us: float  # µs to create an empty file in the data folder, before the run
    error_samples: list[str] = field(default_factory=list)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def schedule(n: int, concurrency: int, share: float, seed: int) -> list[int]:
    """Indices of the prebuilt new submissions in send order, with exact resends.

    Each resend repeats a submission sent at least ``2 * concurrency + 8`` positions
    earlier, so it is (almost always) already stored: the Collect retry case.
    """
    rnd = random.Random(seed)
    resends = int(round(n * share))
    every = n / resends if resends else math.inf
    lag = 2 * concurrency + 8
    order: list[int] = []
    due = 0.0
    pending = 0
    for i in range(n):
        order.append(i)
        due += 1
        while due >= every:
            due -= every
            pending += 1
        while pending and i >= lag:
            order.append(rnd.randrange(0, i - lag + 1))
            pending -= 1
    while pending and n:
        order.append(rnd.randrange(0, n))
        pending -= 1
    return order


def send_all(
    host: str,
    port: int,
    requests: list[Request],
    order: list[int],
    concurrency: int,
    deadline: float,
) -> tuple[list[float], list[str], float]:
    """POST ``requests[order[k]]`` for every k from ``concurrency`` threads."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    position = iter(order)
    start_gate = threading.Barrier(concurrency + 1)
    stop = threading.Event()

    def worker() -> None:
        conn = Connection(host, port)
        try:
            start_gate.wait(timeout=30)
            while not stop.is_set():
                with lock:
                    index = next(position, None)
                if index is None or time.monotonic() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    status, body = conn.request(requests[index])
                except OSError as err:
                    conn.close()
                    status, body = -1, f"{type(err).__name__}: {err}".encode()
                elapsed = time.perf_counter() - t0
                if status == 201:
                    latencies.append(elapsed)
                else:
                    errors.append(f"{status} {body[:300]!r}")
                    if len(errors) >= MAX_ERRORS:
                        stop.set()
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start_gate.wait(timeout=30)
    t0 = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + SOCKET_TIMEOUT))
    wall = time.perf_counter() - t0
    if any(thread.is_alive() for thread in threads):
        stop.set()
        errors.append("run did not finish before its deadline")
    if time.monotonic() > deadline and len(latencies) + len(errors) < len(order):
        errors.append(
            f"deadline: only {len(latencies) + len(errors)} of {len(order)} sent"
        )
    return latencies, errors, wall


# --------------------------------------------------------------------------- CPU use


def _proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _ppid_comm(pid: int) -> tuple[int, str]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return -1, ""
    comm = raw[raw.index(b"(") + 1 : raw.rindex(b")")].decode(errors="replace")
    return int(raw.rsplit(b")", 1)[1].split()[1]), comm


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CpuMeter:
    """CPU used during a run by the server process tree, by our PostgreSQL backends
    (plus the shared auxiliary ones: WAL writer, checkpointer...), by this process, by
    the whole machine.

    A thread samples /proc every ``interval`` seconds and adds up per-process deltas,
    so backends the connection pool opens and closes mid-run are counted too (only a
    backend born and gone within one interval is missed).
    """

    def __init__(
        self, server_pid: int | None, pg_db: str | None, interval: float = 0.25
    ) -> None:
        self.server_pid = server_pid
        self.pg_db = pg_db
        self.interval = interval
        self.tick = os.sysconf("SC_CLK_TCK")
        self.group: dict[int, str | None] = {}  # pid -> "server" | "pg" | None
        self.last: dict[int, int] = {}
        self.used = {"server": 0, "pg": 0}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.first = True

    def _classify(self, pid: int) -> str | None:
        ppid, comm = _ppid_comm(pid)
        if self.server_pid is not None and self.server_pid in (pid, ppid):
            return "server"
        if self.pg_db and comm == "postgres":
            title = _cmdline(pid)
            if title.startswith("postgres: ") and (
                f" {self.pg_db} " in title
                or ("(" not in title and "[local]" not in title)  # auxiliary
            ):
                return "pg"
        return None

    def _sample(self) -> None:
        alive = set(_pids())
        for pid in alive:
            if pid not in self.group:
                self.group[pid] = self._classify(pid)
            group = self.group[pid]
            if group is None:
                continue
            ticks = _proc_ticks(pid)
            before = self.last.get(pid)
            if before is None:  # baseline at start; born during the run: all of it
                before = ticks if self.first else 0
            self.used[group] += max(0, ticks - before)
            self.last[pid] = ticks
        for pid in list(self.group):
            if pid not in alive:
                self.group.pop(pid)
                self.last.pop(pid, None)
        self.first = False

    def _loop(self) -> None:
        while not self.stop_event.wait(self.interval):
            self._sample()

    @staticmethod
    def _machine() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            cpu = [int(x) for x in fh.readline().split()[1:]]
        return sum(cpu[:8]), cpu[3] + cpu[4]

    def start(self) -> None:
        self._sample()
        self.t0 = (self._machine(), time.process_time())
        self.thread.start()

    def stop(self) -> dict[str, float]:
        self.stop_event.set()
        self.thread.join(timeout=10)
        self._sample()
        (total0, idle0), client0 = self.t0
        total1, idle1 = self._machine()
        return {
            "server": self.used["server"] / self.tick,
            "pg": self.used["pg"] / self.tick,
            "client": time.process_time() - client0,
            "total": (total1 - total0) / self.tick,
            "idle": (idle1 - idle0) / self.tick,
        }


def busy_share(seconds: float) -> float:
    """Share of all CPUs busy over the next ``seconds``."""

    def read() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            cpu = [int(x) for x in fh.readline().split()[1:]]
        return sum(cpu[:8]), cpu[3] + cpu[4]

    total0, idle0 = read()
    time.sleep(seconds)
    total1, idle1 = read()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_idle(limit: float, threshold: float = 0.10) -> None:
    """Wait (at most ``limit`` seconds) until other work leaves the CPUs alone."""
    if limit <= 0:
        return
    deadline = time.monotonic() + limit
    share = busy_share(2.0)
    while share > threshold and time.monotonic() < deadline:
        log(f"machine {share:.0%} busy with other work; waiting")
        share = busy_share(5.0)


def fs_create_us(folder: Path, count: int = 100) -> float:
    """Microseconds to create one empty file in ``folder`` (the files are kept).

    What a new attachment's temp file costs the server's kernel. On ext4 it is not
    constant: for minutes after many files were deleted nearby (the previous
    benchmark's clean-up deletes thousands), each create walks past the recently
    freed inodes and costs 10 to 40 times more. Nothing is deleted here, so probing
    does not cause what it measures.
    """
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for _ in range(count):
        fd = os.open(
            folder / secrets.token_hex(8), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600
        )
        os.close(fd)
    return (time.perf_counter() - start) / count * 1e6


def wait_fs(folder: Path, limit: float, threshold_us: float = 60.0) -> float:
    """Wait (at most ``limit`` seconds) until file creates in ``folder`` are cheap."""
    deadline = time.monotonic() + max(0.0, limit)
    cost = fs_create_us(folder)
    while cost > threshold_us and time.monotonic() < deadline:
        log(f"file creates cost {cost:.0f} µs (recent deletes nearby); waiting")
        time.sleep(10)
        cost = fs_create_us(folder)
    return round(cost, 1)


# --------------------------------------------------------------------------- databases


class Database:
    """A throwaway database: a SQLite file in the temp folder or a PostgreSQL db."""

    def __init__(self, kind: str, workdir: Path, pg_name: str) -> None:
        self.kind = kind
        self.pg_name = pg_name
        self.sqlite_path = workdir / "bench.sqlite"

    @property
    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return PG_URL.format(name=self.pg_name)

    def _admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(PG_ADMIN, autocommit=True)

    def create(self) -> None:
        if self.kind == "postgres":
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')

    def drop(self) -> None:
        if self.kind == "postgres":
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    def query(self, sql: str) -> list[tuple]:
        if self.kind == "sqlite":
            conn = sqlite3.connect(
                f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=30
            )
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchall()

    def counts(self) -> dict[str, int]:
        connects = "0"
        if self.kind == "postgres":  # approximate: PostgreSQL flushes stats lazily
            connects = (
                "(SELECT sessions FROM pg_stat_database"
                " WHERE datname = current_database())"
            )
        row = self.query(
            "SELECT (SELECT count(*) FROM submissions),"
            " (SELECT count(*) FROM submission_defs),"
            " (SELECT count(*) FROM submission_attachments WHERE blob_sha IS NOT NULL),"
            " (SELECT count(*) FROM audits WHERE action = 'submission.create'),"
            f" {connects}"
        )[0]
        keys = ("submissions", "defs", "attachments", "audits", "connects")
        return dict(zip(keys, row, strict=True))

    def settle(self) -> None:
        """After a bulk preload: VACUUM ANALYZE (PostgreSQL) / checkpoint the WAL."""
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        else:
            conn = sqlite3.connect(self.sqlite_path, timeout=30)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()


# --------------------------------------------------------------------------- server


def outreach_bin() -> str:
    candidate = Path(sys.executable).parent / "outreach"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("outreach")
    if not found:
        sys.exit("cannot find the `outreach` command; run with .venv/bin/python")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bench:
    """Temp folder, database, CLI set-up and one ``outreach serve`` for one database."""

    def __init__(self, kind: str, args: argparse.Namespace) -> None:
        self.kind = kind
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix=f"outreach-bench-{kind}-"))
        self.db = Database(kind, self.workdir, args.pg_db)
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=self.db.url,
            OUTREACH_DATA_DIR=str(self.workdir / "data"),
            SECRET_KEY=secrets.token_hex(32),
            XLSFORMS_DIR=str(self.workdir / "xlsforms"),  # empty: publish nothing else
        )
        for key in ("FLASK_APP", "FLASK_DEBUG", "PUBLIC_URL"):
            self.env.pop(key, None)
        (self.workdir / "xlsforms").mkdir()
        self.server: subprocess.Popen[bytes] | None = None
        self.server_log = self.workdir / "serve.log"
        self.port = 0
        self.project_id = 0
        self.token = ""

    # -- set-up through the CLI, as an operator would
    def cli(self, *argv: str, timeout: float = 120) -> str:
        proc = subprocess.run(
            [outreach_bin(), *argv],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"outreach {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
            )
        return proc.stdout

    def setup(self) -> None:
        self.db.create()
        self.cli("db", "upgrade")
        self.project_id = int(
            self.cli("project-create", "Bench").strip().splitlines()[-1]
        )
        form = self.workdir / f"{FORM_ID}.xml"
        form.write_bytes(_factories().xform(FORM_ID, FORM_VERSION, "Bench"))
        self.cli("forms", "publish", str(form), "--project", str(self.project_id))
        out = self.cli(
            "app-user-create", "bench-phone", "--project", str(self.project_id)
        )
        for line in out.splitlines():
            if "/v1/key/" in line:
                self.token = line.strip().split("/v1/key/", 1)[1].split("/", 1)[0]
                break
        if not self.token:
            raise RuntimeError(
                f"no app-user URL in the output of app-user-create:\n{out}"
            )

    @property
    def submission_path(self) -> str:
        return f"/v1/key/{self.token}/projects/{self.project_id}/submission"

    def start(self) -> None:
        self.port = free_port()
        argv = [
            outreach_bin(),
            "serve",
            "--bind",
            f"127.0.0.1:{self.port}",
        ]
        if self.args.workers is not None:
            argv += ["--workers", str(self.args.workers)]
        if self.args.threads is not None:
            argv += ["--threads", str(self.args.threads)]
        log(f"{self.kind}: {' '.join(argv[1:])}")
        with open(self.server_log, "wb") as out:
            self.server = subprocess.Popen(
                argv,
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(
                    f"server exited:\n{self.server_log.read_text()[-3000:]}"
                )
            try:
                conn = Connection("127.0.0.1", self.port)
                conn._connect()
                head = (
                    f"GET {self.submission_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"X-OpenRosa-Version: 1.0\r\n\r\n"
                ).encode()
                status, _ = conn.request(Request(head))
                conn.close()
                if status == 204:
                    return
                raise RuntimeError(f"HEAD preflight answered {status}")
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not answer within 60 s")

    def stop(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)  # our own session only
            self.server.wait(timeout=10)

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            try:
                self.db.drop()
            finally:
                if not self.args.keep:
                    shutil.rmtree(self.workdir, ignore_errors=True)

    # -- load
    def run(
        self,
        state: str,
        with_attachment: bool,
        concurrency: int,
        n: int,
        record: bool = True,
    ) -> RunResult:
        assert self.server is not None
        payloads = Payloads(f"127.0.0.1:{self.port}", self.submission_path)
        requests = [payloads.build(with_attachment) for _ in range(n)]
        share = RESEND_SHARE if record else 0.0
        order = schedule(n, concurrency, share, seed=concurrency)
        before = self.db.counts()
        meter = CpuMeter(
            self.server.pid, self.args.pg_db if self.kind == "postgres" else None
        )
        fs_us = wait_fs(self.workdir / "data" / "fs-probe", self.args.wait_fs)
        wait_idle(self.args.wait_idle)
        meter.start()
        deadline = time.monotonic() + self.args.run_timeout
        latencies, errors, wall = send_all(
            "127.0.0.1", self.port, requests, order, concurrency, deadline
        )
        cpu = meter.stop()
        after = self.db.counts()
        expected = {
            "submissions": n,
            "defs": n,
            "attachments": n if with_attachment else 0,
            "audits": n,
        }
        stored_ok = all(after[k] - before[k] == v for k, v in expected.items())
        if not stored_ok:
            errors.append(
                f"stored rows: before {before}, after {after}, expected +{expected}"
            )
        latencies.sort()
        count = len(order)
        total = cpu["total"]
        busy = total - cpu["idle"]
        used = cpu["server"] + cpu["pg"] + cpu["client"]
        server_db = cpu["server"] + cpu["pg"]
        result = RunResult(
            db=self.kind,
            state=state,
            rows_before=before["submissions"],
            payload="100 KB" if with_attachment else "none",
            concurrency=concurrency,
            requests=count,
            new=n,
            resends=count - n,
            seconds=round(wall, 3),
            per_second=round(count / wall, 1) if wall else 0.0,
            p50_ms=round(percentile(latencies, 0.50) * 1000, 1),
            p95_ms=round(percentile(latencies, 0.95) * 1000, 1),
            p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
            max_ms=round((latencies[-1] if latencies else float("nan")) * 1000, 1),
            errors=count - len(latencies) + (0 if stored_ok else 1),
            stored_ok=stored_ok,
            server_cpu_ms=round(cpu["server"] * 1000 / count, 2),
            db_cpu_ms=round(cpu["pg"] * 1000 / count, 2),
            client_cpu_ms=round(cpu["client"] * 1000 / count, 2),
            machine_busy=round(busy / total, 3) if total else 0.0,
            pg_connects=after["connects"] - before["connects"] - 1
            if self.kind == "postgres"
            else 0,
            other_busy=round(max(0.0, busy - used) / total, 3) if total else 0.0,
            cpu_ceiling=round((os.cpu_count() or 1) * count / server_db, 0)
            if server_db > 0
            else 0.0,
            fs_create_us=fs_us,
            error_samples=errors[:5],
        )
        if record:
            log(
                f"{self.kind} {state:>5} rows={result.rows_before:<6} "
                f"payload={result.payload:<6} c={concurrency:<3} "
                f"{result.per_second:7.1f}/s p50={result.p50_ms}ms "
                f"p95={result.p95_ms}ms "
                f"errors={result.errors} srv={result.server_cpu_ms}ms "
                f"pg={result.db_cpu_ms}ms busy={result.machine_busy:.0%} "
                f"other={result.other_busy:.0%} fs={fs_us:.0f}µs"
            )
            for sample in errors[:5]:
                log(f"  error: {sample}")
        return result

    def preload(self, target: int) -> None:
        """Bring the stored submissions up to ``target`` rows (see --preload-method)."""
        have = self.db.counts()["submissions"]
        missing = target - have
        if missing <= 0:
            return
        t0 = time.monotonic()
        method = self.args.preload_method
        if method == "inproc":
            proc = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--preload-child",
                    str(missing),
                    "--project-id",
                    str(self.project_id),
                ],
                cwd=self.workdir,
                env=self.env,
                timeout=3600,
                check=False,
            )
            if proc.returncode != 0:
                log("in-process preload failed (see above), falling back to HTTP")
                method = "http"
        if method == "http":
            self._preload_http(target - self.db.counts()["submissions"])
        self.db.settle()
        got = self.db.counts()["submissions"]
        log(
            f"{self.kind}: preloaded {got - have} submissions via {method} "
            f"in {time.monotonic() - t0:.0f} s (now {got})"
        )
        if got != target:
            raise RuntimeError(f"preload stored {got} submissions, wanted {target}")

    def _preload_http(self, missing: int) -> None:
        payloads = Payloads(f"127.0.0.1:{self.port}", self.submission_path)
        while missing > 0:
            batch = min(missing, 5000)
            requests = [payloads.build(False) for _ in range(batch)]
            deadline = time.monotonic() + 1800
            _lat, errors, _wall = send_all(
                "127.0.0.1", self.port, requests, list(range(batch)), 16, deadline
            )
            if errors:
                raise RuntimeError(f"preload over HTTP failed: {errors[:3]}")
            missing -= batch


def preload_child(count: int, project_id: int) -> None:
    """Runs inside the server's environment: store ``count`` submissions through
    ``server.ingest.ingest`` (the code path POST /submission uses, minus HTTP), one
    commit each. Every fifth one carries a distinct 2 KB photo1.jpg."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from server import create_app, ingest
    from server.db import db
    from server.models import FieldKey

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":

            @sa.event.listens_for(db.engine, "connect")
            def _async_commit(dbapi_connection, _record):  # type: ignore[no-untyped-def]
                with dbapi_connection.cursor() as cursor:  # bulk load only
                    cursor.execute("SET synchronous_commit TO off")

        actor_id = db.session.execute(
            sa.select(FieldKey.actor_id).where(FieldKey.project_id == project_id)
        ).scalar()
        form = ingest.find_form(project_id, FORM_ID)
        rnd = random.Random(99)
        t0 = time.monotonic()
        for i in range(count):
            photo = ATTACHMENT_NAME if i % 5 == 0 else None
            instance_id = f"uuid:{uuid.uuid4()}"
            xml = instance_xml(instance_id, photo)
            parts = []
            if photo:
                data = instance_id.encode() + rnd.randbytes(2048)
                parts = [(photo, _Part(io.BytesIO(data), photo, "image/jpeg"))]
            ingest.ingest(
                project_id,
                form,
                ingest.parse(xml),
                xml,
                parts,
                actor_id=actor_id,
                device_id="bench-preload",
                user_agent="outreach-bench/1",
            )
            if (i + 1) % 10000 == 0:
                rate = (i + 1) / (time.monotonic() - t0)
                print(f"preloaded {i + 1}/{count} ({rate:.0f}/s)", file=sys.stderr)


@dataclass
class _Part:
    """A file part as ``server.ingest`` takes it (``server.multipart.SpooledPart``)."""

    stream: io.BytesIO
    filename: str | None
    content_type: str | None

    def keep(self):  # type: ignore[no-untyped-def]
        from server import blobs

        return blobs.write_stream(self.stream)


# --------------------------------------------------------------------------- report

COLUMNS = [
    ("db", "db"),
    ("rows before", "rows_before"),
    ("payload", "payload"),
    ("concurrency", "concurrency"),
    ("requests", "requests"),
    ("submissions/s", "per_second"),
    ("p50 ms", "p50_ms"),
    ("p95 ms", "p95_ms"),
    ("p99 ms", "p99_ms"),
    ("errors", "errors"),
    ("server CPU ms/req", "server_cpu_ms"),
    ("PG CPU ms/req", "db_cpu_ms"),
    ("client CPU ms/req", "client_cpu_ms"),
    ("CPU busy", "machine_busy"),
    ("other CPU", "other_busy"),
    ("CPU ceiling/s", "cpu_ceiling"),
    ("PG connects", "pg_connects"),
    ("file create µs", "fs_create_us"),
]


def table(results: list[RunResult]) -> str:
    lines = [
        "| " + " | ".join(title for title, _ in COLUMNS) + " |",
        "|"
        + "|".join(
            "---:" if key not in {"db", "payload"} else "---" for _, key in COLUMNS
        )
        + "|",
    ]
    for r in results:
        cells = []
        for _, key in COLUMNS:
            value = getattr(r, key)
            if key in {"machine_busy", "other_busy"}:
                value = f"{value:.0%}"
            elif key in {"db_cpu_ms", "pg_connects"} and r.db == "sqlite":
                value = "–"
            elif key == "rows_before":
                value = f"{value:,}"
            cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    info = {
        "nproc": str(os.cpu_count()),
        "python": sys.version.split()[0],
        "cpu": "",
    }
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu"] = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in fh
                    if line.startswith("model name")
                ),
                "",
            )
    except OSError:
        pass
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN) as conn:
            info["postgres"] = str(conn.execute("SHOW server_version").fetchone()[0])
    except Exception as err:  # noqa: BLE001 - informational only
        info["postgres"] = f"unavailable ({type(err).__name__})"
    info["sqlite"] = sqlite3.sqlite_version
    try:
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "server", "sync"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        info["commit"] = head + (" (server/sync modified)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        info["commit"] = "unknown"
    return info


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument(
        "--concurrency",
        default="1,8,32",
        help="comma-separated client concurrencies (default 1,8,32)",
    )
    p.add_argument("--n", type=int, default=2000, help="new submissions per run")
    p.add_argument(
        "--preload",
        type=int,
        default=50000,
        help="stored submissions for the second database state (0: skip)",
    )
    p.add_argument(
        "--preload-method",
        choices=["inproc", "http"],
        default="inproc",
        help="inproc: server.ingest.ingest() in a child process; "
        "http: POST through the server at concurrency 16",
    )
    p.add_argument("--payload", choices=["none", "attachment", "both"], default="both")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn workers (default: outreach serve's own, the number of CPUs)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per worker (default: outreach serve's default)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=50,
        help="submissions per payload sent before measuring (stored too)",
    )
    p.add_argument(
        "--run-timeout",
        type=float,
        default=900,
        help="seconds one run may take before it is cut short",
    )
    p.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each run wait up to SECONDS for the CPUs to be < 10%% "
        "busy (other processes skew results; see the 'other CPU' column)",
    )
    p.add_argument(
        "--wait-fs",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each run wait up to SECONDS for file creates in the data "
        "folder to cost < 60 µs (after many deletes, as a previous run's clean-up, "
        "ext4 creates cost up to 40 times more for minutes; see 'file create µs')",
    )
    p.add_argument(
        "--pg-db",
        default="bench_ingest",
        help="PostgreSQL database to create and drop (default bench_ingest)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: n=100, preload 500, concurrency 1,8, warmup 10",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp folder")
    p.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results",
        help="folder for the JSON + markdown results (gitignored)",
    )
    p.add_argument("--preload-child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--project-id", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.preload, args.warmup = 100, 500, 10
        if args.concurrency == "1,8,32":
            args.concurrency = "1,8"
    args.levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    if args.n < 1 or not args.levels or min(args.levels) < 1:
        p.error("--n and every --concurrency must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the server, temp files and databases are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.preload_child is not None:
        preload_child(args.preload_child, args.project_id)
        return 0
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    payloads = {"none": [False], "attachment": [True], "both": [False, True]}[
        args.payload
    ]
    states = [("empty", 0)] + ([("large", args.preload)] if args.preload > 0 else [])
    results: list[RunResult] = []
    started = time.time()
    info = machine()
    for kind in kinds:
        bench = Bench(kind, args)
        try:
            log(f"{kind}: set-up in {bench.workdir}")
            bench.setup()
            bench.start()
            for with_attachment in payloads:
                bench.run("warmup", with_attachment, 8, args.warmup, record=False)
            for state, rows in states:
                if rows:
                    bench.preload(rows)
                for with_attachment in payloads:
                    for level in args.levels:
                        results.append(bench.run(state, with_attachment, level, args.n))
        finally:
            bench.cleanup()
    command = "python bench/ingest.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    text = (
        f"{command.strip()}\n\nmachine: {info}\nworkers: {args.workers or 'serve default (CPUs)'}, threads: "
        f"{args.threads or 'serve default'}\n\n{table(results)}\n"
    )
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    (args.out / f"ingest-{stamp}.md").write_text(text)
    (args.out / f"ingest-{stamp}.json").write_text(
        json.dumps(
            {
                "command": command,
                "machine": info,
                "args": {
                    k: (str(v) if isinstance(v, Path) else v)
                    for k, v in vars(args).items()
                },
                "results": [asdict(r) for r in results],
            },
            indent=2,
        )
    )
    failed = [r for r in results if r.errors or not r.stored_ok]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
