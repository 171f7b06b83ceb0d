"""The fake Lexware's in-memory state: API keys and their organizations, contacts, vouchers, the
rate limiter, injected failures and the log of received requests.

Handlers and test hooks go through `FakeLexware`; it holds no HTTP objects, so tests can also use it
directly in-process (seed, then inspect) while the aiohttp app serves the same instance.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import NamedTuple

from aiohttp import web

from fake_lexware.formats import Json, bearer_key, format_datetime, now
from fake_lexware.records import (
    CONTACT_FIELDS,
    StoredContact,
    StoredVoucher,
    build_voucher,
    deep_merge,
    escape_names,
    prune,
    render_contact,
)

RATE_CAPACITY = 2.0  # token bucket per API key: burst 2 ...
RATE_PER_SECOND = 2.0  # ... refilled at 2 tokens/s (the documented 2 requests per second)
FIRST_CUSTOMER_NUMBER = 10000
FIRST_VENDOR_NUMBER = 70000


class RecordedRequest(NamedTuple):
    """One request to the API (control endpoints are not recorded)."""

    at: float  # time.monotonic() (or the injected clock) when it arrived
    method: str
    path: str  # without the query string
    api_key: str | None  # the presented Bearer token, known or not
    status: int
    traceparent: str | None = None  # the W3C trace context the client sent, if any


class PendingFailure(NamedTuple):
    status: int
    after_write: bool


class TokenBucket:
    """Capacity 2, refill 2 tokens/s; a new key starts with a full bucket."""

    def __init__(self, at: float) -> None:
        self.tokens = RATE_CAPACITY
        self.at = at

    def take(self, at: float) -> bool:
        self.tokens = min(RATE_CAPACITY, self.tokens + (at - self.at) * RATE_PER_SECOND)
        self.at = at
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class Organization:
    """What one API key sees: the key's own contacts and vouchers (a key belongs to one
    organization)."""

    id: uuid.UUID
    company_name: str
    connection_id: uuid.UUID = field(default_factory=uuid.uuid4)
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)
    created: datetime = field(default_factory=now)
    contacts: dict[str, StoredContact] = field(default_factory=dict)
    vouchers: dict[str, StoredVoucher] = field(default_factory=dict)
    next_customer: int = FIRST_CUSTOMER_NUMBER
    next_vendor: int = FIRST_VENDOR_NUMBER
    next_voucher: int = 1

    def clear(self) -> None:
        self.contacts.clear()
        self.vouchers.clear()
        self.next_customer, self.next_vendor, self.next_voucher = (
            FIRST_CUSTOMER_NUMBER,
            FIRST_VENDOR_NUMBER,
            1,
        )

    def assign_roles(self, requested: object, current: Json) -> Json:
        """Roles with server-assigned numbers: client-sent numbers are ignored, a number never
        changes, and a role once granted stays (the API has no way to take one away;
        not documented)."""
        roles = dict(current)
        wanted = requested if isinstance(requested, dict) else {}
        if isinstance(wanted.get("customer"), dict) and "customer" not in roles:
            roles["customer"] = {"number": self.next_customer}
            self.next_customer += 1
        if isinstance(wanted.get("vendor"), dict) and "vendor" not in roles:
            roles["vendor"] = {"number": self.next_vendor}
            self.next_vendor += 1
        return roles

    def profile(self) -> Json:
        """GET /v1/profile ("Profile Endpoint")."""
        return {
            "organizationId": str(self.id),
            "companyName": self.company_name,
            "created": {
                "userId": str(self.user_id),
                "userName": "Erika Musterfrau",
                "userEmail": "erika@example.com",
                "date": format_datetime(self.created),
            },
            "connectionId": str(self.connection_id),
            "features": ["cashbox"],
            "subscriptionStatus": "active",
            "taxType": "net",
            "smallBusiness": False,
            "distanceSalesPrinciple": "NOT_DEFINED",
        }


class FakeLexware:
    """In-memory state of the fake, shared by the HTTP handlers and the test hooks."""

    def __init__(
        self,
        *,
        rate_limit_enabled: bool = True,
        retry_after_header: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests: list[RecordedRequest] = []
        self.rate_limit_enabled = rate_limit_enabled
        self.retry_after_header = retry_after_header
        self.clock = clock  # a fake clock makes rate-limit tests deterministic
        self._keys: dict[str, uuid.UUID] = {}
        self._orgs: dict[uuid.UUID, Organization] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._failures: deque[PendingFailure] = deque()
        self._delays: deque[float] = deque()
        self._after_read: dict[tuple[uuid.UUID, str], list[Json]] = {}

    # --- keys and organizations -------------------------------------------------------------------

    def add_api_key(self, key: str, organization_id: uuid.UUID | None = None) -> uuid.UUID:
        """Register a key; without `organization_id` it gets an organization of its own. Passing the
        id of an existing organization makes the key a second key of it. Re-adding a key is a
        no-op unless it names another organization (ValueError)."""
        if key in self._keys:
            if organization_id not in (None, self._keys[key]):
                raise ValueError(f"API key {key!r} belongs to another organization")
            return self._keys[key]
        org_id = organization_id or uuid.uuid4()
        if org_id not in self._orgs:
            name = f"Musterfirma {len(self._orgs) + 1} GmbH"
            self._orgs[org_id] = Organization(id=org_id, company_name=name)
        self._keys[key] = org_id
        return org_id

    def organization_for(self, key: str | None) -> Organization | None:
        return None if key is None or key not in self._keys else self._orgs[self._keys[key]]

    def organization(self, key: str) -> Organization:
        org = self.organization_for(key)
        if org is None:
            raise KeyError(f"unknown API key {key!r}")
        return org

    # --- test hooks -------------------------------------------------------------------------------

    def seed_contact(self, key: str, contact: Json) -> Json:
        """Store a contact as if it had been created in the web app: no validation (so it may have
        several list entries), names HTML-escaped, server fields assigned (a given `id` and
        `archived` are kept). Returns the stored contact in GET shape."""
        org = self.organization(key)
        at = now()
        data = escape_names(
            {k: v for k, v in contact.items() if k in (*CONTACT_FIELDS, "archived")}
        )
        data["id"] = str(contact.get("id") or uuid.uuid4())
        data.update(organizationId=str(org.id), version=1)
        data["roles"] = org.assign_roles(contact.get("roles"), {})
        data.setdefault("archived", False)
        stored = StoredContact(data=prune(data), created=at, updated=at)
        org.contacts[stored.id] = stored
        return render_contact(stored.data)

    def seed_voucher(self, key: str, voucher: Json) -> Json:
        """Store a voucher (see `build_voucher` for the defaults); returns its voucherlist item."""
        org = self.organization(key)
        stored = build_voucher(voucher, org.next_voucher, lambda cid: self.contact(key, cid))
        org.next_voucher += 1
        org.vouchers[stored.id] = stored
        return stored.item()

    def contact(self, key: str, contact_id: str) -> Json | None:
        stored = self.organization(key).contacts.get(contact_id)
        return None if stored is None else render_contact(stored.data)

    def edit_in_web_app(self, key: str, contact_id: str, changes: Json) -> Json:
        """Change a contact behind the client's back: deep-merge `changes` (lists replace, so
        `{"emailAddresses": {"business": ["a@x.de", "b@x.de"]}}` adds the extra entry a later PUT
        fails on; null removes a key) and bump the version, so a stale PUT gets 409."""
        return self._edit(self._stored_contact(key, contact_id), changes)

    def edit_after_read(self, key: str, contact_id: str, changes: Json) -> None:
        """Edit the contact in the web app right after the next GET of it has been answered (that
        GET still shows the old data): someone racing the client's read-then-PUT, which gets 409."""
        self._stored_contact(key, contact_id)  # KeyError for an unknown contact
        at = (self.organization(key).id, contact_id)
        self._after_read.setdefault(at, []).append(changes)

    def contact_read(self, org: Organization, contact_id: str) -> None:
        """A GET of the contact was answered: apply the edits waiting for it."""
        stored = org.contacts.get(contact_id)
        for changes in self._after_read.pop((org.id, contact_id), []):
            if stored is not None:
                self._edit(stored, changes)

    def _edit(self, stored: StoredContact, changes: Json) -> Json:
        fixed = {k: stored.data[k] for k in ("id", "organizationId", "version")}
        merged = deep_merge(stored.data, escape_names(changes))
        merged.update(fixed, version=stored.version + 1)
        stored.data, stored.updated = prune(merged), now()
        return render_contact(stored.data)

    def archive(self, key: str, contact_id: str) -> None:
        """Archive in the web app (the API cannot); like every change it bumps the version."""
        self.edit_in_web_app(key, contact_id, {"archived": True})

    def fail_next(self, status: int, count: int = 1, *, after_write: bool = False) -> None:
        """The next `count` authenticated, non-rate-limited requests to an existing route answer
        `status` (meant for 500/503/504, and a 400 in the endpoint's error format; any 4xx/5xx
        works). With `after_write` the request is carried out first, like a 504 whose request
        was processed all the same ("HTTP Status Codes")."""
        if not 400 <= status <= 599 or count < 1:
            raise ValueError("status must be 4xx/5xx and count at least 1")
        HTTPStatus(status)  # ValueError for codes without a reason phrase
        self._failures.extend(PendingFailure(status, after_write) for _ in range(count))

    def clear_failures(self) -> None:
        """Drop the failures still queued by fail_next."""
        self._failures.clear()

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` requests that pass the gateway are answered `seconds` late: a slow
        Lexware (the gateway itself times out after 30 s: "HTTP Status Codes")."""
        if not 0 < seconds <= 30 or count < 1:
            raise ValueError("seconds must be in (0, 30] and count at least 1")
        self._delays.extend(float(seconds) for _ in range(count))

    def reset(self) -> None:
        """Forget all data, recorded requests, buckets and pending failures. API keys (with their
        organization ids) and the rate-limit switches stay, so a running fake stays usable."""
        self.requests.clear()
        self._buckets.clear()
        self._failures.clear()
        self._delays.clear()
        self._after_read.clear()
        for org in self._orgs.values():
            org.clear()

    # --- used by the HTTP layer -------------------------------------------------------------------

    def allow_request(self, key: str) -> bool:
        """Take a token for `key`; False means 429."""
        if not self.rate_limit_enabled:
            return True
        at = self.clock()
        bucket = self._buckets.setdefault(key, TokenBucket(at))
        return bucket.take(at)

    def take_failure(self) -> PendingFailure | None:
        return self._failures.popleft() if self._failures else None

    def take_delay(self) -> float:
        return self._delays.popleft() if self._delays else 0.0

    def create_contact(self, org: Organization, payload: Json) -> StoredContact:
        """POST /v1/contacts after validation: server fields assigned, version 1 (as the
        sample of "Create a Contact" answers, though other samples show 0: a client that
        assumes 0 fails here as it would against Lexware)."""
        at = now()
        data = self._writable(payload)
        data.update(id=str(uuid.uuid4()), organizationId=str(org.id), version=1, archived=False)
        data["roles"] = org.assign_roles(payload.get("roles"), {})
        stored = StoredContact(data=prune(data), created=at, updated=at)
        org.contacts[stored.id] = stored
        return stored

    def replace_contact(self, org: Organization, stored: StoredContact, payload: Json) -> None:
        """PUT after validation and the version check: the payload replaces every writable field;
        id, organizationId, numbers and `archived` stay, the version goes up by one."""
        data = self._writable(payload)
        data["roles"] = org.assign_roles(payload.get("roles"), stored.data.get("roles", {}))
        data.update({k: stored.data[k] for k in ("id", "organizationId", "archived")})
        data["version"] = stored.version + 1
        stored.data, stored.updated = prune(data), now()

    def _writable(self, payload: Json) -> Json:
        return escape_names({k: v for k, v in payload.items() if k in CONTACT_FIELDS})

    def _stored_contact(self, key: str, contact_id: str) -> StoredContact:
        stored = self.organization(key).contacts.get(contact_id)
        if stored is None:
            raise KeyError(f"no contact {contact_id!r} for this key")
        return stored


FAKE_KEY = web.AppKey("fake", FakeLexware)


def org_of(request: web.Request) -> Organization:
    """The caller's organization; the gateway middleware has already turned unknown keys away."""
    return request.app[FAKE_KEY].organization(bearer_key(request) or "")
