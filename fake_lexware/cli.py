"""`insight-crm fake-lexware`: the fake served with demo data, to try the integration by hand.

pyproject.toml adds it to the `insight-crm` command line through the entry point group
`insight_crm.commands` (app/cli.py reads it), so the server's own code never imports the fake.
The server module is imported only when the command runs, not when the command line starts.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

from app.cli_support import (
    PortOption,
    VerboseOption,
    check_can_listen,
    configure_logging,
    say,
    usage_error,
)

_API_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable, no spaces: it goes into a header


def fake_lexware(
    port: PortOption = 8099,
    api_key: Annotated[
        list[str] | None, typer.Option("--api-key", help="A key it accepts (repeatable).")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """A local fake of the Lexware Office API, to try the integration.

    It holds demo contacts and vouchers and allows 2 requests per second per key, like Lexware.
    Point LEXWARE_BASE_URL at it and use one of its keys."""
    from fake_lexware.server import run_fake

    keys = api_key or ["demo-lexware-key-0000"]
    if not all(_API_KEY.match(key) for key in keys):
        usage_error("--api-key: 1 to 200 printable characters without spaces")
    configure_logging("info", verbose, chatty=("fake_lexware",))
    check_can_listen("127.0.0.1", port)
    say(f"fake Lexware at http://127.0.0.1:{port} (keys: {', '.join(keys)}; Ctrl-C stops)")
    run_fake("127.0.0.1", port, keys, quiet=not verbose)
