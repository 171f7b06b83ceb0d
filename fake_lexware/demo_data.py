"""Demo data for `insight-crm fake-lexware`: a handful of contacts and vouchers per API key that
show the cases a CRM has to handle (escaped `&` in names, an archived contact, a web-app contact
with two e-mail addresses that a PUT rejects, vendor-only contacts, a collective-contact voucher,
an overdue invoice, drafts and quotations)."""

from __future__ import annotations

from datetime import timedelta

from fake_lexware.formats import Json, now
from fake_lexware.store import FakeLexware


def _address(street: str, zip_code: str, city: str) -> Json:
    return {"billing": [{"street": street, "zip": zip_code, "city": city, "countryCode": "DE"}]}


DEMO_CONTACTS: tuple[Json, ...] = (
    {
        "roles": {"customer": {}},
        "company": {"name": "Müller & Söhne GmbH", "vatRegistrationId": "DE123456788"},
        "addresses": _address("Hauptstr. 5", "10115", "Berlin"),
        "emailAddresses": {"business": ["info@mueller-soehne.de"]},
        "phoneNumbers": {"business": ["030 1234567"]},
    },
    {
        "roles": {"customer": {}, "vendor": {}},
        "company": {
            "name": "Beispiel AG",
            "contactPersons": [
                {
                    "salutation": "Herr",
                    "firstName": "Max",
                    "lastName": "Mustermann",
                    "primary": True,
                }
            ],
        },
        "addresses": _address("Marktplatz 1", "80331", "München"),
        "emailAddresses": {"business": ["einkauf@beispiel.de"]},
    },
    {
        "roles": {"customer": {}},
        "person": {"salutation": "Frau", "firstName": "Inge", "lastName": "Musterfrau"},
        "emailAddresses": {"private": ["inge@example.com"]},
        "note": "Privatkundin",
    },
    {
        "roles": {"vendor": {}},
        "company": {"name": "Büro_Bedarf Lieferant KG"},
        "addresses": _address("Industriestr. 12", "20095", "Hamburg"),
    },
    {
        "roles": {"customer": {}},
        "company": {"name": "Alte Kunde GmbH"},
        "archived": True,
    },
    {
        # edited in the web app: two business e-mails, so a PUT of it as read fails with 406
        "roles": {"customer": {}},
        "company": {"name": "Schmidt IT-Service"},
        "emailAddresses": {"business": ["office@schmidt-it.de", "rechnung@schmidt-it.de"]},
    },
)


def seed_demo(fake: FakeLexware, key: str) -> None:
    """Seed the demo contacts and, relative to today, vouchers linked to them."""
    ids = [fake.seed_contact(key, contact)["id"] for contact in DEMO_CONTACTS]
    today = now().replace(hour=10, minute=0, second=0, microsecond=0)

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    vouchers: list[Json] = [
        {
            "contactId": ids[0],
            "voucherStatus": "paid",
            "voucherDate": day(-60),
            "totalAmount": 1190.0,
        },
        {
            "contactId": ids[0],
            "voucherStatus": "open",
            "voucherDate": day(-5),
            "totalAmount": 595.0,
        },
        # open and past its due date: comes back for voucherStatus=overdue
        {
            "contactId": ids[0],
            "voucherStatus": "open",
            "voucherDate": day(-40),
            "totalAmount": 238.0,
        },
        {
            "contactId": ids[1],
            "voucherType": "quotation",
            "voucherDate": day(-3),
            "totalAmount": 4760.0,
        },
        {
            "contactId": ids[1],
            "voucherStatus": "draft",
            "voucherDate": day(-1),
            "totalAmount": 119.0,
        },
        {
            "contactId": ids[2],
            "voucherType": "creditnote",
            "voucherDate": day(-10),
            "totalAmount": 59.5,
        },
        {
            "contactId": ids[3],
            "voucherType": "purchaseinvoice",
            "voucherDate": day(-7),
            "totalAmount": 89.9,
        },
        {
            "contactId": ids[4],
            "voucherStatus": "paid",
            "voucherDate": day(-400),
            "totalAmount": 357.0,
        },
        # the collective contact ("Sammelkunde"): contactId is null
        {
            "voucherType": "salesinvoice",
            "voucherStatus": "paid",
            "voucherDate": day(-2),
            "totalAmount": 42.0,
        },
    ]
    for voucher in vouchers:
        voucher.setdefault("voucherStatus", "open")
        fake.seed_voucher(key, voucher)
