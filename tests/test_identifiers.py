"""German identifiers validated by maintained libraries: VAT ids (every EU state, CHE/GB/NO),
Steuernummer, Handelsregister number and court, German postcodes, phones and e-mails; stored
normalized; values written before the checks stay readable and editable."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.applications import Starlette

from app.data.tenancy import TenantScope
from app.services.common import identifiers
from app.services.common.identifiers import IdentifierError, Reason
from models import Company, ContactEmail, ContactPhone
from tests.conftest import Api, error_codes, error_fields
from tests.factories import add_row

FIELDS = """id vatId taxId tradeRegisterNumber registerCourt version
billingAddress { zip countryCode } deliveryAddress { zip countryCode }
emails { email } phones { phone }"""
CREATE = f"mutation($i: CreateCompanyInput!) {{ createCompany(input: $i) {{ {FIELDS} }} }}"
UPDATE = f"mutation($id: ID!, $i: UpdateCompanyInput!) {{ updateCompany(id: $id, input: $i) {{ {FIELDS} }} }}"
GET = f"query($id: ID!) {{ company(id: $id) {{ {FIELDS} }} }}"
ADD_EMAIL = "mutation($id: ID!, $e: String!) { addCompanyEmail(companyId: $id, input: {email: $e}) { email { email } } }"
ADD_PHONE = "mutation($id: ID!, $p: String!) { addCompanyPhone(companyId: $id, input: {phone: $p}) { phone { phone } } }"


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    result = await api(CREATE, {"i": {"name": "Muster GmbH", **fields}})
    return result


async def created(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE, {"i": {"name": "Muster GmbH", **fields}})
    company: dict[str, Any] = data["createCompany"]
    return company


async def scope_of(api: Api, app: Starlette) -> TenantScope:
    me = await api.data("{ me { tenant { id } user { id } } }")
    tenant, user = me["me"]["tenant"]["id"], me["me"]["user"]["id"]
    return TenantScope(uuid.UUID(tenant), uuid.UUID(user), app.state.runtime.sessions)


# ---- VAT ids -------------------------------------------------------------------------------

VALID_VAT = [
    ("DE811907980", "DE811907980"),
    ("de 136 695 976", "DE136695976"),
    ("ATU13585627", "ATU13585627"),
    ("FR 40 303 265 045", "FR40303265045"),
    ("IT00743110157", "IT00743110157"),
    ("PL 856-734-62-15", "PL8567346215"),
    ("EL094259216", "EL094259216"),
    ("CHE-116.281.710 MWST", "CHE116281710MWST"),
    ("GB980780684", "GB980780684"),
    ("NO995525828MVA", "NO995525828MVA"),
]


@pytest.mark.parametrize(("typed", "stored"), VALID_VAT)
async def test_a_valid_vat_id_is_stored_compact_and_upper_case(
    api: Api, typed: str, stored: str
) -> None:
    assert (await created(api, vatId=typed))["vatId"] == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("DE123456789", Reason.WRONG_CHECK_DIGIT),  # the old demo data's kind
        ("DE301558873", Reason.WRONG_CHECK_DIGIT),
        ("ATU13585626", Reason.WRONG_CHECK_DIGIT),
        ("FR40303265046", Reason.WRONG_CHECK_DIGIT),
        ("IT00743110158", Reason.WRONG_CHECK_DIGIT),
        ("PL8567346216", Reason.WRONG_CHECK_DIGIT),
        ("EL094259217", Reason.WRONG_CHECK_DIGIT),
        ("DE12345", Reason.INVALID_LENGTH),
        ("US123456789", Reason.UNSUPPORTED_COUNTRY),
        ("123456789", Reason.UNSUPPORTED_COUNTRY),
    ],
)
async def test_a_vat_id_with_a_wrong_check_digit_or_form_is_refused(
    api: Api, typed: str, reason: Reason
) -> None:
    with pytest.raises(IdentifierError) as raised:
        identifiers.vat_id(typed)
    assert raised.value.reason is reason
    result = await create(api, vatId=typed)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert error_fields(result) == {"vatId"}
    assert raised.value.message in str(result["errors"])


# ---- Steuernummer, Handelsregister ---------------------------------------------------------


@pytest.mark.parametrize("typed", ["143/123/45678", "21/815/08150", "2181508150", "5133081508159"])
async def test_a_steuernummer_is_accepted_as_typed(api: Api, typed: str) -> None:
    assert (await created(api, taxId=f" {typed} "))["taxId"] == typed


@pytest.mark.parametrize("typed", ["12345", "143/123/4567A", "4151181508156"])
async def test_a_malformed_steuernummer_is_refused(api: Api, typed: str) -> None:
    result = await create(api, taxId=typed)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert error_fields(result) == {"taxId"}


async def test_a_register_number_without_its_court_keeps_the_court_field(api: Api) -> None:
    company = await created(api, tradeRegisterNumber="hrb12345", registerCourt="AG München")
    assert (company["tradeRegisterNumber"], company["registerCourt"]) == ("HRB 12345", "München")


@pytest.mark.parametrize(
    ("typed", "number", "court"),
    [
        ("HRB 12345", "HRB 12345", None),
        ("hrb12345 b", "HRB 12345 B", None),
        ("gnr 77", "GnR 77", None),
        ("HRA 5, Köln", "HRA 5", "Köln"),
        ("AG Charlottenburg HRB 9", "HRB 9", "Berlin (Charlottenburg)"),
    ],
)
def test_register_numbers_in_the_ways_people_type_them(
    typed: str, number: str, court: str | None
) -> None:
    assert identifiers.register_number(typed) == identifiers.RegisterNumber(number, court)


async def test_a_register_number_typed_with_its_court_fills_the_court(api: Api) -> None:
    company = await created(api, tradeRegisterNumber="Amtsgericht Stuttgart HRB 724389")
    assert (company["tradeRegisterNumber"], company["registerCourt"]) == ("HRB 724389", "Stuttgart")
    updated = await api.data(
        UPDATE, {"id": company["id"], "i": {"tradeRegisterNumber": "HRA 5, Berlin"}}
    )
    moved = updated["updateCompany"]
    assert (moved["tradeRegisterNumber"], moved["registerCourt"]) == (
        "HRA 5",
        "Berlin (Charlottenburg)",
    )


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"tradeRegisterNumber": "HRX 12345"}, "tradeRegisterNumber", Reason.INVALID_FORMAT),
        ({"tradeRegisterNumber": "Atlantis HRB 1"}, "tradeRegisterNumber", Reason.UNKNOWN_COURT),
        ({"registerCourt": "Amtsgericht Atlantis"}, "registerCourt", Reason.UNKNOWN_COURT),
    ],
)
async def test_a_wrong_register_number_or_court_is_refused(
    api: Api, fields: dict[str, str], field: str, reason: Reason
) -> None:
    result = await create(api, **fields)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert error_fields(result) == {field}


async def test_a_register_number_naming_another_court_than_the_court_field_is_refused(
    api: Api,
) -> None:
    result = await create(api, tradeRegisterNumber="Köln HRB 1", registerCourt="Bonn")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert error_fields(result) == {"tradeRegisterNumber"}


# ---- postcodes, phones, e-mails ------------------------------------------------------------


async def test_a_german_postcode_is_five_digits_in_range_a_foreign_one_is_free(api: Api) -> None:
    company = await created(
        api,
        billingAddress={"zip": "01067", "city": "Dresden"},
        deliveryAddress={"zip": "1010", "city": "Wien", "countryCode": "AT"},
    )
    assert company["billingAddress"]["zip"] == "01067"
    assert company["deliveryAddress"]["zip"] == "1010"
    for zip_code in ("1010", "7017A", "00123"):
        result = await create(api, billingAddress={"zip": zip_code})
        assert error_codes(result) == ["BAD_USER_INPUT"], zip_code
        assert error_fields(result) == {"billingAddress.zip"}, zip_code
    with pytest.raises(IdentifierError) as raised:
        identifiers.postcode("00123", "DE")
    assert raised.value.reason is Reason.OUT_OF_RANGE


@pytest.mark.parametrize("typed", ["+49 711 123456-0", "0711 1234560", "+43 1 5131020"])
async def test_a_valid_phone_number_is_stored_as_typed(api: Api, typed: str) -> None:
    company = await created(api)
    added = await api.data(ADD_PHONE, {"id": company["id"], "p": typed})
    assert added["addCompanyPhone"]["phone"]["phone"] == typed


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("+49 711", Reason.INVALID_LENGTH),
        ("+49 01234 5678", Reason.NOT_ASSIGNED),  # possible length, no German number range
        ("+999 1234567", Reason.UNSUPPORTED_COUNTRY),
        ("call me", Reason.INVALID_FORMAT),
    ],
)
async def test_a_phone_number_that_is_not_valid_is_refused(
    api: Api, typed: str, reason: Reason
) -> None:
    with pytest.raises(IdentifierError) as raised:
        identifiers.phone(typed)
    assert raised.value.reason is reason
    company = await created(api)
    result = await api(ADD_PHONE, {"id": company["id"], "p": typed})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    listed = await create(api, phones=[{"phone": "+49 711 1234560"}, {"phone": typed}])
    assert error_fields(listed) == {"phones[1].phone"}


async def test_an_email_is_checked_by_syntax_and_stored_normalized(api: Api) -> None:
    company = await created(api)
    added = await api.data(ADD_EMAIL, {"id": company["id"], "e": " Anna.Schmidt@Example.DE "})
    assert (
        added["addCompanyEmail"]["email"]["email"] == "Anna.Schmidt@example.de"
    )  # the domain folded
    unicode = await api.data(ADD_EMAIL, {"id": company["id"], "e": "info@Bücher.de"})
    assert unicode["addCompanyEmail"]["email"]["email"] == "info@bücher.de"
    # no DNS lookup: a domain that does not exist is fine by syntax
    nowhere = await api.data(ADD_EMAIL, {"id": company["id"], "e": "a@nowhere-abc123.de"})
    assert nowhere["addCompanyEmail"]["email"]["email"] == "a@nowhere-abc123.de"
    for typed in ("anna@", "anna@localhost", "anna..b@x.de", "anna@x.test"):
        result = await api(ADD_EMAIL, {"id": company["id"], "e": typed})
        assert error_codes(result) == ["BAD_USER_INPUT"], typed


# ---- values written before the checks ------------------------------------------------------

OLD_VALUES = {
    "vat_id": "DE123456789",
    "tax_id": "12345",
    "trade_register_number": "HRX 1",
    "register_court": "Amtsgericht Atlantis",
    "billing_address": {"zip": "123", "city": "Irgendwo", "country_code": "DE"},
}


async def old_company(scope: TenantScope) -> uuid.UUID:
    """A company as an older version wrote it: values today's checks refuse."""
    company_id = await add_row(scope, Company, name="Alt GmbH", **OLD_VALUES)
    await add_row(scope, ContactEmail, company_id=company_id, email="alt@@x", is_primary=True)
    await add_row(scope, ContactPhone, company_id=company_id, phone="12", is_primary=True)
    return company_id


async def test_old_invalid_values_stay_readable_and_editable(api: Api, app: Starlette) -> None:
    company_id = await old_company(await scope_of(api, app))
    read = (await api.data(GET, {"id": str(company_id)}))["company"]
    assert (read["vatId"], read["taxId"], read["billingAddress"]["zip"]) == (
        "DE123456789",
        "12345",
        "123",
    )
    assert (read["emails"], read["phones"]) == ([{"email": "alt@@x"}], [{"phone": "12"}])
    # an update that does not send the failing fields succeeds and leaves them as they are
    updated = await api.data(UPDATE, {"id": str(company_id), "i": {"name": "Neu GmbH"}})
    assert updated["updateCompany"]["vatId"] == "DE123456789"
    assert updated["updateCompany"]["phones"] == [{"phone": "12"}]
    # one that sends a failing field must send a valid value
    result = await api(UPDATE, {"id": str(company_id), "i": {"vatId": "DE123456789"}})
    assert error_fields(result) == {"vatId"}
    fixed = await api.data(UPDATE, {"id": str(company_id), "i": {"vatId": "DE811907980"}})
    assert fixed["updateCompany"]["vatId"] == "DE811907980"
    assert fixed["updateCompany"]["taxId"] == "12345"
