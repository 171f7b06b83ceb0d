"""The German words and formats S9's generator (bench/search_data.py) builds its records
from: surnames weighted roughly as common as they are (Müller most), trades, legal forms with
the register they are entered in, cities with their dialling code and register court, first
names, streets, the phrases of deals, activities and contracts; transliteration, VAT ids with
their check digit, and phone numbers written the ways people write them."""

from __future__ import annotations

import random
import unicodedata

from stdnum.iso7064 import mod_11_10

# (surname, weight): the most common German surnames first, umlauts and ß included.
SURNAMES = [
    ("Müller", 40), ("Schmidt", 30), ("Schneider", 22), ("Fischer", 20), ("Weber", 18),
    ("Meyer", 17), ("Wagner", 15), ("Becker", 14), ("Schulz", 13), ("Hoffmann", 13),
    ("Schäfer", 11), ("Koch", 10), ("Bauer", 10), ("Richter", 9), ("Klein", 9), ("Wolf", 8),
    ("Schröder", 8), ("Neumann", 8), ("Schwarz", 7), ("Zimmermann", 7), ("Braun", 7),
    ("Krüger", 7), ("Hofmann", 6), ("Hartmann", 6), ("Lange", 6), ("Schmitt", 6), ("Werner", 6),
    ("Schmitz", 6), ("Krause", 6), ("Meier", 5), ("Lehmann", 5), ("Schmid", 5), ("Schulze", 5),
    ("Maier", 5), ("Köhler", 5), ("Herrmann", 5), ("König", 5), ("Walter", 4), ("Mayer", 4),
    ("Huber", 4), ("Kaiser", 4), ("Fuchs", 4), ("Peters", 4), ("Lang", 4), ("Scholz", 4),
    ("Möller", 4), ("Weiß", 4), ("Jung", 4), ("Hahn", 3), ("Schubert", 3), ("Vogel", 3),
    ("Friedrich", 3), ("Keller", 3), ("Günther", 3), ("Frank", 3), ("Berger", 3),
    ("Winkler", 3), ("Roth", 3), ("Beck", 3), ("Lorenz", 3), ("Baumann", 3), ("Franke", 3),
    ("Albrecht", 3), ("Schuster", 3), ("Simon", 3), ("Ludwig", 3), ("Böhm", 3), ("Winter", 3),
    ("Kraus", 3), ("Martin", 3), ("Schumacher", 3), ("Krämer", 3), ("Vogt", 3), ("Stein", 3),
    ("Jäger", 3), ("Otto", 3), ("Sommer", 3), ("Groß", 3), ("Seidel", 3), ("Heinrich", 3),
    ("Brandt", 2), ("Haas", 2), ("Schreiber", 2), ("Graf", 2), ("Schulte", 2), ("Dietrich", 2),
    ("Ziegler", 2), ("Kuhn", 2), ("Kühn", 2), ("Pohl", 2), ("Engel", 2), ("Horn", 2),
    ("Busch", 2), ("Bergmann", 2), ("Thomas", 2), ("Voigt", 2), ("Sauer", 2), ("Arnold", 2),
    ("Wolff", 2), ("Pfeiffer", 2), ("Strauß", 2), ("Blümel", 1), ("Rößler", 1), ("Fuß", 1),
    ("Gößmann", 1), ("Nüßlein", 1), ("Büttner", 1), ("Thüringer", 1), ("Löffler", 1),
]  # fmt: skip
TRADES = [
    "Maschinenbau", "Metallbau", "Elektrotechnik", "Logistik", "Söhne", "Bäckerei",
    "Holzbau", "Stahlbau", "Anlagenbau", "Werkzeugbau", "Feinmechanik", "Kunststofftechnik",
    "Haustechnik", "Heizung und Sanitär", "Dachdeckerei", "Spedition", "Gerüstbau",
    "Automatisierung", "Antriebstechnik", "Hydraulik", "Präzisionsteile", "Zerspanung",
    "Oberflächentechnik", "Gießerei", "Druckerei", "Verpackung", "Lebensmittel", "Getränke",
    "Möbelwerkstätten", "Fensterbau", "Baustoffe", "Landtechnik", "Medizintechnik",
    "Messtechnik", "Industrieservice", "Gebäudereinigung", "Steuerberatung", "IT-Service",
    "Software", "Elektroinstallation", "Fördertechnik", "Umformtechnik", "Schweißtechnik",
]  # fmt: skip
# (legal form, register: HRA for partnerships and sole traders, HRB for corporations)
FORMS = [
    ("GmbH", "HRB", 40), ("GmbH & Co. KG", "HRA", 20), ("AG", "HRB", 5), ("KG", "HRA", 10),
    ("e.K.", "HRA", 10), ("UG (haftungsbeschränkt)", "HRB", 8), ("OHG", "HRA", 7),
]  # fmt: skip
# (city, postcode prefix, dialling code without the 0, register court)
CITIES = [
    ("Stuttgart", "70", "711", "Stuttgart"), ("München", "80", "89", "München"),
    ("Berlin", "10", "30", "Charlottenburg"), ("Hamburg", "20", "40", "Hamburg"),
    ("Köln", "50", "221", "Köln"), ("Frankfurt am Main", "60", "69", "Frankfurt am Main"),
    ("Düsseldorf", "40", "211", "Düsseldorf"), ("Nürnberg", "90", "911", "Nürnberg"),
    ("Leipzig", "04", "341", "Leipzig"), ("Dresden", "01", "351", "Dresden"),
    ("Hannover", "30", "511", "Hannover"), ("Bremen", "28", "421", "Bremen"),
    ("Essen", "45", "201", "Essen"), ("Dortmund", "44", "231", "Dortmund"),
    ("Mannheim", "68", "621", "Mannheim"), ("Karlsruhe", "76", "721", "Mannheim"),
    ("Augsburg", "86", "821", "Augsburg"), ("Freiburg im Breisgau", "79", "761", "Freiburg"),
    ("Ulm", "89", "731", "Ulm"), ("Heilbronn", "74", "7131", "Stuttgart"),
    ("Göttingen", "37", "551", "Göttingen"), ("Würzburg", "97", "931", "Würzburg"),
    ("Regensburg", "93", "941", "Regensburg"), ("Münster", "48", "251", "Münster"),
    ("Osnabrück", "49", "541", "Osnabrück"), ("Lüneburg", "21", "4131", "Lüneburg"),
    ("Fürth", "90", "911", "Fürth"), ("Böblingen", "71", "7031", "Stuttgart"),
    ("Pforzheim", "75", "7231", "Mannheim"), ("Saarbrücken", "66", "681", "Saarbrücken"),
]  # fmt: skip
STREETS = [
    "Hauptstraße", "Bahnhofstraße", "Industriestraße", "Gartenstraße", "Schulstraße",
    "Königstraße", "Lindenstraße", "Mühlenweg", "Am Hafen", "Gewerbepark", "Talstraße",
    "Friedrichstraße", "Max-Planck-Straße", "Robert-Bosch-Straße", "Daimlerstraße",
    "Carl-Zeiss-Ring", "Schloßallee", "Brückenstraße", "Rheinstraße", "Tannenweg",
]  # fmt: skip
FEMALE = [
    "Anna", "Lea", "Mia", "Emma", "Sophie", "Marie", "Hannah", "Laura", "Julia", "Katharina",
    "Sabine", "Petra", "Claudia", "Susanne", "Andrea", "Monika", "Birgit", "Stefanie", "Anja",
    "Käthe", "Jördis", "Bärbel", "Grete", "Ursula", "Franziska", "Lena",
]  # fmt: skip
MALE = [
    "Jonas", "Lukas", "Felix", "Paul", "Max", "Leon", "Thomas", "Michael", "Andreas",
    "Stefan", "Jürgen", "Jörg", "Günter", "Klaus", "Uwe", "Frank", "Matthias", "Tobias",
    "Sebastian", "Björn", "Sören", "Hans-Peter", "Karl-Heinz", "Dieter", "Wolfgang", "Jan",
]  # fmt: skip
TITLES = ["Dr.", "Prof. Dr.", "Dipl.-Ing."]
POSITIONS = [
    "Geschäftsführer", "Einkaufsleiter", "Leitung Einkauf", "Technischer Leiter",
    "Vertriebsleiter", "Prokurist", "Assistenz der Geschäftsführung", "Werksleiter",
    "Leiterin Buchhaltung", "Projektleiter", "Inhaber", "Sachbearbeiterin Einkauf",
]  # fmt: skip
DEPARTMENTS = ["Einkauf", "Technik", "Geschäftsführung", "Buchhaltung", "Vertrieb", "Produktion"]
MAIL_HOSTS = ["gmx.de", "web.de", "t-online.de", "gmail.com", "posteo.de", "freenet.de"]
MOBILE_PREFIXES = ["151", "152", "157", "160", "162", "170", "171", "172", "173", "175",
                   "176", "177", "178", "179"]  # fmt: skip
TAGS = ["Kunde", "Interessent", "A-Kunde", "B-Kunde", "Partner", "Lieferant", "ERP",
        "Newsletter", "Messe 2026", "Rahmenvertrag", "Export", "Großkunde", "Bestandskunde",
        "Wiedervorlage", "Öffentlicher Auftraggeber"]  # fmt: skip
INDUSTRIES = ["Maschinenbau", "Metallverarbeitung", "Elektrotechnik", "Logistik", "Handwerk",
              "Lebensmittel", "Bau", "Handel", "IT und Software", "Medizintechnik",
              "Automobilzulieferer", "Energie"]  # fmt: skip
PRODUCTS = [
    "CNC-Fräse DMU 65", "Hydraulikpresse HP 200", "Wartungsvertrag Drehzentrum",
    "Ersatzteile Hydraulik", "Schweißroboter", "Förderband-Anlage", "Druckluftkompressor",
    "Laserschneidanlage", "Software-Lizenzen ERP", "Schulung Bedienpersonal",
    "Lagerregalsystem", "Kühlaggregat", "Gabelstapler", "Messmaschine Zeiss Contura",
    "Rahmenvertrag Verschleißteile", "Retrofit Steuerung", "Prüfstand Getriebe",
]  # fmt: skip
DEAL_FORMS = ["{product}", "{product}: Angebot {year}", "Rahmenvertrag {year}: {product}",
              "{product} für Werk {city}", "Erweiterung {product}"]  # fmt: skip
ACTIVITY_SUBJECTS = {
    "CALL": ["Rückruf wegen Angebot", "Telefonat mit {name}", "Nachfassen Angebot",
             "Terminabsprache", "Klärung Liefertermin"],
    "EMAIL": ["Angebot verschickt", "Unterlagen nachgereicht", "Preisanfrage beantwortet",
              "Auftragsbestätigung", "Rückfrage zur Rechnung"],
    "MEETING": ["Vor-Ort-Termin in {city}", "Messegespräch", "Vorführung {product}",
                "Jahresgespräch", "Werksbesichtigung"],
    "NOTE": ["Notiz zum Gespräch", "Wettbewerber im Spiel", "Budget freigegeben",
             "Ansprechpartner gewechselt"],
    "TASK": ["Angebot erstellen", "Muster versenden", "Referenzen zusammenstellen"],
    "FOLLOWUP": ["Wiedervorlage Angebot", "Nachfassen nach Messe", "Erinnerung Vertragsverlängerung"],
}  # fmt: skip
SENTENCES = [
    "{name} hat Interesse an {product} signalisiert.",
    "Der Einkauf möchte bis Ende des Quartals eine Entscheidung treffen.",
    "Preis liegt etwa zehn Prozent über dem Budget, Rabatt wurde angefragt.",
    "Wettbewerber aus Österreich hat ebenfalls angeboten.",
    "Technische Abstimmung mit der Fertigung in {city} steht noch aus.",
    "Liefertermin KW {week} wurde zugesagt.",
    "Ansprechpartnerin ist ab nächster Woche im Urlaub, Vertretung übernimmt.",
    "Rahmenvertrag läuft aus, Verlängerung um zwei Jahre gewünscht.",
    "Muster sind angekommen, Rückmeldung zur Qualität positiv.",
    "Die Geschäftsführung möchte das Angebot persönlich besprechen.",
    "Zahlungsziel 30 Tage netto, Skonto 2 % bei Zahlung innerhalb von 10 Tagen.",
    "Bitte Angebot für {product} mit Schulung und Inbetriebnahme ergänzen.",
    "Großauftrag möglich, wenn die Lieferzeit unter sechs Wochen bleibt.",
    "Rückruf vereinbart für Donnerstag, 10 Uhr.",
]  # fmt: skip
CONTRACTS = ["Wartungsvertrag", "Rahmenvertrag", "Servicevertrag", "Lizenzvertrag",
             "Liefervertrag", "Mietvertrag Gabelstapler"]  # fmt: skip
LOST_REASONS = ["PRICE", "COMPETITOR", "NO_BUDGET", "NO_DECISION", "TIMING"]
# (employee band, weight): most German companies are small.
SIZES = [("MICRO", 35), ("SMALL", 35), ("MEDIUM", 20), ("LARGE", 7), ("ENTERPRISE", 3), (None, 10)]

TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae",
                                 "Ö": "Oe", "Ü": "Ue"})  # fmt: skip


def transliterated(text: str) -> str:
    """ä -> ae, ß -> ss, other accents dropped: what a domain or an e-mail address holds."""
    text = text.translate(TRANSLITERATION)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slug(text: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in transliterated(text).lower())
    return "-".join(part for part in kept.split("-") if part)


def vat_id(base: int) -> str:
    """DE + 8 digits + the check digit of the German VAT id (ISO 7064 MOD 11,10, stdnum's)."""
    digits = f"{base:08d}"
    return f"DE{digits}{mod_11_10.calc_check_digit(digits)}"


def landline(rng: random.Random, area: str, number: str, extension: str) -> str:
    """One number in one of the ways Germans write it."""
    style = rng.randrange(6)
    return [
        f"+49 {area} {number}-{extension}",
        f"0{area} {number}{extension}",
        f"0049 {area} {number}{extension}",
        f"0{area}/{number}-{extension}",
        f"(0{area}) {number} {extension}",
        f"+49 (0){area} {number}{extension}",
    ][style]


def mobile(rng: random.Random) -> str:
    prefix, number = rng.choice(MOBILE_PREFIXES), str(rng.randint(1000000, 99999999))
    if prefix.startswith("15") and len(number) == 7:  # 015x numbers have 8 digits (no new draw:
        number += number[-1]  # the rows after it stay what they were)
    return [f"0{prefix} {number}", f"+49 {prefix} {number}", f"0{prefix}/{number}",
            f"+49{prefix}{number}"][rng.randrange(4)]  # fmt: skip


def digits(phone: str) -> str:
    """Comparable digits: one number in two spellings is one number (never twice per owner)."""
    only = "".join(c for c in phone if c.isdigit())
    for prefix, replacement in (("00", ""), ("490", "49"), ("0", "49")):
        if only.startswith(prefix):
            only = replacement + only[len(prefix) :]
            break
    return only
