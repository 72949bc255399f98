"""A PgBouncer in transaction pooling mode in front of the test PostgreSQL.

- ``pgbouncer`` (module): starts Debian's ``pgbouncer`` binary on a free
  port with a temporary configuration (``pool_mode = transaction``, trust
  authentication, two server connections so consecutive transactions really
  change server sessions, and a server time zone other than UTC), and stops
  it after the module. Skips when the binary is not installed, or fails the test
  when ``ORM_REQUIRE_PGBOUNCER=1`` (CI, after installing it); skips or fails
  like every PostgreSQL test when ``ORM_TEST_POSTGRES_URL`` is not set.
- ``bouncer``: orm configured through it with ``pgbouncer=transaction`` and
  the ``pgbouncertests`` tables created (dropped again at teardown through a
  direct connection).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import orm
from tests.conftest import (
    PG_URL_ENV,
    admin_connect,
    postgres_unavailable,
    postgres_url,
)
from tests.pgbouncer.models import ALL_MODELS, TABLES

REQUIRE_PGBOUNCER_ENV = "ORM_REQUIRE_PGBOUNCER"
#: Server connections PgBouncer opens per database and user: more than one, so
#: a client's consecutive transactions may run on different server sessions.
SERVER_POOL_SIZE = 2
#: The time zone of the server sessions PgBouncer opens (orm must still see UTC).
SERVER_TIME_ZONE = "America/New_York"
_START_TIMEOUT = 10.0
#: application_name of orm's connections through the bouncer. Not the harness's
#: ORM_APPLICATION_NAME: PgBouncer gives it to its server sessions, which the
#: leak checks of other tests would count as connections orm left open.
APPLICATION_NAME = f"orm-tests-pgbouncer-{os.getpid()}"


@dataclass(frozen=True)
class Bouncer:
    """A running PgBouncer: where it listens and the server URL behind it."""

    host: str
    port: int
    server_url: str

    def url(self, query: str = "pgbouncer=transaction") -> str:
        """The server URL with PgBouncer's address, ``query`` as its options."""
        parts = urlsplit(self.server_url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{self.host}:{self.port}" if userinfo else f"{self.host}:{self.port}"
        return parts._replace(netloc=netloc, query=query).geturl()


def _binary() -> str:
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        reason = "the pgbouncer binary is not installed (apt-get install -y pgbouncer)"
        if os.environ.get(REQUIRE_PGBOUNCER_ENV) == "1":
            pytest.fail(f"{reason}, but {REQUIRE_PGBOUNCER_ENV}=1", pytrace=False)
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_config(folder: Path, server_url: str, port: int) -> Path:
    parts = urlsplit(server_url)
    user = parts.username or "postgres"
    password = parts.password or ""
    server = f"host={parts.hostname or '127.0.0.1'} port={parts.port or 5432}"
    (folder / "users.txt").write_text(f'"{user}" "{password}"\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = {server} timezone={SERVER_TIME_ZONE}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {SERVER_POOL_SIZE}\n"
        "max_client_conn = 200\n"
        # What users add when libpq's 'options' is refused: it is then dropped,
        # so orm must not rely on it.
        "ignore_startup_parameters = options\n"
    )
    for path in (folder, folder / "users.txt", config):
        # PgBouncer refuses to run as root; it reads these as the user it becomes.
        path.chmod(0o755 if path.is_dir() else 0o644)
    return config


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited at start:\n{log.read_text()}", pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"pgbouncer did not listen on port {port}:\n{log.read_text()}", pytrace=False)


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[Bouncer]:
    """A PgBouncer in transaction mode in front of ``ORM_TEST_POSTGRES_URL``, for one module.

    Stopping it closes its server sessions, so none outlives the module.
    """
    server_url = postgres_url()
    if server_url is None:
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    binary = _binary()
    folder = Path(tempfile.mkdtemp(prefix="orm-pgbouncer-"))
    port = _free_port()
    config = _write_config(folder, server_url, port)
    command = [binary, str(config)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", pwd.getpwnam("nobody").pw_name]
    log = folder / "pgbouncer.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_listening(process, port, log)
        yield Bouncer("127.0.0.1", port, server_url)
    finally:
        process.terminate()  # SIGTERM: PgBouncer closes its connections and exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _drop_tables(server_url: str) -> None:
    admin = admin_connect(server_url)
    try:
        for table in TABLES:
            admin.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    finally:
        admin.close()


def configure_through(bouncer: Bouncer, query: str = "pgbouncer=transaction") -> None:
    """Point orm's ``default`` alias at the bouncer with the URL options ``query``."""
    orm.connections.close_all()
    orm.configure(bouncer.url(f"{query}&application_name={APPLICATION_NAME}"))


@pytest.fixture
def bouncer(pgbouncer: Bouncer) -> Iterator[Bouncer]:
    """orm configured through PgBouncer with ``pgbouncer=transaction``; the tables exist."""
    _drop_tables(pgbouncer.server_url)
    # health_check_after=0: every use first checks the connection through the bouncer.
    configure_through(pgbouncer, "pgbouncer=transaction&pool_max_size=8&health_check_after=0")
    try:
        orm.create_tables(*ALL_MODELS)
        yield pgbouncer
    finally:
        orm.connections.close_all()
        _drop_tables(pgbouncer.server_url)
