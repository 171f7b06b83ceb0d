"""README's examples work as pasted, at every commit.

- Every ```graphql block is one runnable document (one operation, as GraphiQL runs it) that
  parses and validates against the schema.
- Run top to bottom in one fresh tenant, as a new user would: queries and mutations over the
  HTTP endpoint, subscriptions over a real WebSocket (a change on the board must arrive), the
  blocks of the Lexware section against an app wired to the fake Lexware; a ```bash block that
  runs `seed-demo` seeds the tenant at that point.
- Every `insight-crm` command line in a ```bash block is one the CLI accepts (options, ranges).

A placeholder README tells the reader to replace: `PIPELINE_ID` -> the tenant's default
pipeline (README: "the id that `{ defaultPipeline { id name } }` answers").
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

import typer
from graphql import OperationDefinitionNode, OperationType, parse, validate
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cli import cli
from app.demo import seed_demo_tenant
from app.internals import graphql_schema
from resolvers.schema import build_schema
from tests.conftest import REPO_ROOT, Api
from tests.lexware_fixtures import Lexware
from tests.live import graphql_socket

README = REPO_ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^## (.+)$", re.MULTILINE)
PLACEHOLDERS = ("PIPELINE_ID",)


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    section: str  # the `## ` heading it is under


def readme_blocks() -> list[Block]:
    text = README.read_text()
    headings = [(m.start(), m.group(1)) for m in HEADING.finditer(text)]
    blocks = []
    for match in FENCE.finditer(text):
        section = next((h for at, h in reversed(headings) if at < match.start()), "")
        blocks.append(Block(match.group(1), match.group(2), section))
    return blocks


def graphql_blocks() -> list[Block]:
    return [block for block in readme_blocks() if block.language == "graphql"]


def _operation(document: str) -> OperationDefinitionNode:
    operations = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"one operation per example, as GraphiQL runs it: {document}"
    return operations[0]


def test_every_graphql_example_is_one_valid_operation() -> None:
    blocks = graphql_blocks()
    assert blocks
    schema = graphql_schema(build_schema())
    for block in blocks:
        document = block.text
        for placeholder in PLACEHOLDERS:
            document = document.replace(placeholder, "00000000-0000-0000-0000-000000000000")
        _operation(document)
        errors = validate(schema, parse(document))
        assert not errors, (block.text, errors)


async def test_the_graphql_examples_run_in_order_as_pasted(
    api: Api,
    sessions: async_sessionmaker[AsyncSession],
    live: str,
    lexware: Lexware,
) -> None:
    ran = 0
    for block in readme_blocks():
        if block.language == "bash" and "insight-crm seed-demo" in block.text:
            await seed_demo_tenant(sessions, api.tenant)
        if block.language != "graphql":
            continue
        document = await _filled(api, block.text)
        if _operation(document).operation is OperationType.SUBSCRIPTION:
            await _subscribe_and_see_a_change(api, live, document)
        else:
            client = lexware.api if block.section.startswith("Lexware") else api
            result = await client(document)
            assert "errors" not in result and result["data"], (block.text, result)
        ran += 1
    assert ran == len(graphql_blocks())


async def _filled(api: Api, document: str) -> str:
    if "PIPELINE_ID" in document:
        board = await api.data("{ defaultPipeline { id name } }")
        document = document.replace("PIPELINE_ID", board["defaultPipeline"]["id"])
    return document


async def _subscribe_and_see_a_change(api: Api, live: str, document: str) -> None:
    """Subscribe as README shows, then make the change the subscription is about."""
    async with graphql_socket(live) as socket:
        assert (await socket.init(api.token()))["type"] == "connection_ack"
        await socket.subscribe(document)
        field = _operation(document).selection_set.selections[0].name.value  # type: ignore[attr-defined]
        assert field == "dealChanged", f"no trigger for the subscription {field} yet"
        board = (await api.data("{ defaultPipeline { id } }"))["defaultPipeline"]["id"]
        for attempt in range(10):  # the subscription registers after its `subscribe` frame
            await api.data(
                "mutation($p: ID!, $t: String!) { createDeal(input: {title: $t, pipelineId: $p}) { id } }",
                {"p": board, "t": f"README {attempt}"},
            )
            try:
                frame = await socket.next_data(wait=1)
            except TimeoutError:
                continue
            assert frame["dealChanged"]["onBoard"] is True
            assert frame["dealChanged"]["event"]["type"] == "crm.deal.created"
            return
        raise AssertionError("the subscription delivered no change")


INVOCATION = re.compile(r"insight-crm((?:[ \t]+(?:\\\n\s*)?[^\s&|;)<>]+)*)")


def test_every_cli_example_is_a_command_line_the_cli_accepts() -> None:
    group = typer.main.get_command(cli)  # typer's own copy of click's Group
    lines = [
        match.group(1).replace("\\\n", " ")
        for block in readme_blocks()
        if block.language == "bash"
        for match in INVOCATION.finditer(block.text)
    ]
    assert lines
    for line in lines:
        args = shlex.split(line)
        with group.make_context("insight-crm", list(args), resilient_parsing=True) as parent:
            name = args[0]
            command = group.get_command(parent, name)
            assert command is not None, f"unknown command in README: insight-crm {line}"
            command.make_context(name, args[1:], parent=parent)  # raises on a bad option


def test_readme_links_stay_inside_the_repository() -> None:
    text = README.read_text()
    assert "../" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith(("http://", "https://")):
            assert (REPO_ROOT / target).exists(), target
