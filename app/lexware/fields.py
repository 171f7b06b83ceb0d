"""The Lexware fields the CRM maps, one comparable value each, and the three-way merge of a
push: each side's values as last synced (stored with the link) against its values now.

A field is what changes as a whole, named by its Lexware path:
- company contacts: `company.name`, `company.vatRegistrationId`, `company.taxNumber`, each
  address (`addresses.billing`, `addresses.shipping`: street, zip and city go together) and
  the primary contact person (`company.contactPersons`: the company's first CRM contact);
- person contacts: `person.salutation`, `person.firstName`, `person.lastName`;
- both: the e-mail or phone number of each Lexware list (`emailAddresses.business`,
  `phoneNumbers.mobile`, ...), since Lexware takes one entry per list on write.

The two sides map onto these fields differently (Lexware has more lists than the CRM has
types, the CRM writes its primary value of a type, it normalises VAT ids and phones), so a
side's change is found against that side's own last synced values (`Synced`), never against
the other side's. A value is text, or an object for an address or a person; a field that is
not set is absent. The CRM always holds its text fields (None: cleared, which removes
Lexware's value); lists, addresses and the contact person only where it has one: one the CRM
lacks leaves Lexware's. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.lexware import mapping
from app.lexware.mapping import SALUTATION_MAX, CrmData, PersonData, Value

Fields = dict[str, Any]
ADDRESS_KEYS = ("supplement", "street", "zip", "city", "countryCode")
PERSON_KEYS = ("salutation", "firstName", "lastName", "emailAddress", "phoneNumber")
LIST_GROUPS = ("addresses", "emailAddresses", "phoneNumbers")
# Where each Lexware field comes from in the CRM's API (a conflict names both).
CRM_NAMES = {
    "company.name": "name",
    "company.vatRegistrationId": "vatId",
    "company.taxNumber": "taxId",
    "company.contactPersons": "contacts",
    "addresses.billing": "billingAddress",
    "addresses.shipping": "deliveryAddress",
    "person.salutation": "salutation",
    "person.firstName": "firstName",
    "person.lastName": "lastName",
    "emailAddresses": "emails",
    "phoneNumbers": "phones",
}


def crm_name(key: str) -> str:
    return CRM_NAMES.get(key) or CRM_NAMES.get(key.partition(".")[0], key)


# ---- the CRM's fields ---------------------------------------------------------------------


def _or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _address_of_crm(address: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not address:
        return None
    keys = (("supplement", "supplement"), ("street", "street"), ("zip", "zip"), ("city", "city"))
    entry = {lx: address[crm] for crm, lx in keys if address.get(crm)}
    entry["countryCode"] = address.get("country_code") or "DE"
    return entry


def _person_of_crm(person: PersonData) -> dict[str, str]:
    entry = {
        "salutation": (person.salutation or "")[:SALUTATION_MAX],
        "firstName": person.first_name,
        "lastName": person.last_name,
        "emailAddress": person.email,
        "phoneNumber": person.phone,
    }
    return {key: value for key, value in entry.items() if value}


def _one_per_list(
    group: str, values: Iterable[Value], to_lexware: Mapping[str, str], prefer: Mapping[str, Any]
) -> Fields:
    """The CRM's value for each Lexware list it writes: its primary value, if of the list's
    type; else the one `prefer` names (the value last synced, or Lexware's entry), if the CRM
    holds it with that type; else its oldest of that type."""
    found: Fields = {}
    for crm_type, name in to_lexware.items():
        key, wanted = f"{group}.{name}", prefer.get(f"{group}.{name}")
        of_type = [v for v in values if v.type == crm_type]
        primary = [v for v in of_type if v.is_primary]
        same = mapping.same_value
        held = [v for v in of_type if isinstance(wanted, str) and same(v.value) == same(wanted)]
        if of_type:
            found[key] = (primary + held + of_type)[0].value
    return found


def of_crm(
    crm: CrmData,
    person: PersonData | None,
    *,
    company: bool,
    prefer: Mapping[str, Any] | None = None,
) -> Fields:
    """What the CRM holds of the fields (text fields always, None when empty). `prefer`: the
    value of a list to take among several of its type (see `_one_per_list`)."""
    values = crm.fields
    found: Fields
    if company:
        found = {
            "company.name": values["name"],
            "company.vatRegistrationId": _or_none(values.get("vat_id")),
            "company.taxNumber": _or_none(values.get("tax_id")),
        }
        for key, column in (
            ("addresses.billing", "billing_address"),
            ("addresses.shipping", "delivery_address"),
        ):
            if (address := _address_of_crm(values.get(column))) is not None:
                found[key] = address
        if person is not None:
            found["company.contactPersons"] = _person_of_crm(person)
    else:
        found = {
            "person.salutation": _or_none((values.get("salutation") or "")[:SALUTATION_MAX]),
            "person.firstName": _or_none(values.get("first_name")),
            "person.lastName": values["last_name"],
        }
    found |= _one_per_list("emailAddresses", crm.emails, mapping.EMAIL_TO_LEXWARE, prefer or {})
    found |= _one_per_list("phoneNumbers", crm.phones, mapping.PHONE_TO_LEXWARE, prefer or {})
    return found


def crm_view_of_lexware(contact: Mapping[str, Any], *, company: bool) -> Fields:
    """The CRM's fields had it imported the contact: a link's CRM base, so that what the CRM
    holds differently counts as its change (its first push writes it)."""
    crm = (
        mapping.company_from_lexware(contact) if company else mapping.contact_from_lexware(contact)
    )
    return of_crm(crm, None, company=company, prefer=of_lexware(contact))


# ---- Lexware's fields ---------------------------------------------------------------------


def _picked(entry: Any, keys: tuple[str, ...]) -> dict[str, str] | None:
    if not isinstance(entry, dict):
        return None
    picked = {key: entry[key] for key in keys if _or_none(entry.get(key))}
    return picked or None


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def of_lexware(contact: Mapping[str, Any]) -> Fields:
    """The fields of a contact as Lexware returns it (names unescaped)."""
    found: Fields = {}
    company, person = contact.get("company"), contact.get("person")
    if isinstance(company, dict):
        found["company.name"] = mapping.text(company.get("name"))
        found["company.vatRegistrationId"] = _or_none(company.get("vatRegistrationId"))
        found["company.taxNumber"] = _or_none(company.get("taxNumber"))
        persons = _first(company.get("contactPersons"))
        found["company.contactPersons"] = _picked(persons, PERSON_KEYS)
    if isinstance(person, dict):
        found["person.salutation"] = _or_none(person.get("salutation"))
        found["person.firstName"] = mapping.text(person.get("firstName"))
        found["person.lastName"] = mapping.text(person.get("lastName"))
    for group in LIST_GROUPS:
        lists = contact.get(group)
        for name, items in lists.items() if isinstance(lists, dict) else ():
            entry = _first(items)
            value = _picked(entry, ADDRESS_KEYS) if group == "addresses" else _or_none(entry)
            found[f"{group}.{name}"] = value
    return {key: value for key, value in found.items() if value is not None}


# ---- the merge and the body ---------------------------------------------------------------


@dataclass(frozen=True)
class Synced:
    """Both sides' fields as last synced (by a link, import, push or sync): the CRM's as the
    CRM held them and Lexware's as Lexware held them, each the base of that side's changes."""

    crm: Fields
    lexware: Fields

    def stored(self) -> dict[str, Fields]:
        return {"crm": self.crm, "lexware": self.lexware}

    @classmethod
    def of(cls, stored: Any) -> Synced | None:
        """None for a link made before both were kept: its next push lets the CRM win."""
        if not isinstance(stored, dict):
            return None
        crm, lexware = stored.get("crm"), stored.get("lexware")
        if not isinstance(crm, dict) or not isinstance(lexware, dict):
            return None
        return cls(crm, lexware)


@dataclass(frozen=True)
class Merge:
    changes: Fields  # what the push writes into Lexware (None: remove)
    conflicts: list[str]  # fields both sides changed since the last sync, each its own way


def merge(base: Synced | None, lexware: Fields, crm: Fields) -> Merge:
    """Three-way: a field the CRM changed since the last sync (against its own last synced
    value) goes to Lexware, unless Lexware changed it too (against its own), to something
    else: a conflict. A field only Lexware changed stays. Without a base (a link made before
    both sides were kept) the CRM wins on every field it holds."""
    changes: Fields = {}
    conflicts: list[str] = []
    for key, ours in crm.items():
        theirs = lexware.get(key)
        if ours == theirs:
            continue
        if base is not None:
            if ours == base.crm.get(key):  # the CRM did not change it: Lexware's stays
                continue
            if theirs != base.lexware.get(key):
                conflicts.append(key)
                continue
        changes[key] = ours
    return Merge(changes, conflicts)


def written(lexware: Fields, changes: Fields) -> Fields:
    """What Lexware holds once the changes are written."""
    return {key: value for key, value in {**lexware, **changes}.items() if value is not None}


def _apply(body: dict[str, Any], key: str, value: Any) -> None:
    group, _, name = key.partition(".")
    current = body.get(group)
    holder = dict(current) if isinstance(current, dict) else {}
    if value is None:
        holder.pop(name, None)
    elif key == "company.contactPersons":
        holder[name] = [{**value, "primary": True}]  # the one printed on vouchers
    elif group in LIST_GROUPS:
        holder[name] = [value]
    else:
        holder[name] = value
    if holder or group not in LIST_GROUPS:
        body[group] = holder
    else:
        body.pop(group, None)


def to_lexware(existing: Mapping[str, Any] | None, changes: Fields, *, company: bool) -> Fields:
    """The body of a PUT (Lexware's copy with the changes) or of a create (`existing` None)."""
    body = mapping.writable(existing)
    body.pop("person" if company else "company", None)
    for key, value in changes.items():
        _apply(body, key, value)
    return body
