"""A fake of the Lexware Office API for tests and demos: an aiohttp server that speaks the HTTP
contract of Lexware's public API documentation (server.py says how a request passes through it).

Tooling around the CRM server, not part of it: installed with the project, so that
`insight-crm fake-lexware` runs it (cli.py, contributed through the `insight_crm.commands` entry
point group), but no module of app/, models/, resolvers/ or jobs/ imports it (pyproject.toml's
import contracts). It keeps its own copy of what it knows about the API instead of importing the
real client's (app/lexware/): a mistake in the client is then not repeated by the fake that tests
it.

- server.py: the aiohttp app, its gateway (rate limit, auth, injected failures), `running_fake()`
  for tests and `run_fake()` for the command
- store.py: the in-memory state (`FakeLexware`): keys, organizations, contacts, vouchers
- records.py: contacts and vouchers as Lexware stores and renders them
- contacts.py, vouchers.py: the `/v1` endpoints; control.py: the `/_fake/` control endpoints
- formats.py: dates, error bodies, page envelope, query parsing
- demo_data.py: what the command seeds per API key
"""
