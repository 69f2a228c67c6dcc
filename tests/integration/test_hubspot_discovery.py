"""Field discovery against the HubSpot sandbox: ``python -m behavior_sync hubspot discover`` lists the portal's
contact properties and catches a behavior whose property mapping the portal cannot take."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hubspot.crm.properties.models import PropertyCreate

from behavior_sync.cli import main
from tests.support.hubspot_harness import HubSpotHarness, hubspot_connection, hubspot_starter

BEHAVIOR = (
    "name: {name}\nquery: tests/fixtures/sql/members_in_window.sql\nmember_key: customer_id\n"
    "identifiers: {{email: email}}\n"
    "destinations: [{{type: hubspot, mode: property, property: {{name: {prop}, kind: {kind}}}}}]\n"
)


@pytest.fixture()
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotHarness]:
    """A sandbox as hubspot_default (environment), and a behaviors folder of two files."""
    folder = tmp_path / "behaviors"
    folder.mkdir()
    (folder / "fits.yaml").write_text(BEHAVIOR.format(name="Fits", prop="customer_behaviors", kind="multi_checkbox"))
    (folder / "clash.yaml").write_text(BEHAVIOR.format(name="Clash", prop="favourite_colour", kind="single_select"))
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(folder))
    with hubspot_starter() as start:
        sandbox = start()
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(sandbox.base_url))
        yield sandbox


def test_discover_lists_contact_properties_and_fails_on_a_mapping_of_the_wrong_type(
    portal: HubSpotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PropertyCreate(name="favourite_colour", label="Favourite colour", type="string", field_type="text",
                          group_name="contactinformation")  # fmt: skip
    portal.client().crm.properties.core_api.create("contacts", text)
    assert main(["hubspot", "discover", "--connection", "hubspot_default"]) == 1
    out = capsys.readouterr().out
    assert "email" in out and "enumeration/radio" in out  # HubSpot's lifecyclestage, with its options
    assert "clash/hubspot_property: wrong_type: property 'favourite_colour' is string/text" in out
    assert "fits/hubspot_property: missing: property 'customer_behaviors' does not exist yet" in out
    assert "sandbox-hubspot" not in out and "pat-na1" not in out  # never the token


def test_discover_passes_when_every_mapping_fits(portal: HubSpotHarness, capsys: pytest.CaptureFixture[str]) -> None:
    select = PropertyCreate(name="favourite_colour", label="Favourite colour", type="enumeration",
                            field_type="select", group_name="contactinformation", options=[])  # fmt: skip
    portal.client().crm.properties.core_api.create("contacts", select)
    assert main(["hubspot", "discover"]) == 0
    assert "clash/hubspot_property: ok" in capsys.readouterr().out
