"""The Google sandboxes' match universe: listed digests, the known share, and every identifier kind."""

from __future__ import annotations

import hashlib

import pytest

from sandbox.common.universe import Universe, any_known, is_known
from sandbox.google_ads.config import GoogleAdsSandboxConfig
from sandbox.google_data_manager.config import GoogleDataManagerSandboxConfig


def sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def test_listed_digests_are_known_for_hashed_and_plain_kinds_but_addresses_never() -> None:
    universe = Universe(frozenset({sha("ada@example.com"), sha("cust-1"), sha("38400000-8cf0-11bd-b23e-10b96e40000d")}))
    assert is_known(f"email:{sha('ada@example.com')}", universe)
    assert is_known("crm:cust-1", universe) and is_known("mobile:38400000-8cf0-11bd-b23e-10b96e40000d", universe)
    assert not is_known(f"phone:{sha('+15551234567')}", universe) and not is_known("crm:cust-2", universe)
    assert not is_known(f"address:{sha('ada')}:{sha('lovelace')}:GB:N1 9GU", Universe(known_share=1.0))
    assert not any_known([f"email:{sha('ada@example.com')}"], Universe())


def test_the_known_share_knows_about_that_share_of_people_and_always_the_same_ones() -> None:
    people = [f"email:{sha(f'person{i}@example.com')}" for i in range(10_000)]
    known = [p for p in people if is_known(p, Universe(known_share=0.7))]
    assert 0.68 < len(known) / len(people) < 0.72
    assert known == [p for p in people if is_known(p, Universe(known_share=0.7))]
    assert not any(is_known(p, Universe(known_share=0.0)) for p in people)


@pytest.mark.parametrize("config", [GoogleAdsSandboxConfig, GoogleDataManagerSandboxConfig])
def test_the_demo_knows_seventy_percent_and_configs_check_the_share(config: type) -> None:
    assert config.demo().matching == Universe(frozenset(), 0.7)
    assert config.from_mapping({"known_share": 0.25}).matching.known_share == 0.25
    with pytest.raises(ValueError, match="known_share must be between 0 and 1"):
        config.from_mapping({"known_share": 1.5})
