"""The tree shows the architecture: every domain package of app/services, and every domain
folder of resolvers/, has the same role-named files, the layers within a domain build on each other in one direction, and the
data layer names no domain (a domain's event rules live in the domain)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICES = REPO_ROOT / "app" / "services"
ROLES = {"__init__", "rows", "rules", "queries", "service"}
# Files a domain has beyond the roles; lexware keeps its sub-domain modules.
EXTRAS = {
    "deals": {"board", "currencies"},
    "pipelines": {"stages"},
    "activities": {"reminders", "feed"},
    "common": {"validation", "identifiers", "tags", "relation_filters", "leakproof"},
    "search": {"highlights"},
    "merges": {"moves", "plans"},
    "privacy": {"merged", "scrubbing"},
    "duplicates": {"report"},
}
FREE_FORM = {"lexware"}
RESOLVERS = REPO_ROOT / "resolvers"
# payloads: what a domain's mutations answer (a changed value with its parent records)
RESOLVER_ROLES = {
    "__init__", "types", "inputs", "queries", "mutations", "subscriptions", "loaders", "payloads"
}  # fmt: skip
RESOLVER_EXTRAS = {"lexware": {"vouchers"}}
NOT_A_DOMAIN = {"common", "compiled"}  # what the domains share; the compiled read path


def _domains() -> list[Path]:
    return sorted(p for p in SERVICES.iterdir() if (p / "__init__.py").exists())


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_every_domain_package_has_only_role_named_files() -> None:
    strays = [
        f"{domain.name}/{module.name}"
        for domain in _domains()
        if domain.name not in FREE_FORM
        for module in domain.glob("*.py")
        if module.stem not in ROLES | EXTRAS.get(domain.name, set())
    ]
    assert strays == []


def test_every_resolver_domain_has_only_role_named_files() -> None:
    folders = [p for p in RESOLVERS.iterdir() if (p / "__init__.py").exists()]
    strays = [
        f"{folder.name}/{module.name}"
        for folder in sorted(folders)
        if folder.name not in NOT_A_DOMAIN
        for module in folder.glob("*.py")
        if module.stem not in RESOLVER_ROLES | RESOLVER_EXTRAS.get(folder.name, set())
    ]
    assert strays == []


def test_a_domains_rules_and_queries_do_not_build_on_its_writes() -> None:
    """rows <- rules <- queries <- service: a write may call a read, never the other way round (the
    two importing each other is an import cycle)."""
    wrong = []
    for domain in _domains():
        package = f"app.services.{domain.name}"
        for role, forbidden in (
            ("rows", ("rules", "queries", "service")),  # the read models: the domain's leaf
            ("rules", ("queries", "service")),
            ("queries", ("service",)),
        ):
            module = domain / f"{role}.py"
            if not module.exists():
                continue
            imported = _imports(module)
            wrong += [f"{role} -> {package}.{f}" for f in forbidden if f"{package}.{f}" in imported]
    assert wrong == []


def test_the_data_layer_names_no_domain() -> None:
    """app/data is the machinery every domain shares: event types of an entity
    (`crm.deal.updated`) and imports of a domain package belong to that domain."""
    domains = {d.name for d in _domains()} - {"common"}
    named = []
    for module in sorted((REPO_ROOT / "app" / "data").glob("*.py")):
        text = module.read_text(encoding="utf-8")
        named += [f"{module.name}: {m}" for m in re.findall(r"[\"']crm\.[a-z_]+\.[a-z_]+", text)]
        named += [
            f"{module.name}: imports {name}"
            for name in _imports(module)
            if name.startswith("app.services.") and name.split(".")[2] in domains
        ]
    assert named == []
