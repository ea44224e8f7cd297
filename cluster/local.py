"""The production shape on this machine, loopback only: PostgreSQL, Redis, Rasa replicas with their
action servers, and nginx in front (docs/deployment.md).

    python -m cluster up       # make cluster
    python -m cluster down     # make cluster-down
    python -m cluster status
    python -m cluster reload     # make cluster-reload: every replica takes the newly trained model

`up` installs the Debian packages postgresql, redis-server and nginx when they are missing (as
root, with apt-get), then starts, each with its own files under var/cluster/ (data, config, pid
and log files):
- PostgreSQL on 127.0.0.1:5433 (initdb as the postgres user the first time; database and role
  `rasa`); conversations survive `down` and `up` in var/cluster/postgres/data;
- Redis on 127.0.0.1:6380 (password, no persistence: it only holds conversation locks);
- N Rasa replicas (default 2) on 127.0.0.1:5006, 5007..., each with its own action server on
  127.0.0.1:5056, 5057..., with ENDPOINTS=endpoints.production.yml; each replica starts only if
  the model's sha256 matches the one recorded at training. Each replica (its Rasa server and
  action server) runs under its own supervisor, `python -m server run` with PARTS=actions,rasa
  (server/supervisor.py), which starts a part that stops again, with back-off;
- nginx on 127.0.0.1:8000 (config rendered from deploy/nginx.conf.template), balancing REST and
  the social webhooks round robin and socket.io by client address;
and waits until every part answers. `down` stops what `up` started, and only that: each process
is found through its pid file and checked to be the process that was started (a replica's
supervisor also by its RUN_DIR).

Settings (environment): CLUSTER_DIR (var/cluster), CLUSTER_REPLICAS (2), CLUSTER_PORT (8000),
CLUSTER_PG_PORT (5433), CLUSTER_REDIS_PORT (6380), CLUSTER_RASA_PORT (5006, then +1 per replica),
CLUSTER_ACTION_PORT (5056, +1), RASA_MODEL (models/assistant.tar.gz); nginx: NGINX_RATE (20r/s per
client address) and NGINX_BURST (40), NGINX_WEBHOOK_RATE (200r/s per platform address) and
NGINX_WEBHOOK_BURST (400), NGINX_MAX_BODY (64k; NGINX_WEBHOOK_MAX_BODY 1m for the platforms'
batched webhook calls). Secrets: TRACKER_STORE_PASSWORD,
REDIS_PASSWORD and RASA_RELOAD_TOKEN are taken from the environment, or generated once into
var/cluster/secrets.env (mode 0600). Everything else in the environment (SOCKETIO_CORS_ORIGINS,
the social channels' secrets, RASA_ENABLE_API, RASA_JWT_SECRET, RASA_CORS_ORIGINS...) is passed
to the replicas as it is.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from channels.refusal import REFUSED_STATUSES, REQUEST_MAX_BYTES, refusal_reply
from cluster.packages import ensure_packages, nginx_binary, postgres_bin, redis_binary
from cluster.processes import (
    ClusterError,
    as_user,
    give_to,
    http_ok,
    is_root,
    log,
    ours,
    port_free,
    read_pid,
    stop_pid,
    user_exists,
    wait_for,
    wait_stopped,
)
from core.model_integrity import ModelIntegrityError, verify
from server import commands
from server.settings import ROOT, environment

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
ENDPOINTS = "endpoints.production.yml"
PACKAGES = {"postgresql": "PostgreSQL", "redis-server": "Redis", "nginx": "nginx"}
DATABASE = "rasa"
DB_USER = "rasa"
START_TIMEOUT = 240.0
# nginx's limits when nothing is set (docs/deployment.md, "Rate limits and refusals").
DEFAULT_RATE, DEFAULT_BURST = "20r/s", 40
DEFAULT_WEBHOOK_RATE, DEFAULT_WEBHOOK_BURST = "200r/s", 400
DEFAULT_MAX_BODY, DEFAULT_WEBHOOK_MAX_BODY = "64k", "1m"
# Every status nginx itself may answer on the chat endpoints instead of an answer (494: headers
# too large). Each gets the assistant's own reply (refused.json); 404 is for paths that are not
# chat endpoints.
REFUSAL_STATUSES = " ".join(str(status) for status in REFUSED_STATUSES)


def render(template: str, values: Dict[str, str]) -> str:
    """Replace {{ name }} placeholders; every placeholder must have a value."""

    def value(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in values:
            raise ClusterError(f"{TEMPLATE.name}: no value for {{{{ {name} }}}}")
        return values[name]

    return re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", value, template)


def supervisor_command() -> List[str]:
    """A replica's supervisor: `python -m server run` (make run's), with PARTS=actions,rasa."""
    return [commands.PYTHON, "-m", "server", "run"]


def size_bytes(size: str) -> int:
    """An nginx size (64k, 1m, 2048) in bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)\s*", size)
    if not match:
        raise ClusterError(f"{size!r} is not a size nginx takes (e.g. 64k, 1m)")
    return int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")


def _int_env(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Cluster:
    directory: Path = field(default_factory=lambda: ROOT / (os.environ.get("CLUSTER_DIR") or "var/cluster"))
    port: int = field(default_factory=lambda: _int_env("CLUSTER_PORT", 8000))
    pg_port: int = field(default_factory=lambda: _int_env("CLUSTER_PG_PORT", 5433))
    redis_port: int = field(default_factory=lambda: _int_env("CLUSTER_REDIS_PORT", 6380))
    rasa_ports: List[int] = field(default_factory=list)
    action_ports: List[int] = field(default_factory=list)
    model: Path = field(default_factory=lambda: ROOT / (os.environ.get("RASA_MODEL") or "models/assistant.tar.gz"))
    rate: str = field(default_factory=lambda: os.environ.get("NGINX_RATE") or DEFAULT_RATE)
    burst: int = field(default_factory=lambda: _int_env("NGINX_BURST", DEFAULT_BURST))
    webhook_rate: str = field(default_factory=lambda: os.environ.get("NGINX_WEBHOOK_RATE") or DEFAULT_WEBHOOK_RATE)
    webhook_burst: int = field(default_factory=lambda: _int_env("NGINX_WEBHOOK_BURST", DEFAULT_WEBHOOK_BURST))
    max_body: str = field(default_factory=lambda: os.environ.get("NGINX_MAX_BODY") or DEFAULT_MAX_BODY)
    webhook_max_body: str = field(
        default_factory=lambda: os.environ.get("NGINX_WEBHOOK_MAX_BODY") or DEFAULT_WEBHOOK_MAX_BODY
    )
    env: Dict[str, str] = field(default_factory=dict)  # more environment for the replicas (tests)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory).resolve()
        replicas = _int_env("CLUSTER_REPLICAS", 2)
        if not self.rasa_ports:
            first = _int_env("CLUSTER_RASA_PORT", 5006)
            self.rasa_ports = [first + i for i in range(replicas)]
        if not self.action_ports:
            first = _int_env("CLUSTER_ACTION_PORT", 5056)
            self.action_ports = [first + i for i in range(len(self.rasa_ports))]
        if len(self.action_ports) != len(self.rasa_ports):
            raise ClusterError("one action server port per Rasa replica")

    # --- paths

    @property
    def replicas(self) -> int:
        return len(self.rasa_ports)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pg_dir(self) -> Path:
        return self.directory / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg_dir / "data"

    @property
    def pg_socket_dir(self) -> Path:
        return self.pg_dir / "socket"

    @property
    def redis_dir(self) -> Path:
        return self.directory / "redis"

    @property
    def nginx_dir(self) -> Path:
        return self.directory / "nginx"

    @property
    def nginx_conf(self) -> Path:
        return self.nginx_dir / "nginx.conf"

    @property
    def run_dir(self) -> Path:
        return self.directory / "run"

    @property
    def log_dir(self) -> Path:
        return self.directory / "logs"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    # --- secrets

    @property
    def secrets_file(self) -> Path:
        return self.directory / "secrets.env"

    def secrets(self) -> Dict[str, str]:
        """Secrets from the environment, else those generated for this cluster (once, mode 0600)."""
        stored: Dict[str, str] = {}
        if self.secrets_file.exists():
            for line in self.secrets_file.read_text().splitlines():
                name, _, value = line.partition("=")
                stored[name.strip()] = value.strip()
        values: Dict[str, str] = {}
        changed = False
        for name in ("TRACKER_STORE_PASSWORD", "REDIS_PASSWORD", "RASA_RELOAD_TOKEN"):
            value = self.env.get(name) or os.environ.get(name) or stored.get(name)
            if not value:
                value, changed = secrets.token_urlsafe(24), True
            values[name] = value
        if changed or not self.secrets_file.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            with os.fdopen(os.open(self.secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                handle.write("".join(f"{name}={value}\n" for name, value in values.items()))
        return values

    def database_url(self) -> str:
        return f"postgresql://{DB_USER}:{self.secrets()['TRACKER_STORE_PASSWORD']}@127.0.0.1:{self.pg_port}/{DATABASE}"

    # --- PostgreSQL

    def _pg(self, tool: str, *args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
        pg_bin = postgres_bin()
        if pg_bin is None:
            raise ClusterError("PostgreSQL is not installed")
        return subprocess.run(
            as_user("postgres", [str(pg_bin / tool), *args]),
            check=check,
            cwd="/",
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
            text=True,
        )

    def postgres_running(self) -> bool:
        pid = read_pid(self.pg_data / "postmaster.pid")
        return ours(pid, ["postgres", str(self.pg_data)])

    def init_postgres(self) -> None:
        if (self.pg_data / "PG_VERSION").exists():
            return
        log(f"initdb {self.pg_data}")
        for path in (self.pg_dir, self.pg_data, self.pg_socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
            give_to("postgres", path)
        self._pg(
            "initdb",
            "-D",
            str(self.pg_data),
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            capture=True,
        )

    def _write_postgres_settings(self) -> None:
        settings = self.pg_data / "conf.d-cluster.conf"
        settings.write_text(
            f"port = {self.pg_port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.pg_socket_dir}'\n"
            "password_encryption = 'scram-sha-256'\n"
            "max_connections = 100\n"
            "shared_buffers = 128MB\n"
        )
        give_to("postgres", settings)
        conf = self.pg_data / "postgresql.conf"
        include = f"include '{settings.name}'"
        if include not in conf.read_text():
            with open(conf, "a") as handle:
                handle.write(f"\n{include}\n")

    def start_postgres(self) -> None:
        self.init_postgres()
        self._write_postgres_settings()
        if self.postgres_running():
            log("PostgreSQL is already running")
        else:
            if not port_free(self.pg_port):
                raise ClusterError(f"port {self.pg_port} (PostgreSQL) is in use; set CLUSTER_PG_PORT")
            log(f"PostgreSQL on 127.0.0.1:{self.pg_port}")
            self._pg(
                "pg_ctl",
                "-D",
                str(self.pg_data),
                "-l",
                str(self.pg_dir / "postgres.log"),
                "-w",
                "-t",
                "60",
                "start",
                capture=True,
            )
        self._create_database()

    def _superuser(self):  # a psycopg2 connection as postgres, through the cluster's own socket
        import psycopg2

        connection = psycopg2.connect(
            host=str(self.pg_socket_dir), port=self.pg_port, user="postgres", dbname="postgres"
        )
        connection.autocommit = True
        return connection

    def _create_database(self) -> None:
        password = self.secrets()["TRACKER_STORE_PASSWORD"]
        connection = self._superuser()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DB_USER,))
                verb = "ALTER" if cursor.fetchone() else "CREATE"
                cursor.execute(f"{verb} ROLE {DB_USER} LOGIN PASSWORD %s", (password,))
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if not cursor.fetchone():
                    cursor.execute(f"CREATE DATABASE {DATABASE} OWNER {DB_USER}")
        finally:
            connection.close()

    def stop_postgres(self) -> None:
        if (self.pg_data / "postmaster.pid").exists() and self.postgres_running():
            log("stopping PostgreSQL")
            self._pg(
                "pg_ctl", "-D", str(self.pg_data), "-m", "fast", "-w", "-t", "60", "stop", check=False, capture=True
            )

    def restart_postgres(self) -> None:
        self._pg(
            "pg_ctl",
            "-D",
            str(self.pg_data),
            "-l",
            str(self.pg_dir / "postgres.log"),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
            capture=True,
        )

    # --- Redis

    def redis_running(self) -> bool:
        return ours(read_pid(self.redis_dir / "redis.pid"), ["redis-server", str(self.redis_port)])

    def start_redis(self) -> None:
        if self.redis_running():
            log("Redis is already running")
            return
        if not port_free(self.redis_port):
            raise ClusterError(f"port {self.redis_port} (Redis) is in use; set CLUSTER_REDIS_PORT")
        binary = redis_binary()
        if binary is None:
            raise ClusterError("Redis is not installed")
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        self.redis_dir.chmod(0o700)
        conf = self.redis_dir / "redis.conf"
        with os.fdopen(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(
                "# Conversation locks only (components/lock_store.py): no persistence needed.\n"
                f"bind 127.0.0.1\nport {self.redis_port}\nprotected-mode yes\n"
                f"requirepass {self.secrets()['REDIS_PASSWORD']}\n"
                f"daemonize yes\npidfile {self.redis_dir / 'redis.pid'}\nlogfile {self.redis_dir / 'redis.log'}\n"
                f'dir {self.redis_dir}\nsave ""\nappendonly no\nmaxmemory 64mb\nmaxmemory-policy noeviction\n'
            )
        give_to("redis", self.redis_dir, conf)
        log(f"Redis on 127.0.0.1:{self.redis_port}")
        subprocess.run(as_user("redis", [binary, str(conf)]), check=True, cwd=str(self.redis_dir))
        wait_for("Redis", self.redis_ping, 30)

    def redis_ping(self) -> bool:
        import redis

        try:
            client = redis.Redis(
                host="127.0.0.1", port=self.redis_port, password=self.secrets()["REDIS_PASSWORD"], socket_timeout=1
            )
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop_redis(self) -> None:
        pid = read_pid(self.redis_dir / "redis.pid")
        if ours(pid, ["redis-server", str(self.redis_port)]):
            log("stopping Redis")
            stop_pid(pid)  # type: ignore[arg-type]

    # --- replicas: Rasa servers and their action servers

    def replica_env(self, index: int) -> Dict[str, str]:
        found = self.secrets()
        env = dict(os.environ)
        env.setdefault("SOCKETIO_CORS_ORIGINS", f"http://localhost:{self.port},http://127.0.0.1:{self.port}")
        env.update(
            ENDPOINTS=ENDPOINTS,
            ACTION_SERVER_PORT=str(self.action_ports[index]),
            RASA_PORT=str(self.rasa_ports[index]),
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_ports[index]}/webhook",
            TRACKER_STORE_DIALECT="postgresql",
            TRACKER_STORE_HOST="127.0.0.1",
            TRACKER_STORE_PORT=str(self.pg_port),
            TRACKER_STORE_DB=DATABASE,
            TRACKER_STORE_USERNAME=DB_USER,
            TRACKER_STORE_PASSWORD=found["TRACKER_STORE_PASSWORD"],
            TRACKER_STORE_SSLMODE="disable",  # loopback
            REDIS_HOST="127.0.0.1",
            REDIS_PORT=str(self.redis_port),
            REDIS_PASSWORD=found["REDIS_PASSWORD"],
            REDIS_DB="0",
            REDIS_USE_SSL="false",
            SQL_POOL_SIZE="5",  # Rasa's default pool is 50 (+100): a replica uses one connection at a time
            SQL_MAX_OVERFLOW="5",
            RASA_MODEL=str(self.model),
            RASA_RELOAD_TOKEN=found["RASA_RELOAD_TOKEN"],
            SANIC_HOST="127.0.0.1",  # the action server: loopback only
            # The replica reads any body nginx lets through (and refuses a larger one with the reply).
            SANIC_REQUEST_MAX_SIZE=str(
                max(REQUEST_MAX_BYTES, size_bytes(self.max_body), size_bytes(self.webhook_max_body))
            ),
        )
        env.update(self.env)
        return environment(env)

    def actions_command(self, index: int) -> List[str]:
        return commands.action_server(self.action_ports[index])

    def rasa_command(self, index: int) -> List[str]:
        return commands.rasa_server(str(self.model), ENDPOINTS, "127.0.0.1", self.rasa_ports[index])

    def replica_run_dir(self, index: int) -> Path:
        """The replica's supervisor's RUN_DIR: action.pid, rasa.pid (and a part's .hold file)."""
        return self.run_dir / f"replica-{index + 1}"

    def replica_log_dir(self, index: int) -> Path:
        """supervisor.log, action.log and rasa.log of the replica."""
        return self.log_dir / f"replica-{index + 1}"

    def part_log(self, index: int, stem: str) -> Path:
        return self.replica_log_dir(index) / f"{stem}.log"

    def supervisor_env(self, index: int) -> Dict[str, str]:
        return dict(
            self.replica_env(index),
            PARTS="actions,rasa",
            RUN_DIR=str(self.replica_run_dir(index)),
            LOG_DIR=str(self.replica_log_dir(index)),
            SUPERVISOR_NAME=f"replica {index + 1}",
        )

    def _spawn(self, name: str, command: List[str], env: Dict[str, str], log_file: Path) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as output:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file(name).write_text(f"{process.pid}\n")
        return process.pid

    def _running(self, pid_file: Path, marks: Sequence[str], environ: Optional[Dict[str, str]] = None) -> Optional[int]:
        pid = read_pid(pid_file)
        return pid if ours(pid, marks, environ) else None

    def _actions_marks(self, index: int) -> List[str]:
        return ["actions", "--port", str(self.action_ports[index])]

    def _rasa_marks(self, index: int) -> List[str]:
        return ["server", "rasa", "--port", str(self.rasa_ports[index])]

    def replica_pid(self, index: int) -> Optional[int]:
        """The replica's supervisor (python -m server run, with this replica's RUN_DIR)."""
        return self._running(
            self.pid_file(f"replica-{index + 1}"),
            ["-m", "server", "run"],
            {"RUN_DIR": str(self.replica_run_dir(index))},
        )

    def actions_pid(self, index: int) -> Optional[int]:
        return self._running(self.replica_run_dir(index) / "action.pid", self._actions_marks(index))

    def rasa_pid(self, index: int) -> Optional[int]:
        return self._running(self.replica_run_dir(index) / "rasa.pid", self._rasa_marks(index))

    def start_replica(self, index: int, wait: bool = True) -> None:
        """The replica's supervisor, which starts its action server and Rasa server and keeps them running."""
        if self.replica_pid(index):
            return
        for port, what, setting in (
            (self.action_ports[index], f"action server {index + 1}", "CLUSTER_ACTION_PORT"),
            (self.rasa_ports[index], f"Rasa replica {index + 1}", "CLUSTER_RASA_PORT"),
        ):
            if not port_free(port):
                raise ClusterError(f"port {port} ({what}) is in use; set {setting}")
        try:
            digest = verify(self.model)  # only a local model whose sha256 matches the one recorded at training
        except ModelIntegrityError as error:
            raise ClusterError(str(error)) from None
        log(
            f"replica {index + 1}: Rasa on 127.0.0.1:{self.rasa_ports[index]} (model sha256 {digest[:12]}...), "
            f"action server on 127.0.0.1:{self.action_ports[index]}, under a supervisor"
        )
        self.replica_run_dir(index).mkdir(parents=True, exist_ok=True)
        self._spawn(
            f"replica-{index + 1}",
            supervisor_command(),
            self.supervisor_env(index),
            self.part_log(index, "supervisor"),
        )
        if wait:
            self.wait_actions(index)
            self.wait_rasa(index)

    def _hold(self, index: int, stem: str, held: bool) -> None:
        hold = self.replica_run_dir(index) / f"{stem}.hold"
        if held:
            hold.parent.mkdir(parents=True, exist_ok=True)
            hold.write_text(
                "stopped on purpose by python -m cluster; the supervisor starts it when this file is gone\n"
            )
        else:
            hold.unlink(missing_ok=True)

    def start_actions(self, index: int, wait: bool = True) -> None:
        """The replica's action server (its supervisor starts it again; the whole replica if it is not running)."""
        if not self.actions_pid(index):
            if self.replica_pid(index):
                log(f"action server {index + 1}: started again by its supervisor")
                self._hold(index, "action", False)
            else:
                self.start_replica(index, wait=False)
        if wait:
            self.wait_actions(index)

    def start_rasa(self, index: int, wait: bool = True) -> None:
        """The replica's Rasa server, like start_actions; only if the model's sha256 matches."""
        if not self.rasa_pid(index):
            try:
                verify(self.model)
            except ModelIntegrityError as error:
                raise ClusterError(str(error)) from None
            if self.replica_pid(index):
                log(f"Rasa replica {index + 1}: started again by its supervisor")
                self._hold(index, "rasa", False)
            else:
                self.start_replica(index, wait=False)
        if wait:
            self.wait_rasa(index)

    def wait_actions(self, index: int, timeout: float = START_TIMEOUT) -> None:
        wait_for(
            f"action server {index + 1}",
            lambda: (
                self.actions_pid(index) is not None and http_ok(f"http://127.0.0.1:{self.action_ports[index]}/health")
            ),
            timeout,
            alive=lambda: self.replica_pid(index) is not None,
            log_file=self.part_log(index, "action"),
        )

    def wait_rasa(self, index: int, timeout: float = START_TIMEOUT) -> None:
        wait_for(
            f"Rasa replica {index + 1}",
            lambda: (
                self.rasa_pid(index) is not None
                and http_ok(f"http://127.0.0.1:{self.rasa_ports[index]}/webhooks/rest/")
            ),
            timeout,
            alive=lambda: self.replica_pid(index) is not None,
            log_file=self.part_log(index, "rasa"),
        )

    def stop_actions(self, index: int) -> None:
        """Stop the replica's action server and keep it stopped (its supervisor does not start it
        again until start_actions)."""
        self._hold(index, "action", True)
        pid = self.actions_pid(index)
        if pid:
            log(f"stopping action server {index + 1}")
            stop_pid(pid)

    def stop_rasa(self, index: int, sig: int = signal.SIGTERM) -> None:
        """Stop the replica's Rasa server (with sig) and keep it stopped until start_rasa."""
        self._hold(index, "rasa", True)
        pid = self.rasa_pid(index)
        if pid:
            log(f"stopping Rasa replica {index + 1}" + (" (SIGKILL)" if sig == signal.SIGKILL else ""))
            stop_pid(pid, sig)

    def stop_replicas(self) -> None:
        """Every replica's supervisor, at once: each stops its action server and Rasa server at once."""
        supervisors = {index: self.replica_pid(index) for index in range(self.replicas)}
        for index, pid in supervisors.items():
            if pid:
                log(f"stopping replica {index + 1} (its supervisor, pid {pid}, stops its Rasa and action servers)")
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for index, pid in supervisors.items():
            if pid:
                wait_stopped(pid)  # no second SIGTERM: to a supervisor that means "kill everything now"
            # Nothing of the replica may be left, whatever happened to its supervisor (and from a
            # cluster started before replicas were supervised: run/rasa-N.pid, run/actions-N.pid).
            for pid_file, marks in (
                (self.replica_run_dir(index) / "rasa.pid", self._rasa_marks(index)),
                (self.replica_run_dir(index) / "action.pid", self._actions_marks(index)),
                (self.pid_file(f"rasa-{index + 1}"), self._rasa_marks(index)),
                (self.pid_file(f"actions-{index + 1}"), self._actions_marks(index)),
            ):
                left = self._running(pid_file, marks)
                if left:
                    log(f"stopping {pid_file.stem} of replica {index + 1} (pid {left})")
                    stop_pid(left)
                pid_file.unlink(missing_ok=True)
            self.pid_file(f"replica-{index + 1}").unlink(missing_ok=True)
            for stem in ("action", "rasa"):
                self._hold(index, stem, False)

    # --- nginx

    def _nginx_base(self) -> List[str]:
        binary = nginx_binary()
        if binary is None:
            raise ClusterError("nginx is not installed")
        return [binary, "-p", str(self.nginx_dir), "-c", str(self.nginx_conf), "-e", str(self.nginx_dir / "error.log")]

    def write_static(self) -> None:
        """JSON bodies for what nginx answers itself. Every refusal on a chat endpoint (rate limited,
        too large, malformed, no replica answering) is refused.json: in the shape of a REST reply,
        the assistant's own service_unavailable reply (101, contact us) and then in_danger (999)."""
        errors = self.nginx_dir / "static" / "_errors"
        errors.mkdir(parents=True, exist_ok=True)
        bodies = {"refused.json": refusal_reply(), "404.json": {"error": "not found"}}
        for name, body in bodies.items():
            (errors / name).write_text(json.dumps(body) + "\n")
        for stale in ("unavailable.json", "400.json", "405.json", "413.json", "429.json"):  # from older versions
            (errors / stale).unlink(missing_ok=True)
        for path in (self.nginx_dir / "static", errors, *errors.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)

    def write_nginx_conf(self) -> None:
        temp = self.nginx_dir / "temp"
        temp.mkdir(parents=True, exist_ok=True)
        worker = "www-data" if user_exists("www-data") else "nobody"
        give_to(worker, temp)
        replicas = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in self.rasa_ports
        )
        api = (
            "on"
            if (self.env.get("RASA_ENABLE_API") or os.environ.get("RASA_ENABLE_API", "")).lower() == "true"
            else "off"
        )
        values = {
            "user": f"user {worker};" if is_root() else "",
            "pid_file": str(self.nginx_dir / "nginx.pid"),
            "error_log": str(self.nginx_dir / "error.log"),
            "access_log": str(self.nginx_dir / "access.log"),
            "temp_dir": str(temp),
            "static_dir": str(self.nginx_dir / "static"),
            "listen": f"127.0.0.1:{self.port}",
            "replicas": replicas,
            "rate": self.rate,
            "burst": str(self.burst),
            "webhook_rate": self.webhook_rate,
            "webhook_burst": str(self.webhook_burst),
            "max_body": self.max_body,
            "webhook_max_body": self.webhook_max_body,
            "rasa_api": api,
            "refusal_statuses": REFUSAL_STATUSES,
        }
        self.nginx_conf.write_text(render(TEMPLATE.read_text(), values))
        self.write_static()
        checked = subprocess.run(
            [*self._nginx_base(), "-t", "-q"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        if checked.returncode != 0:
            raise ClusterError(f"nginx refused {self.nginx_conf}:\n{checked.stdout}")

    def nginx_pid(self) -> Optional[int]:
        pid = read_pid(self.nginx_dir / "nginx.pid")
        return pid if ours(pid, ["nginx", "master", str(self.nginx_conf)]) else None

    def start_nginx(self) -> None:
        if self.nginx_pid():
            log("nginx is already running")
            return
        if not port_free(self.port):
            raise ClusterError(f"port {self.port} (nginx) is in use; set CLUSTER_PORT")
        self.nginx_dir.mkdir(parents=True, exist_ok=True)
        self.write_nginx_conf()
        log(f"nginx on 127.0.0.1:{self.port}")
        subprocess.run(self._nginx_base(), check=True)
        wait_for("nginx", lambda: http_ok(f"{self.url}/webhooks/rest/"), 30)

    def reload_nginx(self, **settings: str) -> None:
        """Render the configuration again (e.g. rate=..., burst=...) and have nginx take it without dropping requests."""
        for name, value in settings.items():
            setattr(self, name, value)
        self.write_nginx_conf()
        pid = self.nginx_pid()
        if pid is None:
            raise ClusterError("nginx is not running")
        old_workers = self._nginx_workers(pid)
        subprocess.run([*self._nginx_base(), "-s", "reload"], check=True)
        deadline = time.time() + 10  # the reload is done when the old workers are gone
        while time.time() < deadline and set(self._nginx_workers(pid)) & set(old_workers):
            time.sleep(0.1)

    @staticmethod
    def _nginx_workers(master: int) -> List[int]:
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def stop_nginx(self) -> None:
        pid = self.nginx_pid()
        if pid:
            log("stopping nginx")
            stop_pid(pid, signal.SIGQUIT)

    # --- all of it

    def up(self) -> None:
        ensure_packages()
        verify(self.model)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)
        try:
            self.start_postgres()
            self.start_redis()
            for index in range(self.replicas):
                self.start_replica(index, wait=False)
            for index in range(self.replicas):
                self.wait_actions(index)
            for index in range(self.replicas):
                self.wait_rasa(index)
            self.start_nginx()
        except Exception:
            self.down()
            raise
        log(f"up: {self.url} (REST {self.url}/webhooks/rest/webhook, socket.io {self.url}/socket.io/)")

    def down(self) -> None:
        self.stop_nginx()
        self.stop_replicas()
        self.stop_redis()
        self.stop_postgres()
        log("down")

    def reload(self) -> List[str]:
        """Have every replica load the newly trained model (make cluster-reload), one after the other, so
        that the others keep answering meanwhile; the sha256 each replica now runs."""
        digests = []
        for index, port in enumerate(self.rasa_ports):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/webhooks/model/reload", data=b"{}", method="POST",
                headers={"Authorization": f"Bearer {self.secrets()['RASA_RELOAD_TOKEN']}"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=180) as reply:
                    digests.append(json.loads(reply.read())["sha256"])
            except (urllib.error.URLError, OSError) as error:
                raise ClusterError(f"Rasa replica {index + 1} did not reload: {error}") from None
        return digests

    def status(self) -> Dict[str, bool]:
        state = {
            f"PostgreSQL 127.0.0.1:{self.pg_port}": self.postgres_running(),
            f"Redis 127.0.0.1:{self.redis_port}": self.redis_running(),
        }
        for index in range(self.replicas):
            state[f"replica {index + 1} supervisor"] = self.replica_pid(index) is not None
            state[f"action server {index + 1} 127.0.0.1:{self.action_ports[index]}"] = (
                self.actions_pid(index) is not None
            )
            state[f"Rasa replica {index + 1} 127.0.0.1:{self.rasa_ports[index]}"] = self.rasa_pid(index) is not None
        state[f"nginx 127.0.0.1:{self.port}"] = self.nginx_pid() is not None
        return state


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("up", "down", "status", "reload"):
        print(__doc__, file=sys.stderr)
        return 2
    cluster = Cluster()
    try:
        if argv[0] == "up":
            cluster.up()
        elif argv[0] == "down":
            cluster.down()
        elif argv[0] == "reload":
            for index, digest in enumerate(cluster.reload()):
                print(f"  Rasa replica {index + 1}: model sha256 {digest}")
        else:
            for name, running in cluster.status().items():
                print(f"  {'running' if running else 'stopped':8} {name}")
    except (ClusterError, ModelIntegrityError, subprocess.CalledProcessError) as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
