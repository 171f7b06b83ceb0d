"""The Lexware fields the CRM maps, one comparable value each, and the three-way merge of a
push: the values as last synced (stored with the link), Lexware's now and the CRM's now.

A field is what changes as a whole, named by its Lexware path:
- company contacts: `company.name`, `company.vatRegistrationId`, `company.taxNumber`, each
  address (`addresses.billing`, `addresses.shipping`: street, zip and city go together) and
  the primary contact person (`company.contactPersons`: the company's first CRM contact);
- person contacts: `person.salutation`, `person.firstName`, `person.lastName`;
- both: the e-mail or phone number of each Lexware list (`emailAddresses.business`,
  `phoneNumbers.mobile`, ...), since Lexware takes one entry per list on write.

A value is text, or an object for an address or a person; a field that is not set is absent.
The CRM always holds its text fields (None: cleared, which removes Lexware's value); lists,
addresses and the contact person only where it has one: one the CRM lacks leaves Lexware's.
Pure functions, no I/O.
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


def _one_per_list(group: str, values: Iterable[Value], to_lexware: Mapping[str, str]) -> Fields:
    """The primary value of each CRM type goes to its Lexware list (the first, without one)."""
    found: Fields = {}
    for value in sorted(values, key=lambda v: not v.is_primary):
        found.setdefault(f"{group}.{to_lexware[value.type]}", value.value)
    return found


def of_crm(crm: CrmData, person: PersonData | None, *, company: bool) -> Fields:
    """What the CRM holds of the fields (text fields always, None when empty)."""
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
    found |= _one_per_list("emailAddresses", crm.emails, mapping.EMAIL_TO_LEXWARE)
    found |= _one_per_list("phoneNumbers", crm.phones, mapping.PHONE_TO_LEXWARE)
    return found


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
class Merge:
    changes: Fields  # what the push writes into Lexware (None: remove)
    conflicts: list[str]  # fields both sides changed since the last sync, each its own way


def merge(base: Mapping[str, Any] | None, lexware: Fields, crm: Fields) -> Merge:
    """Three-way: a field the CRM changed since the last sync goes to Lexware, unless Lexware
    changed it too (to something else): a conflict. A field only Lexware changed stays.
    Without a base (never synced since these were stored) the CRM wins on every field."""
    changes: Fields = {}
    conflicts: list[str] = []
    for key, ours in crm.items():
        theirs = lexware.get(key)
        if ours == theirs:
            continue
        if base is not None:
            synced = base.get(key)
            if ours == synced:  # only Lexware changed it: its value stays
                continue
            if theirs != synced:
                conflicts.append(key)
                continue
        changes[key] = ours
    return Merge(changes, conflicts)


def written(lexware: Fields, changes: Fields) -> Fields:
    """What Lexware holds once the changes are written."""
    return {key: value for key, value in {**lexware, **changes}.items() if value is not None}


def agreed(lexware: Fields, crm: Fields, base: Mapping[str, Any] | None) -> Fields:
    """The base of the next merge, after a push, link, import or sync: per field the value
    both sides hold now, or Lexware's where the CRM holds none. Where they still differ (a
    change only Lexware made, kept by a push; a value a sync left in the CRM) the field keeps
    its last synced value: the side that did not change it still counts as unchanged."""
    found: Fields = {}
    for key in lexware.keys() | crm.keys():
        theirs = lexware.get(key)
        value = theirs if base is None or key not in crm or crm[key] == theirs else base.get(key)
        if value is not None:
            found[key] = value
    return found


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
