"""Word lists the demo warehouse draws from: names, cities, dialling and postal prefixes, domains.

Everything here is plain data. Identifiers built from it are fake but shaped like real ones: US and
Canadian phones use the fictional 555 exchange, British mobiles use ranges that libphonenumber
accepts, e-mail domains are common webmail names or the reserved ``example.*`` domains. Accents
(José, Zoë, Müller, François...) are deliberate: they are what normalization has to cope with.

``countries_table()`` packs it into one Arrow row per country (lists and a list of city structs),
which the generator registers in DuckDB and indexes with hash-drawn positions.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

CATEGORIES: tuple[str, ...] = (
    "apparel", "footwear", "home", "beauty", "electronics", "outdoors", "kids", "accessories",
)
# Typical gross price of one standard (non-premium) item, in US dollars, per category above.
BASE_PRICES: tuple[float, ...] = (45.0, 80.0, 60.0, 30.0, 150.0, 90.0, 35.0, 40.0)

# Country, cumulative share of customers (drawn in this order), currency, price factor, locale.
COUNTRY_SHARES: tuple[tuple[str, float, str, float, str], ...] = (
    ("US", 0.45, "USD", 1.0, "en-US"),
    ("BR", 0.65, "BRL", 5.3, "pt-BR"),
    ("GB", 0.77, "GBP", 0.79, "en-GB"),
    ("DE", 0.87, "EUR", 0.92, "de-DE"),
    ("FR", 0.95, "EUR", 0.92, "fr-FR"),
    ("CA", 1.00, "CAD", 1.37, "en-CA"),
)

COUNTRY_NAMES: dict[str, list[str]] = {
    "US": ["United States", "USA", "U.S.A.", "United States of America"],
    "BR": ["Brasil", "Brazil"],
    "GB": ["United Kingdom", "UK", "Great Britain", "England"],
    "DE": ["Germany", "Deutschland"],
    "FR": ["France"],
    "CA": ["Canada"],
}

FIRST_NAMES_F: dict[str, list[str]] = {
    "US": ["Emma", "Olivia", "Ava", "Sophia", "Isabella", "Mia", "Charlotte", "Amelia", "Harper",
           "Evelyn", "Abigail", "Emily", "Madison", "Chloe", "Zoë", "María", "Sofía", "Ana", "Jessica",
           "Ashley", "Jennifer", "Sarah", "Nicole", "Aaliyah", "Mei", "Priya", "Renée", "Mary-Kate"],
    "BR": ["Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda",
           "Patrícia", "Aline", "Letícia", "Beatriz", "Gabriela", "Larissa", "Camila", "Júlia", "Luíza",
           "Mariana", "Bárbara", "Cecília", "Conceição", "Inês"],
    "GB": ["Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
           "Grace", "Freya", "Poppy", "Zoë", "Siobhán", "Niamh", "Chloë", "Evie", "Florence", "Harriet",
           "Aoife", "Eleanor"],
    "DE": ["Marie", "Sophie", "Maria", "Anna", "Emma", "Mia", "Hannah", "Lena", "Lea", "Leonie", "Lara",
           "Katharina", "Käthe", "Ursula", "Brigitte", "Sabine", "Jördis", "Hülya", "Zoë", "Anneliese",
           "Jana", "Laura"],
    "FR": ["Emma", "Jade", "Louise", "Alice", "Chloé", "Léa", "Manon", "Inès", "Camille", "Léna", "Zoé",
           "Hélène", "Élodie", "Amélie", "Noémie", "Céline", "Françoise", "Anaïs", "Maëlle", "Clémence",
           "Marie-Claire", "Océane"],
    "CA": ["Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Chloé", "Léa", "Alice", "Geneviève",
           "Émilie", "Maude", "Mégane", "Ava", "Zoë", "Florence", "Rosalie", "Marie-Ève", "Noémie"],
}

FIRST_NAMES_M: dict[str, list[str]] = {
    "US": ["Liam", "Noah", "James", "William", "Benjamin", "Lucas", "Henry", "Alexander", "Michael",
           "Daniel", "Matthew", "Joseph", "David", "José", "Luis", "Carlos", "Ethan", "Jacob", "Tyler",
           "Andrew", "Kevin", "Jamal", "Wei", "Arjun", "André", "D'Andre"],
    "BR": ["José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos",
           "Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo",
           "Rodrigo", "Thiago", "Vinícius", "Caio", "Sebastião"],
    "GB": ["Oliver", "George", "Arthur", "Noah", "Muhammad", "Leo", "Harry", "Oscar", "Archie", "Henry",
           "Jack", "Charlie", "Thomas", "Alfie", "Freddie", "Rhys", "Seán", "Callum", "Dylan", "Hamish",
           "Eoin", "Ciarán"],
    "DE": ["Maximilian", "Alexander", "Paul", "Elias", "Ben", "Noah", "Leon", "Louis", "Jonas", "Felix",
           "Lukas", "Jürgen", "Björn", "Jörg", "Uwe", "Günter", "Klaus", "Sören", "Timo", "Mehmet",
           "Götz", "Hans-Peter"],
    "FR": ["Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Lucas", "Adam", "Jules", "Hugo", "Maël",
           "Noé", "François", "Jérôme", "Stéphane", "Frédéric", "Loïc", "Thibault", "Benoît", "Mathéo",
           "Élie", "Jean-Luc", "Anaël"],
    "CA": ["Liam", "Noah", "William", "Thomas", "Benjamin", "Lucas", "Jacob", "Félix", "Nathan",
           "Olivier", "Étienne", "Stéphane", "Mathis", "Jean-François", "Jérémie", "Owen", "Noël"],
}

LAST_NAMES: dict[str, list[str]] = {
    "US": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
           "Martinez", "Hernández", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
           "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White", "Harris", "Sánchez",
           "Clark", "Ramírez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
           "Scott", "Torres", "Nguyen", "Hill", "Flores", "O'Brien", "McDonald", "Kim", "Patel"],
    "BR": ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
           "Gomes", "Ribeiro", "Carvalho", "Almeida", "Lopes", "Sousa", "Fernandes", "Vieira",
           "Barbosa", "Rocha", "Dias", "Nascimento", "Araújo", "Conceição", "Gonçalves", "Magalhães",
           "da Silva", "dos Santos", "de Souza", "Simões", "Brandão"],
    "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
           "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
           "Jackson", "Clarke", "Patel", "Khan", "O'Brien", "MacLeod", "Hughes", "Edwards", "Murphy",
           "Campbell", "Ahmed", "Ó Súilleabháin"],
    "DE": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
           "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
           "Werner", "Krause", "Köhler", "Groß", "Weiß", "Yılmaz", "von Bülow"],
    "FR": ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
           "Laurent", "Simon", "Michel", "Lefèbvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
           "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
           "Müller", "Lefèvre", "Mercier", "Gauthier", "Chevalier", "Faure", "Béranger", "Lemaître"],
    "CA": ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
           "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Smith", "Brown", "Wilson",
           "MacDonald", "Campbell", "Nguyen", "Singh", "Li", "Leblanc", "Bergeron"],
}

# Repeated entries weight the draw.
EMAIL_DOMAINS: dict[str, list[str]] = {
    "US": ["gmail.com"] * 4 + ["icloud.com"] * 2 + ["yahoo.com", "hotmail.com", "outlook.com", "aol.com",
                                                   "example.com", "example.net"],
    "BR": ["gmail.com"] * 5 + ["hotmail.com"] * 2 + ["yahoo.com.br", "outlook.com", "uol.com.br",
                                                    "bol.com.br", "example.com"],
    "GB": ["gmail.com"] * 3 + ["googlemail.com"] * 2 + ["hotmail.co.uk", "yahoo.co.uk", "outlook.com",
                                                       "btinternet.com", "icloud.com", "example.org"],
    "DE": ["gmail.com"] * 2 + ["googlemail.com"] * 2 + ["web.de"] * 2 + ["gmx.de"] * 2
    + ["t-online.de", "outlook.de", "example.com"],
    "FR": ["gmail.com"] * 3 + ["orange.fr", "free.fr", "laposte.net", "hotmail.fr", "yahoo.fr", "sfr.fr",
                               "example.net"],
    "CA": ["gmail.com"] * 3 + ["hotmail.com", "outlook.com", "yahoo.ca", "icloud.com", "videotron.ca",
                               "example.com"],
}
GMAIL_TAGS: list[str] = ["shop", "promo", "news", "deals", "2025", "orders"]

# Mobile prefixes (national significant number, without trunk 0) libphonenumber accepts in full.
MOBILE_PREFIXES: dict[str, list[str]] = {
    "GB": ["7400", "7500", "7800", "7900", "7950", "7971", "7584", "7412", "7508", "7723", "7852", "7939"],
    "DE": ["151", "152", "157", "159", "176", "177", "178", "179"],
    "FR": ["60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78"],
}

# city, state, dialling codes (US/CA area codes, BR DDD, DE area code without trunk 0; unused for
# GB and FR, whose numbers are mobiles or fixed fictional ranges), postal prefixes (US 3 digits,
# CA forward sortation areas, BR first 2 digits, GB outward codes, DE first 3 digits, FR full codes).
CITIES: dict[str, list[tuple[str, str, list[str], list[str]]]] = {
    "US": [
        ("San Francisco", "CA", ["415", "628"], ["941"]),
        ("Los Angeles", "CA", ["213", "310", "323"], ["900", "901"]),
        ("New York", "NY", ["212", "646", "718"], ["100", "101", "112"]),
        ("Chicago", "IL", ["312", "773"], ["606"]),
        ("Austin", "TX", ["512", "737"], ["787"]),
        ("Houston", "TX", ["713", "832"], ["770"]),
        ("Seattle", "WA", ["206"], ["981"]),
        ("Miami", "FL", ["305", "786"], ["331"]),
        ("Boston", "MA", ["617", "857"], ["021"]),
        ("Denver", "CO", ["303", "720"], ["802"]),
        ("Atlanta", "GA", ["404", "470"], ["303"]),
        ("Phoenix", "AZ", ["602", "480"], ["850"]),
        ("Portland", "OR", ["503", "971"], ["972"]),
        ("Philadelphia", "PA", ["215", "267"], ["191"]),
        ("Nashville", "TN", ["615"], ["372"]),
        ("San José", "CA", ["408", "669"], ["951"]),
        ("Albuquerque", "NM", ["505"], ["871"]),
    ],
    "CA": [
        ("Toronto", "ON", ["416", "647"], ["M5V", "M4C", "M6G", "M5A"]),
        ("Montréal", "QC", ["514", "438"], ["H2X", "H3B", "H2J"]),
        ("Vancouver", "BC", ["604", "778"], ["V6B", "V5K", "V6E"]),
        ("Ottawa", "ON", ["613", "343"], ["K1A", "K1P", "K2P"]),
        ("Calgary", "AB", ["403", "587"], ["T2P", "T3A"]),
        ("Québec", "QC", ["418", "581"], ["G1R", "G1K"]),
    ],
    "BR": [
        ("São Paulo", "SP", ["11"], ["01", "02", "03", "04", "05"]),
        ("Rio de Janeiro", "RJ", ["21"], ["20", "21", "22"]),
        ("Belo Horizonte", "MG", ["31"], ["30", "31"]),
        ("Curitiba", "PR", ["41"], ["80", "81"]),
        ("Porto Alegre", "RS", ["51"], ["90", "91"]),
        ("Salvador", "BA", ["71"], ["40", "41"]),
        ("Recife", "PE", ["81"], ["50", "51"]),
        ("Brasília", "DF", ["61"], ["70", "71", "72"]),
        ("Fortaleza", "CE", ["85"], ["60"]),
        ("Florianópolis", "SC", ["48"], ["88"]),
        ("Goiânia", "GO", ["62"], ["74"]),
        ("Campinas", "SP", ["19"], ["13"]),
    ],
    "GB": [
        ("London", "ENG", [], ["SW1A", "EC1A", "W1A", "N1", "SE1", "E14", "NW3", "WC2N"]),
        ("Manchester", "ENG", [], ["M1", "M4", "M20"]),
        ("Birmingham", "ENG", [], ["B1", "B15", "B33"]),
        ("Leeds", "ENG", [], ["LS1", "LS6"]),
        ("Glasgow", "SCT", [], ["G1", "G12"]),
        ("Edinburgh", "SCT", [], ["EH1", "EH3"]),
        ("Cardiff", "WLS", [], ["CF10", "CF24"]),
        ("Belfast", "NIR", [], ["BT1", "BT7"]),
        ("Bristol", "ENG", [], ["BS1", "BS8"]),
        ("Liverpool", "ENG", [], ["L1", "L8"]),
    ],
    "DE": [
        ("Berlin", "BE", ["30"], ["101", "104", "107", "109", "120", "130"]),
        ("München", "BY", ["89"], ["803", "806", "809", "813"]),
        ("Hamburg", "HH", ["40"], ["200", "203", "205", "221"]),
        ("Köln", "NW", ["221"], ["506", "507", "509"]),
        ("Frankfurt am Main", "HE", ["69"], ["603", "604", "605"]),
        ("Stuttgart", "BW", ["711"], ["701", "703"]),
        ("Düsseldorf", "NW", ["211"], ["402", "404"]),
        ("Leipzig", "SN", ["341"], ["041", "043"]),
        ("Nürnberg", "BY", ["911"], ["904"]),
    ],
    "FR": [
        ("Paris", "IDF", [], [f"750{i:02d}" for i in range(1, 21)]),
        ("Lyon", "ARA", [], [f"6900{i}" for i in range(1, 10)]),
        ("Marseille", "PAC", [], [f"130{i:02d}" for i in range(1, 17)]),
        ("Toulouse", "OCC", [], ["31000", "31100", "31200", "31300", "31400", "31500"]),
        ("Nice", "PAC", [], ["06000", "06100", "06200", "06300"]),
        ("Bordeaux", "NAQ", [], ["33000", "33100", "33200", "33300", "33800"]),
        ("Lille", "HDF", [], ["59000", "59160", "59260", "59777", "59800"]),
        ("Strasbourg", "GES", [], ["67000", "67100", "67200"]),
        ("Nantes", "PDL", [], ["44000", "44100", "44200", "44300"]),
    ],
}


def countries_table() -> pa.Table:
    """One row per country: share bound, currency, price factor, locale and its word lists."""
    rows: list[dict[str, Any]] = []
    for code, share_bound, currency, price_factor, locale in COUNTRY_SHARES:
        rows.append({
            "code": code, "share_bound": share_bound, "currency": currency,
            "price_factor": price_factor, "locale": locale,
            "country_names": COUNTRY_NAMES[code], "first_f": FIRST_NAMES_F[code],
            "first_m": FIRST_NAMES_M[code], "last_names": LAST_NAMES[code],
            "domains": EMAIL_DOMAINS[code], "mobile_prefixes": MOBILE_PREFIXES.get(code, []),
            "cities": [
                {"city": city, "state": state, "dial": dial, "postal": postal}
                for city, state, dial, postal in CITIES[code]
            ],
        })
    return pa.Table.from_pylist(rows)
