"""The `insight-crm` command line, including the embedded default's whole lifecycle."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from resolvers.schema import schema_sdl
from tests.conftest import Api, Servers, server_dir

CLI = str(Path(sys.executable).parent / "insight-crm")
COMMANDS = {
    "serve": "Run the GraphQL server",
    "migrate": "Upgrade the database schema",
    "worker": "Run the ARQ worker",
    "token": "Print a development JWT",
    "export-schema": "Write the GraphQL schema",
    "seed-demo": "Fill a demo tenant",
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "JWT_", "TEST_"))
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


DEMO_QUERY = """{ companies(first: 50, orderBy: {field: NAME}) { totalCount edges { node {
      id name vatId notes industry { name } accountType { name } emails { email isPrimary }
      phones { phone isPrimary } owners { role }
      contacts { lastName emails { email } owners { role } activities { subject } }
      deals { title stage { name } owners { role } } relationships { direction } contracts { title }
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
    for nested in ("industry", "accountType", "emails", "phones", "owners", "contacts", "deals"):
        assert all(c[nested] for c in companies), nested
    assert all(c["contacts"][0]["owners"] and c["contacts"][0]["activities"] for c in companies)
    assert sum(len(c["relationships"]) for c in companies) == 4  # two, seen from both sides
    assert sum(len(c["contracts"]) for c in companies) == 3
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
    assert [c["lastName"] for c in mine["contacts"]] == ["Müller"]
    assert [e["email"] for e in mine["emails"]] == ["info@mueller.de"]
    assert len(mine["deals"]) == 1 and len(mine["relationships"]) == 1
    assert companies["Eigene GmbH"]["contacts"] == []
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
        log = (data_dir.parent / f"serve-{self.port}.log").open("w")
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
            assert self.process.poll() is None, "serve exited during start"
            try:
                if httpx.get(f"{self.url}/livez", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise AssertionError("serve did not come up")

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
