"""What identity validation needs to know about a behavior (plain values, no Airflow, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from behavior_sync.identity.reasons import hash_unusable
from behavior_sync.identity.rules import Rule, rules_for, unusable_prehashed

# Fields validated by their own module (emails.py, phones.py, countries.py) or by fields.py.
ALL_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "state",
    "postal_code",
    "country",
    "date_of_birth",
    "gender",
    "mobile_id",
    "external_id",
)
# A member is *identifiable* (quality gate) with one of these, or a full postal address.
STRONG_FIELDS = ("email", "phone", "mobile_id", "external_id")
ADDRESS_FIELDS = ("first_name", "last_name", "country", "postal_code")
# What a column listed in ``prehashed`` must hold, where one form cannot suit every destination (ADR 0014).
# Other pre-hashed fields hold the SHA-256 of the value normalized the way their destinations expect.
PREHASHED_FORMS = {"phone": "the SHA-256 hex of the E.164 number with the '+', like sha256('+14155550100')"}


@dataclass(frozen=True)
class DestinationSpec:
    """One destination: its id (state key), type and type-specific settings."""

    id: str
    type: str
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentitySpec:
    """Columns, pre-hashed fields, default phone region and destinations of one behavior."""

    member_key: str
    identifiers: Mapping[str, str]  # field -> snapshot column
    destinations: tuple[DestinationSpec, ...]
    prehashed: frozenset[str] = frozenset()
    default_region: str = "US"
    consent: Mapping[str, str] = field(default_factory=dict)  # ad_user_data / ad_personalization -> column

    @classmethod
    def from_behavior(cls, behavior: Any) -> IdentitySpec:
        """The spec of a ``behavior_sync.config.Behavior``."""
        return cls(
            member_key=behavior.member_key,
            identifiers=dict(behavior.identifiers),
            destinations=tuple(DestinationSpec(d.id, d.type, dict(d.settings)) for d in behavior.destinations),
            prehashed=frozenset(behavior.prehashed),
            default_region=behavior.default_region,
            consent=dict(behavior.consent),
        )

    @property
    def mapped(self) -> frozenset[str]:
        """Mapped identifier fields plus ``member_key`` (what rules may use)."""
        return frozenset({*self.identifiers, "member_key"})

    def fields(self) -> tuple[str, ...]:
        """Mapped identifier fields in canonical order."""
        return tuple(f for f in ALL_FIELDS if f in self.identifiers)

    def rules(self, destination: DestinationSpec) -> tuple[Rule, ...]:
        """The rules ``destination`` uses for this behavior."""
        return rules_for(destination.type, destination.settings, self.mapped)

    def unusable_prehashed(self, destination: DestinationSpec) -> tuple[str, ...]:
        """Pre-hashed fields ``destination``'s rules need but cannot send (they need another form), sorted."""
        return tuple(sorted({name for _, name in unusable_prehashed(self.rules(destination), self.prehashed)}))

    def warnings(self, behavior: str) -> list[str]:
        """One line per (destination, pre-hashed field) the destination cannot send, naming ``behavior``."""
        lines = []
        for dest in self.destinations:
            for rule, name in unusable_prehashed(self.rules(dest), self.prehashed):
                how = "unhashed" if not rule.hashed else "hashed in another form"
                declared = PREHASHED_FORMS.get(name, "a SHA-256 hex digest")
                lines.append(
                    f"behavior {behavior!r}: destination {dest.id!r} ({dest.type}) needs {rule.wire_key} {how}, "
                    f"but {name} is pre-hashed as {declared}: it is not sent there (reason {hash_unusable(name)} on "
                    "the members this destination quarantines)"
                )
        return lines

    def destination(self, destination_id: str) -> DestinationSpec:
        """The destination with this id; KeyError naming the known ids otherwise."""
        for dest in self.destinations:
            if dest.id == destination_id:
                return dest
        raise KeyError(f"no destination {destination_id!r}; known: {[d.id for d in self.destinations]}")


def behavior_warnings(behavior: Any) -> list[str]:
    """Warnings ``python -m behavior_sync validate`` prints for a valid ``behavior_sync.config.Behavior``."""
    return IdentitySpec.from_behavior(behavior).warnings(behavior.slug)
