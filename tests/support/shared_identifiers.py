"""Random member tables in which members share e-mails and phones, churned run after run (seeded, deterministic).

A ``Person`` holds canonical contact values (lower-case e-mail, E.164 phone); each destination's test target
turns it into the rows the identity layer would prepare. Sharing is what real customer tables hold
(households, shared inboxes, duplicate CRM records): a new or changed member copies the e-mail and/or the
phone of a current member with probability ``share``, and values are made fresh again wherever more than
``MAX_SHARED`` of the members would share one. A person the vendor refuses (``refused``) always has values of
its own, so a refusal never hides a shared value. Fresh e-mails come from a pool
(``pool_email``) that a CRM sandbox can hold as contacts beforehand.
"""

from __future__ import annotations

import random
from collections.abc import Set
from dataclasses import dataclass, replace

POOL = 600  # fresh e-mails p0..p599@example.com; more than a scenario ever uses
MAX_SHARED = 0.2  # at most this share of the members holds a value another member holds too


def pool_email(n: int) -> str:
    """The ``n``-th e-mail of the pool (a contact in the CRM sandboxes)."""
    return f"p{n}@example.com"


@dataclass(frozen=True)
class Person:
    """One member: key, canonical e-mail and phone (None: no phone), and whether the vendor refuses its values."""

    key: str
    email: str
    phone: str | None
    refused: bool = False


People = dict[str, Person]


class World:
    """The behavior's current members, and the churn between runs (leave, join, change e-mail/phone, move).

    ``share`` (0..1): chance that a new or changed value is copied from another current member; ``refusals``:
    chance that a joiner is a member the vendor refuses; ``moves``: whether a leaver's e-mail or phone may go
    to a joiner of the same run.
    """

    def __init__(self, rng: random.Random, share: float, refusals: float, moves: bool) -> None:
        self.rng, self.share, self.refusals, self.moves = rng, share, refusals, moves
        self.people: People = {}
        self.moved = 0  # values that went from a leaver to a joiner of the same run
        self._keys = self._emails = self._phones = 0

    def populate(self, size: int) -> None:
        for _ in range(size):
            self._join()
        self._limit_sharing()

    def snapshot(self) -> People:
        return dict(self.people)

    def sharing(self) -> list[Person]:
        """The members holding an e-mail or phone that another member holds too."""
        holders: dict[str, int] = {}
        for p in self.people.values():
            for value in (p.email, p.phone):
                if value is not None:
                    holders[value] = holders.get(value, 0) + 1
        return [p for p in self.people.values() if any(holders.get(v or "", 0) > 1 for v in (p.email, p.phone))]

    def shared_share(self) -> float:
        """Share of members holding an e-mail or phone that another member holds too."""
        return len(self.sharing()) / len(self.people) if self.people else 0.0

    def churn(self) -> None:
        """About 12 % leave, 10 % change an e-mail or phone, 3-7 join; with ``moves``, 1-2 joiners take a
        leaver's e-mail (or phone) in the same run."""
        rng = self.rng
        leavers = rng.sample(sorted(self.people), k=max(1, len(self.people) // 8))
        gone = [self.people.pop(key) for key in leavers]
        for key in rng.sample(sorted(self.people), k=max(1, len(self.people) // 10)):
            self.people[key] = self._changed(self.people[key])
        for _ in range(rng.randrange(3, 8)):
            self._join()
        if self.moves:
            accepted = [p for p in gone if not p.refused]
            for leaver in rng.sample(accepted, k=min(2, len(accepted))):
                by_email = rng.random() < 0.7 or leaver.phone is None
                self._join(email=leaver.email if by_email else None, phone=None if by_email else leaver.phone)
                self.moved += 1
        self._limit_sharing()

    def changed_since(self, before: People) -> frozenset[str]:
        """Keys of the members who joined, left or changed since ``before``."""
        return frozenset(k for k in set(before) | set(self.people) if before.get(k) != self.people.get(k))

    def revert_some(self, before: People, among: Set[str] = frozenset()) -> None:
        """Undo what changed since ``before`` for every other changed member of ``among`` (in key order) and for
        about half of the other changed members: some joiners leave again, some leavers come back, some
        changed members get their old values back. The next scheduled run after a killed one sees such a
        table: a segment moves on between runs."""
        changed = self.changed_since(before)
        undo = set(sorted(changed & among)[::2])
        for key in sorted(changed):
            if key in undo or self.rng.random() < 0.5:
                if key in before:
                    self.people[key] = before[key]
                else:
                    del self.people[key]
        self._limit_sharing()

    def _limit_sharing(self) -> None:
        """Fresh values for members who share one, until at most ``MAX_SHARED`` of the members do."""
        while (sharing := self.sharing()) and len(sharing) > MAX_SHARED * len(self.people):
            person = self.rng.choice(sharing)
            self.people[person.key] = replace(person, email=self._fresh_email(), phone=self._fresh_phone())

    def _join(self, email: str | None = None, phone: str | None = None) -> Person:
        self._keys += 1
        key = f"m{self._keys:04d}"
        if email is None and phone is None and self.rng.random() < self.refusals:
            person = Person(key, self._fresh_email(), self._fresh_phone(), refused=True)
        else:
            person = Person(key, email or self._email(), phone if phone is not None else self._phone())
        self.people[key] = person
        return person

    def _changed(self, person: Person) -> Person:
        if person.refused:  # the member's values were fixed: fresh, accepted ones
            return Person(person.key, self._fresh_email(), self._fresh_phone())
        if self.rng.random() < 0.5:
            return replace(person, email=self._email(avoid=person.email))
        return replace(person, phone=self._phone(avoid=person.phone))

    def _donor(self) -> Person | None:
        """A current, accepted member to copy a value from (with probability ``share``), or None."""
        donors = [p for p in self.people.values() if not p.refused]
        return self.rng.choice(donors) if donors and self.rng.random() < self.share else None

    def _email(self, avoid: str | None = None) -> str:
        donor = self._donor()
        return donor.email if donor is not None and donor.email != avoid else self._fresh_email()

    def _phone(self, avoid: str | None = None) -> str | None:
        donor = self._donor()
        if donor is not None and donor.phone is not None and donor.phone != avoid:
            return donor.phone
        return None if self.rng.random() < 0.15 else self._fresh_phone()

    def _fresh_email(self) -> str:
        self._emails += 1
        if self._emails >= POOL:
            raise AssertionError("the e-mail pool is exhausted: raise POOL")
        return pool_email(self._emails)

    def _fresh_phone(self) -> str:
        self._phones += 1
        return f"+4477{self._phones:08d}"
