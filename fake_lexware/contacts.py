"""`/v1/contacts` and `/v1/profile` of the fake: write validation ("Contact Properties",
"Create a Contact"), the list filters ("Filtering Contacts") and optimistic locking ("Update a
Contact", "Optimistic Locking"). Errors use the legacy IssueList format ("Error Codes": "Legacy
error response").

Invalid e-mail addresses are rejected as validation failures: 406 (Lexware answers validation
failures with 406, "HTTP Status Codes"), one issue per address in the legacy IssueList shape
with the address's path in `source` (not documented: the status and the issue's i18nKey for
this rule are the fake's inference). An address is invalid when it is not one `@` between a
local part and a dotted domain, or either part has a leading, trailing or doubled dot (RFC
5322's dot-atom), which the CRM's own check lets through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fake_lexware.formats import (
    BadQuery,
    Json,
    format_datetime,
    issue,
    legacy_bad_request,
    legacy_error,
    like_contains,
    page_envelope,
    parse_bool,
    parse_int,
    parse_paging,
    single_params,
    sort_descriptor,
)
from fake_lexware.records import (
    StoredContact,
    contact_emails,
    contact_names,
    contact_sort_key,
    render_contact,
    role_numbers,
)
from fake_lexware.store import FAKE_KEY, org_of

MAX_SALUTATION = 25
MIN_SEARCH = 3
# Lists that may hold at most one entry on write ("Contact Properties", "Update a Contact").
EMAIL_KINDS = ("business", "office", "private", "other")
PHONE_KINDS = ("business", "office", "mobile", "private", "fax", "other")
_DOT_ATOM = re.compile(r"^[^\s@.]+(\.[^\s@.]+)*$")


# --- validation -----------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _too_long(holder: Json, key: str) -> bool:
    value = holder.get(key)
    return isinstance(value, str) and len(value) > MAX_SALUTATION


def _entries(holder: Any, key: str, path: str) -> Iterator[tuple[str, Any]]:
    """(issue path, None) for a list that is not a list or too long, else (entry path, entry)."""
    value = holder.get(key) if isinstance(holder, dict) else None
    if value is None:
        return
    if not isinstance(value, list) or len(value) > 1:
        yield path, None
        return
    for index, entry in enumerate(value):
        yield f"{path}[{index}]", entry


def _version_issues(payload: Json, creating: bool) -> Iterator[str]:
    version = payload.get("version")
    valid = type(version) is int and (version == 0 or not creating)
    if not valid:
        yield "version"


def _role_issues(payload: Json) -> Iterator[str]:
    roles = payload.get("roles")
    if not isinstance(roles, dict) or not any(
        isinstance(roles.get(r), dict) for r in ("customer", "vendor")
    ):
        yield "roles"


def _company_issues(company: Any) -> Iterator[str]:
    if not isinstance(company, dict):
        yield "company"
        return
    if _blank(company.get("name")):
        yield "company.name"
    for path, person in _entries(company, "contactPersons", "company.contactPersons"):
        if person is None:
            yield path
        elif not isinstance(person, dict) or _blank(person.get("lastName")):
            yield f"{path}.lastName"
        elif _too_long(person, "salutation"):
            yield f"{path}.salutation"


def _identity_issues(payload: Json) -> Iterator[str]:
    """Exactly one of company and person (not documented: the issue names `person` when both
    are given and `company` when neither is)."""
    company, person = payload.get("company"), payload.get("person")
    if company is not None and person is not None:
        yield "person"
    elif company is None and person is None:
        yield "company"
    elif company is not None:
        yield from _company_issues(company)
    elif not isinstance(person, dict):
        yield "person"
    else:
        if _blank(person.get("lastName")):
            yield "person.lastName"
        if _too_long(person, "salutation"):
            yield "person.salutation"


def _list_issues(payload: Json) -> Iterator[str]:
    """Addresses (each with a countryCode), e-mails and phones: at most one entry per list."""
    groups = (("addresses", ("billing", "shipping")), ("emailAddresses", EMAIL_KINDS))
    for group, kinds in (*groups, ("phoneNumbers", PHONE_KINDS)):
        holder = payload.get(group)
        if holder is not None and not isinstance(holder, dict):
            yield group
            continue
        for kind in kinds:
            for path, entry in _entries(holder, kind, f"{group}.{kind}"):
                if entry is None:
                    yield path
                elif group == "addresses" and (
                    not isinstance(entry, dict) or _blank(entry.get("countryCode"))
                ):
                    yield f"{path}.countryCode"


def _xrechnung_issues(payload: Json) -> Iterator[str]:
    xrechnung = payload.get("xRechnung")
    if not isinstance(xrechnung, dict) or _blank(xrechnung.get("buyerReference")):
        return
    if _blank(xrechnung.get("vendorNumberAtCustomer")):
        yield "xRechnung.vendorNumberAtCustomer"


def validation_sources(payload: Json, *, creating: bool) -> list[str]:
    """The attribute path of every broken rule, in a stable order; empty means valid."""
    return [
        *_version_issues(payload, creating),
        *_role_issues(payload),
        *_identity_issues(payload),
        *_list_issues(payload),
        *_xrechnung_issues(payload),
        *invalid_emails(payload),
    ]


def _valid_email(address: Any) -> bool:
    if not isinstance(address, str):
        return False
    local, at, domain = address.partition("@")
    return (
        bool(at)
        and bool(_DOT_ATOM.match(local))
        and "." in domain
        and bool(_DOT_ATOM.match(domain))
    )


def invalid_emails(payload: Json) -> list[str]:
    """The path of every e-mail address that is not one, in the contact and its persons."""
    found: list[str] = []
    emails = payload.get("emailAddresses")
    for kind, values in emails.items() if isinstance(emails, dict) else ():
        for index, address in enumerate(values if isinstance(values, list) else ()):
            if not _valid_email(address):
                found.append(f"emailAddresses.{kind}[{index}]")
    company = payload.get("company")
    persons = company.get("contactPersons") if isinstance(company, dict) else None
    for index, person in enumerate(persons if isinstance(persons, list) else ()):
        address = person.get("emailAddress") if isinstance(person, dict) else None
        if address is not None and not _valid_email(address):
            found.append(f"company.contactPersons[{index}].emailAddress")
    return found


def validation_error(sources: list[str]) -> web.Response:
    """406 with one `missing_entity` issue per broken rule ("Legacy error response")."""
    return legacy_error(406, [issue("missing_entity", s, "validation_failure") for s in sources])


# --- request bodies -------------------------------------------------------------------------------


async def json_body(request: web.Request) -> Json | web.Response:
    """The JSON object of a POST/PUT, or the error response: 415 without `application/json`
    (aiohttp reports a missing Content-Type as application/octet-stream), 400 for bad JSON."""
    if request.content_type != "application/json":
        sent = request.headers.get("Content-Type")
        return legacy_error(415, [issue("unsupported_media_type", sent, "bad_request_error")])
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return legacy_bad_request("malformed JSON request body")
    if not isinstance(body, dict):
        return legacy_bad_request("request body must be a JSON object")
    return body


def action_result(request: web.Request, stored: StoredContact) -> web.Response:
    """The action result of POST and PUT ("Create a Contact"); status 200, the docs allow 200
    and 201."""
    return web.json_response(
        {
            "id": stored.id,
            "resourceUri": f"{request.url.origin()}/v1/contacts/{stored.id}",
            "createdDate": format_datetime(stored.created),
            "updatedDate": format_datetime(stored.updated),
            "version": stored.version,
        }
    )


def not_found() -> web.Response:
    """The 404 body is not documented ("Retrieve a Contact"); clients must branch on the status
    (this shape is the fake's choice)."""
    return legacy_error(404, [issue("not_found", None, "not_found")])


# --- the list filter ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactQuery:
    email: str | None
    name: str | None
    number: int | None
    customer: bool | None
    vendor: bool | None

    @classmethod
    def parse(cls, params: dict[str, str]) -> ContactQuery:
        for name in ("email", "name"):
            if name in params and len(params[name]) < MIN_SEARCH:
                raise BadQuery(f"size must be between {MIN_SEARCH} and 2147483647", name)
        return cls(
            email=params.get("email"),
            name=params.get("name"),
            number=parse_int(params, "number"),
            customer=parse_bool(params, "customer"),
            vendor=parse_bool(params, "vendor"),
        )

    def matches(self, data: Json) -> bool:
        """All given filters, AND-ed; names are compared in their stored, HTML-escaped form."""
        roles = data.get("roles") or {}
        checks = (
            self.email is None
            or any(like_contains(self.email).search(e) for e in contact_emails(data)),
            self.name is None
            or any(like_contains(self.name).search(n) for n in contact_names(data)),
            self.number is None or self.number in role_numbers(data),
            self.customer is None or self.customer == ("customer" in roles),
            self.vendor is None or self.vendor == ("vendor" in roles),
        )
        return all(checks)


# --- handlers -------------------------------------------------------------------------------------


async def get_profile(request: web.Request) -> web.Response:
    return web.json_response(org_of(request).profile())


async def list_contacts(request: web.Request) -> web.Response:
    """Sorted by name ASC, archived contacts included, `sort` and `archived` ignored ("Filtering
    Contacts", "Paging of Resources")."""
    try:
        params = single_params(request.query)
        query = ContactQuery.parse(params)
        page, size = parse_paging(params)
    except BadQuery as error:
        return legacy_bad_request(error.message)
    contacts = sorted(org_of(request).contacts.values(), key=lambda c: contact_sort_key(c.data))
    items = [render_contact(c.data) for c in contacts if query.matches(c.data)]
    sort = [sort_descriptor("name", ascending=True)]
    return web.json_response(page_envelope(items, page, size, sort))


async def get_contact(request: web.Request) -> web.Response:
    org, contact_id = org_of(request), request.match_info["id"]
    stored = org.contacts.get(contact_id)
    if stored is None:
        return not_found()
    response = web.json_response(render_contact(stored.data))
    request.app[FAKE_KEY].contact_read(org, contact_id)
    return response


async def create_contact(request: web.Request) -> web.Response:
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    sources = validation_sources(body, creating=True)
    if sources:
        return validation_error(sources)
    stored = request.app[FAKE_KEY].create_contact(org_of(request), body)
    return action_result(request, stored)


async def update_contact(request: web.Request) -> web.Response:
    """404, then 415/400, then 406 (validation, version included), then 409 on a stale version."""
    org = org_of(request)
    stored = org.contacts.get(request.match_info["id"])
    if stored is None:
        return not_found()
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    sources = validation_sources(body, creating=False)
    if sources:
        return validation_error(sources)
    if body["version"] != stored.version:
        return legacy_error(409, [issue("optimistic_locking_failure", "version", "conflict")])
    request.app[FAKE_KEY].replace_contact(org, stored, body)
    return action_result(request, stored)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/profile", get_profile, allow_head=False)
    app.router.add_get("/v1/contacts", list_contacts, allow_head=False)
    app.router.add_post("/v1/contacts", create_contact)
    app.router.add_get("/v1/contacts/{id}", get_contact, allow_head=False)
    app.router.add_put("/v1/contacts/{id}", update_contact)
