"""Normalization and hashing rule sets, one per destination type and identifier, as data + SQL.

A rule turns canonical values (``fields.py``) into the value a destination receives: the SQL
expression of the normalized value and whether it is SHA-256 hashed (hex, lower case). Rules are
evaluated by DuckDB over whole columns (``prepare.py``) and over one value by ``identify``: one
implementation for the pipeline, the CLI and the golden-vector tests.

Sources of the rules (``docs/identity.md`` has the details and the choices we made):

* Meta: customer-file audience normalization (EMAIL trimmed + lower; PHONE digits with country code,
  no ``+``, no leading zeros; FN/LN lower case letters only, UTF-8 letters kept; FI first letter;
  CT/ST lower case a-z, a US state as its 2-letter code (canonical ``state``); ZIP lower case without
  spaces, US first five digits, UK area/district/sector; COUNTRY lower alpha-2; DOBY/DOBM/DOBD; GEN m/f;
  MADID lower case, not hashed; EXTERN_ID as is). We hash ourselves; the SDK's own hashing is never used.
  A pre-hashed phone is SHA-256 of E.164 with the ``+`` (``spec.PREHASHED_FORMS``): Meta cannot send it.
* Google (Data Manager API "Format user data", accepted by the Google Ads API too): e-mail lower case,
  all whitespace removed, for gmail.com/googlemail.com the dots and any ``+tag`` of the local part
  removed; phone E.164 with the ``+``; given/family name lower case and trimmed without prefixes /
  suffixes; region code and postal code (US: five digits) not hashed.
* HubSpot and CleverTap are the CRM of record: plain normalized e-mail and E.164 phone, never hashed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

DESTINATION_TYPES = ("meta", "google_ads", "hubspot", "clevertap")

# Honorifics and generational suffixes Google asks to leave out of names.
NAME_PREFIXES = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "rev")
NAME_SUFFIXES = ("jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq")


@dataclass(frozen=True)
class Rule:
    """How one identifier type reaches one destination.

    ``sql`` is a template over canonical columns named ``{field}``; ``sources[0]`` is the field the
    identifier is about (the rule applies when the behavior maps it), further sources refine it (a
    postal code's country) and may be NULL. The value is NULL whenever a needed input is NULL.
    ``strong`` identifiers can match a person alone: a member needs one to be usable. A rule with
    ``parts`` is a composite (Google's address): the parts' values joined with ``:``, NULL unless all
    parts have a value.
    """

    id_type: str
    wire_key: str
    sources: tuple[str, ...]
    sql: str
    hashed: bool
    strong: bool = False
    parts: tuple[Rule, ...] = ()
    derived: bool = False  # a part of the source (first initial, birth year): not derivable from a hash
    total: bool = True  # a present (canonical) source always gives a value; False when it can give NULL
    # False when the destination hashes another form than a pre-hashed column holds (``spec.PREHASHED_FORMS``)
    accepts_prehashed: bool = True

    def expression(self, columns: Mapping[str, str]) -> str:
        """SQL of the normalized (not yet hashed) value, over canonical column expressions (NULL if unmapped)."""
        return self.sql.format(**{name: columns.get(name, "NULL") for name in self.sources})

    def applies_to(self, mapped: frozenset[str]) -> bool:
        """True when the behavior maps the field(s) this identifier is about."""
        if self.parts:
            return all(part.applies_to(mapped) for part in self.parts)
        return self.sources[0] in mapped


def _letters(x: str) -> str:
    return f"NULLIF(regexp_replace(lower({x}), '[^\\pL]', '', 'g'), '')"


def _ascii_letters(x: str) -> str:
    return f"NULLIF(regexp_replace(lower(strip_accents({x})), '[^a-z]', '', 'g'), '')"


def _without(words: tuple[str, ...], x: str, at_start: bool) -> str:
    """A prefix is removed only when a word follows it, a suffix only after a word: never empties a name."""
    alternatives = "|".join(words)
    pattern = f"^(?:{alternatives})\\.?\\s+" if at_start else f",?\\s+(?:{alternatives})\\.?$"
    return f"NULLIF(trim(regexp_replace(lower({x}), '{pattern}', '')), '')"


_GMAIL = "split_part({email}, '@', -1) IN ('gmail.com', 'googlemail.com')"
_GOOGLE_EMAIL = (
    "CASE WHEN " + _GMAIL + " THEN replace(split_part(split_part({email}, '@', 1), '+', 1), '.', '') "
    "|| '@' || split_part({email}, '@', -1) ELSE regexp_replace({email}, '\\s', '', 'g') END"
)
_GOOGLE_POSTAL = "CASE {country} WHEN 'US' THEN left({postal_code}, 5) ELSE {postal_code} END"
_META_ZIP = (
    "CASE {country} WHEN 'US' THEN left({postal_code}, 5) "
    "WHEN 'GB' THEN lower(replace(left({postal_code}, length({postal_code}) - 2), ' ', '')) "
    "ELSE lower(replace({postal_code}, ' ', '')) END"
)

META_RULES: tuple[Rule, ...] = (
    Rule("email", "EMAIL", ("email",), "{email}", hashed=True, strong=True),
    Rule("phone", "PHONE", ("phone",), "substr({phone}, 2)", hashed=True, strong=True, accepts_prehashed=False),
    Rule("first_name", "FN", ("first_name",), _letters("{first_name}"), hashed=True),
    Rule("first_initial", "FI", ("first_name",), f"left({_letters('{first_name}')}, 1)", hashed=True, derived=True),
    Rule("last_name", "LN", ("last_name",), _letters("{last_name}"), hashed=True),
    Rule("city", "CT", ("city",), _ascii_letters("{city}"), hashed=True, total=False),
    Rule("state", "ST", ("state",), _ascii_letters("{state}"), hashed=True, total=False),
    Rule("postal_code", "ZIP", ("postal_code", "country"), _META_ZIP, hashed=True),
    Rule("country", "COUNTRY", ("country",), "lower({country})", hashed=True),
    Rule("dob_year", "DOBY", ("date_of_birth",), "strftime({date_of_birth}, '%Y')", hashed=True, derived=True),
    Rule("dob_month", "DOBM", ("date_of_birth",), "strftime({date_of_birth}, '%m')", hashed=True, derived=True),
    Rule("dob_day", "DOBD", ("date_of_birth",), "strftime({date_of_birth}, '%d')", hashed=True, derived=True),
    Rule("gender", "GEN", ("gender",), "{gender}", hashed=True),
    Rule("mobile_id", "MADID", ("mobile_id",), "{mobile_id}", hashed=False, strong=True),
    Rule("external_id", "EXTERN_ID", ("external_id",), "{external_id}", hashed=False, strong=True),
)

GOOGLE_ADDRESS = Rule(
    "address",
    "address",
    ("first_name", "last_name", "country", "postal_code"),
    "",
    hashed=False,
    strong=True,
    parts=(
        Rule(
            "given_name",
            "given_name",
            ("first_name",),
            _without(NAME_PREFIXES, "{first_name}", True),
            True,
        ),
        Rule(
            "family_name",
            "family_name",
            ("last_name",),
            _without(NAME_SUFFIXES, "{last_name}", False),
            True,
        ),
        Rule("region_code", "region_code", ("country",), "{country}", hashed=False),
        Rule("postal_code", "postal_code", ("postal_code", "country"), _GOOGLE_POSTAL, hashed=False),
    ),
)
GOOGLE_RULES: tuple[Rule, ...] = (
    Rule("email", "email_address", ("email",), _GOOGLE_EMAIL, hashed=True, strong=True),
    Rule("phone", "phone_number", ("phone",), "{phone}", hashed=True, strong=True),
    GOOGLE_ADDRESS,
    Rule("crm_id", "user_id", ("external_id",), "{external_id}", hashed=False, strong=True),
    Rule("mobile_id", "mobile_id", ("mobile_id",), "{mobile_id}", hashed=False, strong=True),
)
# A Google Customer Match list has one upload key type -> the identifier types it takes.
GOOGLE_KEY_TYPES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"contact_info": ("email", "phone", "address"), "crm_id": ("crm_id",), "mobile_id": ("mobile_id",)}
)
# ``upload_keys`` of a google_ads destination -> identifier types (contact info whole or in parts).
GOOGLE_UPLOAD_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {**GOOGLE_KEY_TYPES, "email": ("email",), "phone": ("phone",), "address": ("address",)}
)

HUBSPOT_RULES: tuple[Rule, ...] = (Rule("email", "email", ("email",), "{email}", hashed=False, strong=True),)

CLEVERTAP_RULES: tuple[Rule, ...] = (
    Rule("email", "Email", ("email",), "{email}", hashed=False),
    Rule("phone", "Phone", ("phone",), "{phone}", hashed=False),
)

RULE_SETS: Mapping[str, tuple[Rule, ...]] = MappingProxyType(
    {"meta": META_RULES, "google_ads": GOOGLE_RULES, "hubspot": HUBSPOT_RULES, "clevertap": CLEVERTAP_RULES}
)
# Which behavior identifier a Meta match key stands for (``match_keys`` in a Meta destination).
META_MATCH_KEY_RULES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "first_name": ("first_name", "first_initial"),
        "date_of_birth": ("dob_year", "dob_month", "dob_day"),
    }
)


def rules_for(destination_type: str, settings: Mapping[str, Any], mapped: frozenset[str]) -> tuple[Rule, ...]:
    """The rules a destination uses, given its settings and the behavior's mapped identifier fields.

    A rule is kept when the behavior maps what it is about. Meta: ``match_keys`` (default: all) choose the
    identifiers; Google: ``upload_keys`` choose contact info, CRM id and/or mobile id; CleverTap: the
    profile ``identity`` is the e-mail or the member key (``identity``). ``mapped`` always holds
    ``member_key``.
    """
    rules = RULE_SETS[destination_type]
    if destination_type == "meta" and settings.get("match_keys"):
        wanted = {t for key in settings["match_keys"] for t in META_MATCH_KEY_RULES.get(key, (key,))}
        rules = tuple(rule for rule in rules if rule.id_type in wanted)
    if destination_type == "clevertap":
        source = "member_key" if settings.get("identity") == "member_key" else "email"
        rules = (Rule("identity", "identity", (source,), f"{{{source}}}", hashed=False, strong=True), *rules)
    if destination_type == "google_ads":
        keys = settings.get("upload_keys") or ("contact_info",)
        wanted = {t for key in keys for t in GOOGLE_UPLOAD_KEYS[key]}
        rules = tuple(rule for rule in rules if rule.id_type in wanted)
    return tuple(rule for rule in rules if rule.applies_to(mapped))


def google_key_type(upload_keys: Sequence[str]) -> str:
    """The one upload key type (``contact_info``, ``crm_id``, ``mobile_id``) of a google_ads destination's
    ``upload_keys``; raises ValueError when they mix types (Google: "mixed data types are not allowed on
    the same list")."""
    kinds = {
        kind for kind, id_types in GOOGLE_KEY_TYPES.items() for key in upload_keys if key == kind or key in id_types
    }
    if len(kinds) != 1:
        raise ValueError(
            f"upload_keys {list(upload_keys)} mix upload key types, but a Customer Match list holds one "
            "(contact info, crm_id or mobile_id): use one google_ads destination per type, each with its own id "
            "and audience_name"
        )
    return kinds.pop()


def passes_prehashed(rule: Rule) -> bool:
    """True when ``rule`` can send a pre-hashed source unchanged: it hashes the whole value, in the declared form."""
    return rule.hashed and not rule.derived and rule.accepts_prehashed


def unusable_prehashed(rules: Sequence[Rule], prehashed: frozenset[str]) -> list[tuple[Rule, str]]:
    """(leaf rule, field) for each pre-hashed field a rule needs but cannot send (plain rules, another hashed form).

    Derived rules (first initial, birth year) are left out: no destination could derive them from a hash.
    """
    leaves = [leaf for rule in rules for leaf in rule.parts or (rule,)]
    return [
        (leaf, leaf.sources[0])
        for leaf in leaves
        if leaf.sources[0] in prehashed and not leaf.derived and not passes_prehashed(leaf)
    ]


def value_sql(rule: Rule, prehashed: frozenset[str], hash_values: bool = True, table: str = "") -> str:
    """SQL of what ``rule`` sends, over canonical columns named like their fields; NULL when not sendable.

    Hashed rules give ``sha256`` hex (when ``hash_values``); a pre-hashed source is sent unchanged by a
    rule that ``passes_prehashed`` and makes the other rules NULL (a hash cannot be normalized, cut or
    turned into another form). ``table`` qualifies the column names (``"u."``).
    """
    if rule.parts:
        parts = (value_sql(part, prehashed, hash_values, table) for part in rule.parts)
        return "(" + " || ':' || ".join(parts) + ")"
    if rule.sources[0] in prehashed:
        return f"{table}{rule.sources[0]}" if passes_prehashed(rule) else "CAST(NULL AS VARCHAR)"
    normalized = rule.expression({name: f"{table}{name}" for name in rule.sources})
    return f"sha256({normalized})" if rule.hashed and hash_values else f"({normalized})"


def sendable_sql(rule: Rule, prehashed: frozenset[str]) -> str:
    """SQL: ``rule`` gives a value for the row; a cheap presence test where the rule is total."""
    if rule.parts:
        return "(" + " AND ".join(sendable_sql(part, prehashed) for part in rule.parts) + ")"
    source = rule.sources[0]
    if source in prehashed:
        return f"({source} IS NOT NULL)" if passes_prehashed(rule) else "false"
    if rule.total:
        return f"({source} IS NOT NULL)"
    return f"({value_sql(rule, prehashed, hash_values=False)} IS NOT NULL)"
