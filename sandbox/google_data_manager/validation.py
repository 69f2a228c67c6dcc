"""Validation of ingest/remove request bodies (camelCase JSON, enums as integers or names).

The Data Manager API fails fast: when any record fails basic validation the whole request fails and
nothing is processed (https://developers.google.com/data-manager/api/devguides/concepts/understand-errors).
So every record problem found here is collected into one 400 INVALID_ARGUMENT with a BadRequest
field violation per problem (at most ``MAX_VIOLATIONS``); the ErrorInfo reason is the first one's.

An audience member carries exactly one kind of data (the ``data`` oneof): ``userData`` (contact
info: hashed e-mail, phone, address), ``mobileData`` (1..10 mobile advertising ids, IDFA / AAID
UUIDs, not hashed) or ``userIdData`` (the advertiser's own user id, not hashed); one request holds
one kind (``MULTIPLE_DATA_TYPES_NOT_ALLOWED``). Identifiers are kept as strings that never leave the
sandbox except through inspection: ``email:<hex>``, ``phone:<hex>``,
``address:<given hex>:<family hex>:<region>:<postal code>``, ``mobile:<lower-case id>``, ``crm:<user id>``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.google_data_manager import errors
from sandbox.google_data_manager.config import ACCOUNT_TYPES
from sandbox.google_data_manager.errors import FieldViolation, GoogleApiError

MAX_VIOLATIONS = 50
HEX, BASE64 = 1, 2
GRANTED, DENIED = 1, 2
ACCEPTED = 1
_ENCODINGS = {"HEX": HEX, "BASE64": BASE64, "ENCODING_UNSPECIFIED": 0}
_CONSENTS = {"CONSENT_GRANTED": GRANTED, "CONSENT_DENIED": DENIED, "CONSENT_STATUS_UNSPECIFIED": 0}
_TOS = {"ACCEPTED": ACCEPTED, "REJECTED": 2, "TERMS_OF_SERVICE_STATUS_UNSPECIFIED": 0}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEXISH = re.compile(r"[0-9a-f]+")
_REGION = re.compile(r"[A-Z]{2}")
_MOBILE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
USER_DATA, MOBILE_DATA, USER_ID_DATA = "userData", "mobileData", "userIdData"
_DATA_KINDS = (USER_DATA, MOBILE_DATA, USER_ID_DATA)
_UNSUPPORTED_DATA = ("pairData", "ppidData", "compositeData", "googleUserIdData", "partnerProvidedIdData")
MAX_MOBILE_IDS = 10
MAX_USER_ID_LENGTH = 512  # UNCONFIRMED: the Data Manager reference gives no length for user_id


@dataclass(frozen=True)
class Target:
    """One validated destination: the operating account and the user list (product destination id)."""

    index: int
    account_type: str
    account_id: str
    user_list_id: str
    reference: str
    echo: Mapping[str, Any]


@dataclass(frozen=True)
class Member:
    """One validated audience member: its identifier strings, destination references, consent and the kind
    of data it carries (``userData``, ``mobileData``, ``userIdData``; "" when it was invalid)."""

    identifiers: frozenset[str]
    references: tuple[str, ...]
    consent_denied: bool
    kind: str = ""


@dataclass
class _Collector:
    violations: list[FieldViolation] = field(default_factory=list)

    def add(self, path: str, reason: str, description: str) -> None:
        self.violations.append(FieldViolation(path, description, reason))

    def raise_if_any(self, what: str) -> None:
        if self.violations:
            first = self.violations[0]
            message = f"{len(self.violations)} invalid field(s) in {what}; first: {first.description} ({first.field})"
            raise errors.invalid_argument(first.reason, message, self.violations[:MAX_VIOLATIONS])


def enum_value(value: Any, names: Mapping[str, int]) -> int:
    """An enum given as an integer or as its name; unknown names -> -1."""
    if isinstance(value, bool):
        return -1
    if isinstance(value, int):
        return value
    return names.get(str(value), -1)


def destinations(body: Mapping[str, Any], limit: int) -> list[Target]:
    """The request's destinations; raises INVALID_ARGUMENT for a missing/malformed list or too many."""
    raw = body.get("destinations")
    if not isinstance(raw, list) or not raw:
        raise errors.field_error("destinations", "REQUIRED_FIELD_MISSING", "at least one destination is required")
    if len(raw) > limit:
        message = f"too many destinations: {len(raw)}, at most {limit} per request"
        raise errors.field_error("destinations", "TOO_MANY_DESTINATIONS", message)
    targets = [_destination(index, item) for index, item in enumerate(raw)]
    references = [t.reference for t in targets if t.reference]
    if len(references) != len(set(references)):
        raise errors.field_error("destinations", "DUPLICATE_DESTINATION_REFERENCE", "destination references repeat")
    return targets


def _destination(index: int, item: Any) -> Target:
    path = f"destinations[{index}]"
    if not isinstance(item, dict):
        raise errors.field_error(path, "INVALID_DESTINATION", "a destination must be an object")
    account = item.get("operatingAccount")
    if not isinstance(account, dict) or not str(account.get("accountId", "")).strip():
        raise errors.field_error(f"{path}.operating_account", "REQUIRED_FIELD_MISSING", "operating account is required")
    type_number = enum_value(account.get("accountType", 0), ACCOUNT_TYPES)
    type_name = next((name for name, number in ACCOUNT_TYPES.items() if number == type_number), "")
    if not type_name:
        message = "operating account type is missing or not supported"
        raise errors.field_error(f"{path}.operating_account.account_type", "INVALID_ENUM_VALUE", message)
    user_list_id = str(item.get("productDestinationId", "")).strip()
    if not user_list_id:
        message = "product destination id (the user list id) is required"
        raise errors.field_error(f"{path}.product_destination_id", "REQUIRED_FIELD_MISSING", message)
    reference = str(item.get("reference", ""))
    return Target(index, type_name, str(account["accountId"]).strip(), user_list_id, reference, item)


def members(body: Mapping[str, Any], limits: tuple[int, int], ingest: bool) -> list[Member]:
    """The request's audience members; all record problems raise one INVALID_ARGUMENT.

    ``limits`` is (max members per request, max identifiers per member). ``encoding`` is required when
    the members carry user data (hashed values); every member must carry the same kind of data.
    """
    raw = body.get("audienceMembers")
    if not isinstance(raw, list) or not raw:
        raise errors.field_error(
            "audience_members", "REQUIRED_FIELD_MISSING", "at least one audience member is required"
        )
    if len(raw) > limits[0]:
        message = f"too many audience members: {len(raw)}, at most {limits[0]} per request"
        raise errors.field_error("audience_members", "TOO_MANY_AUDIENCE_MEMBERS", message)
    encoding = enum_value(body.get("encoding", 0), _ENCODINGS)
    if encoding not in (HEX, BASE64) and any(isinstance(m, dict) and USER_DATA in m for m in raw):
        raise errors.field_error(
            "encoding", "REQUIRED_FIELD_MISSING", "encoding (HEX or BASE64) is required for user data"
        )
    collector = _Collector()
    request_denied = _consent_denied(body.get("consent"))
    parsed = [_member(i, item, encoding, limits[1], request_denied, collector) for i, item in enumerate(raw)]
    collector.raise_if_any("audience_members")
    if len({m.kind for m in parsed}) > 1:
        message = "an ingest or remove request carries one kind of data: user data, mobile data or user id data"
        raise errors.field_error("audience_members", "MULTIPLE_DATA_TYPES_NOT_ALLOWED", message)
    return parsed


def _member(index: int, item: Any, encoding: int, cap: int, request_denied: bool | None, out: _Collector) -> Member:
    path = f"audience_members[{index}]"
    kinds = [key for key in _DATA_KINDS if isinstance(item, dict) and key in item]
    if not isinstance(item, dict) or len(kinds) != 1 or any(key in item for key in _UNSUPPORTED_DATA):
        message = "an audience member holds exactly one of user_data, mobile_data, user_id_data (this sandbox)"
        out.add(path, "INVALID_AUDIENCE_MEMBER", message)
        return Member(frozenset(), (), False)
    kind = kinds[0]
    if kind == USER_DATA:
        identifiers = _identifiers(f"{path}.user_data.user_identifiers", item[kind], encoding, cap, out)
    elif kind == MOBILE_DATA:
        identifiers = _mobile_ids(f"{path}.mobile_data.mobile_ids", item[kind], out)
    else:
        identifiers = _user_id(f"{path}.user_id_data.user_id", item[kind], out)
    member_denied = _consent_denied(item.get("consent"))
    denied = member_denied if member_denied is not None else bool(request_denied)
    references = item.get("destinationReferences") or []
    return Member(frozenset(identifiers), tuple(str(r) for r in references), denied, kind)


def _items(
    path: str, container: Any, key: str, cap: int, reasons: tuple[str, str], what: str, out: _Collector
) -> list[Any]:
    """``container[key]`` when it is a list of 1..``cap`` items; else records why (``reasons``: missing, too many)."""
    raw = container.get(key) if isinstance(container, dict) else None
    if not isinstance(raw, list) or not raw:
        out.add(path, reasons[0], f"at least one {what} is required")
        return []
    if len(raw) > cap:
        out.add(path, reasons[1], f"too many {what}s: {len(raw)}, at most {cap}")
        return []
    return raw


def _mobile_ids(path: str, data: Any, out: _Collector) -> list[str]:
    raw = _items(
        path, data, "mobileIds", MAX_MOBILE_IDS, ("REQUIRED_FIELD_MISSING", "TOO_MANY_ELEMENTS"), "mobile id", out
    )
    found = []
    for index, value in enumerate(raw):
        text = value.lower() if isinstance(value, str) else ""
        if not _MOBILE_ID.fullmatch(text):
            out.add(f"{path}[{index}]", "INVALID_MOBILE_ID_FORMAT", "a mobile id is an IDFA or AAID (UUID format)")
        else:
            found.append(f"mobile:{text}")
    return found


def _user_id(path: str, data: Any, out: _Collector) -> list[str]:
    value = data.get("userId") if isinstance(data, dict) else None
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        out.add(path, "REQUIRED_FIELD_MISSING", "user_id is required")
        return []
    if len(text) > MAX_USER_ID_LENGTH:
        out.add(path, "FIELD_VALUE_TOO_LONG", f"user_id exceeds {MAX_USER_ID_LENGTH} characters")
        return []
    return [f"crm:{text}"]


def _identifiers(path: str, user_data: Any, encoding: int, cap: int, out: _Collector) -> list[str]:
    reasons = ("NO_IDENTIFIERS_PROVIDED", "TOO_MANY_USER_IDENTIFIERS")
    raw = _items(path, user_data, "userIdentifiers", cap, reasons, "user identifier", out)
    found: list[str] = []
    for index, identifier in enumerate(raw):
        value = _identifier(f"{path}[{index}]", identifier, encoding, out)
        if value is not None:
            found.append(value)
    return found


def _identifier(path: str, identifier: Any, encoding: int, out: _Collector) -> str | None:
    kinds = [k for k in ("emailAddress", "phoneNumber", "address") if isinstance(identifier, dict) and k in identifier]
    if len(kinds) != 1:
        out.add(path, "INVALID_FORMAT", "a user identifier holds exactly one of email_address, phone_number, address")
        return None
    kind = kinds[0]
    if kind == "address":
        return _address(f"{path}.address", identifier["address"], encoding, out)
    field_name = "email_address" if kind == "emailAddress" else "phone_number"
    digest = hashed(f"{path}.{field_name}", identifier[kind], encoding, out)
    return None if digest is None else f"{'email' if kind == 'emailAddress' else 'phone'}:{digest}"


def _address(path: str, address: Any, encoding: int, out: _Collector) -> str | None:
    if not isinstance(address, dict):
        out.add(path, "INVALID_FORMAT", "address must be an object")
        return None
    given = hashed(f"{path}.given_name", address.get("givenName", ""), encoding, out)
    family = hashed(f"{path}.family_name", address.get("familyName", ""), encoding, out)
    region = str(address.get("regionCode", ""))
    postal = str(address.get("postalCode", "")).strip()
    if not _REGION.fullmatch(region):
        out.add(
            f"{path}.region_code", "INVALID_FORMAT", "region code must be 2 upper-case letters (ISO-3166-1 alpha-2)"
        )
        return None
    if not postal or len(postal) > 20 or _HEX64.fullmatch(postal.lower()):
        out.add(f"{path}.postal_code", "INVALID_POSTAL_CODE", "postal code is required, plain text (not hashed)")
        return None
    if given is None or family is None:
        return None
    return f"address:{given}:{family}:{region}:{postal}"


def hashed(path: str, value: Any, encoding: int, out: _Collector) -> str | None:
    """A SHA-256 digest as 64 lowercase hex, from its HEX or BASE64 form; records a violation otherwise."""
    text = value if isinstance(value, str) else ""
    if not text:
        out.add(path, "REQUIRED_FIELD_MISSING", "a hashed value is required")
        return None
    if encoding == BASE64:
        try:
            digest = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            out.add(path, "INVALID_BASE64_ENCODING", "the value is not valid base64")
            return None
        if len(digest) != 32:
            out.add(path, "INVALID_SHA256_FORMAT", "the value is not a SHA-256 digest (32 bytes)")
            return None
        return digest.hex()
    if _HEX64.fullmatch(text):
        return text
    if _HEXISH.fullmatch(text):
        out.add(path, "INVALID_SHA256_FORMAT", f"a SHA-256 hex digest has 64 characters, got {len(text)}")
    else:
        out.add(path, "INVALID_HEX_ENCODING", "the value is not lower-case hex (hash values before sending)")
    return None


def _consent_denied(consent: Any) -> bool | None:
    """True when ad user data or ad personalization is DENIED, False when granted, None when unspecified."""
    if not isinstance(consent, dict):
        return None
    statuses = [enum_value(consent.get(key, 0), _CONSENTS) for key in ("adUserData", "adPersonalization")]
    if DENIED in statuses:
        return True
    return False if GRANTED in statuses else None


def consent_problems(body: Mapping[str, Any], parsed: Sequence[Member]) -> GoogleApiError | None:
    """Strict-policy consent check: every member needs consent (own or request-level) and none denied."""
    request_level = _consent_denied(body.get("consent"))
    raw = body.get("audienceMembers") or []
    collector = _Collector()
    for index, member in enumerate(parsed):
        own = _consent_denied(raw[index].get("consent")) if isinstance(raw[index], dict) else None
        path = f"audience_members[{index}].consent"
        if member.consent_denied:
            collector.add(path, "INVALID_ARGUMENT", "consent: ad_user_data / ad_personalization is CONSENT_DENIED")
        elif own is None and request_level is None:
            collector.add(path, "REQUIRED_FIELD_MISSING", "consent: ad_user_data and ad_personalization are required")
    try:
        collector.raise_if_any("consent")
    except GoogleApiError as error:
        return error
    return None


def terms_accepted(body: Mapping[str, Any]) -> bool:
    """Whether ``termsOfService.customerMatchTermsOfServiceStatus`` is ACCEPTED."""
    terms = body.get("termsOfService")
    status = terms.get("customerMatchTermsOfServiceStatus", 0) if isinstance(terms, dict) else 0
    return enum_value(status, _TOS) == ACCEPTED
