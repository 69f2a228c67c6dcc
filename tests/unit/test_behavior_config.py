"""Behavior files: the examples are valid; every kind of broken file is reported with file and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from behavior_sync.cli import main as cli_main
from behavior_sync.config import BehaviorFileError, load_behavior, load_behaviors
from behavior_sync.paths import PROJECT_DIR
from tests.examples import EXAMPLE_BEHAVIORS

FIXTURE_SQL = "tests/fixtures/sql/members_in_window.sql"
GOOD = f"""
name: Probe Buyers
description: People who bought recently.
query: {FIXTURE_SQL}
member_key: customer_id
identifiers: {{email: email, phone: phone, country: country}}
consent: {{ad_user_data: consent_ads}}
destinations:
  - {{type: meta}}
  - {{type: hubspot, mode: list}}
  - {{type: hubspot, mode: property, property: {{name: customer_behaviors}}}}
  - {{type: google_ads, connection: google_ads_eu, membership_days: 90}}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> str:
    with pytest.raises(BehaviorFileError) as info:
        load_behavior(path)
    assert info.value.file == path
    return str(info.value)


def test_every_example_behavior_file_is_valid() -> None:
    loaded = load_behaviors(PROJECT_DIR / "include" / "behaviors")
    assert [str(e) for e in loaded.errors] == []
    assert {b.slug for b in loaded.behaviors} == set(EXAMPLE_BEHAVIORS)


def test_good_file_gets_defaults_ids_and_connections(tmp_path: Path) -> None:
    behavior = load_behavior(write(tmp_path, "probe_buyers.yaml", GOOD))
    assert behavior.slug == "probe_buyers" and behavior.dag_id == "behavior__probe_buyers"
    assert behavior.schedule == "@daily" and behavior.catchup is False and behavior.owner == "behavior-sync"
    assert behavior.warehouse_connection == "warehouse_default"
    assert behavior.guardrails == {"max_removal_fraction": 0.5, "allow_empty": False}
    assert [(d.id, d.connection) for d in behavior.destinations] == [
        ("meta", "meta_default"),
        ("hubspot_list", "hubspot_default"),
        ("hubspot_property", "hubspot_default"),
        ("google_ads", "google_ads_eu"),
    ]
    google = behavior.destinations[3]
    assert google.settings["api"] == "data_manager" and google.settings["membership_days"] == 90
    assert google.frequency == "every_run"
    assert behavior.required_columns() == ("consent_ads", "country", "customer_id", "email", "phone")


def with_changes(**changes: object) -> str:
    """GOOD as YAML with top-level fields replaced."""
    document = yaml.safe_load(GOOD) | changes
    return yaml.safe_dump(document, sort_keys=False)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"destinations": [{"type": "google_ads", "membership_days": 600}]},
            "destinations[0].membership_days: 600 is greater than the maximum of 540",
        ),
        ({"destinations": [{"type": "meta", "colour": "red"}]}, "destinations[0].colour: unknown field"),
        ({"destinations": [{"type": "tiktok"}]}, "destinations[0].type: 'tiktok' is not one of"),
        (
            {"destinations": [{"type": "hubspot", "mode": "property"}]},
            "destinations[0]: 'property' is a required property",
        ),
        (
            {"destinations": [{"type": "meta"}, {"type": "meta"}]},
            "destinations[1].id: id 'meta' is already used by destinations[0]",
        ),
        (
            {"destinations": [{"type": "google_ads", "upload_keys": ["mobile_id"]}]},
            "destinations[0].app_id: upload_keys mobile_id needs app_id",
        ),
        (
            {"destinations": [{"type": "google_ads", "upload_keys": ["email", "crm_id"]}]},
            "destinations[0].upload_keys: upload_keys ['email', 'crm_id'] mix upload key types, but a Customer Match "
            "list holds one (contact info, crm_id or mobile_id): use one google_ads destination per type",
        ),
        (
            {"destinations": [{"type": "google_ads", "upload_keys": ["crm_id"]}]},
            "destinations[0].upload_keys: upload_keys ['crm_id'] need identifiers external_id mapped",
        ),
        (
            {"destinations": [{"type": "google_ads", "upload_keys": ["phone"], "app_id": "com.example.shop"}]},
            "destinations[0].app_id: app_id is only used with upload_keys [mobile_id]",
        ),
        (
            {"destinations": [{"type": "google_ads", "upload_keys": ["address"]}]},
            "destinations[0].upload_keys: upload_keys ['address'] need identifiers "
            "first_name+last_name+country+postal_code mapped",
        ),
        (
            {"destinations": [{"type": "meta", "match_keys": ["email", "mobile_id"]}]},
            "destinations[0].match_keys[1]: 'mobile_id' is not mapped in identifiers",
        ),
        (
            {"destinations": [{"type": "clevertap"}], "identifiers": {"phone": "phone"}},
            "destinations[0].identity: identity 'email' needs identifiers.email",
        ),
        ({"destinations": []}, "destinations: [] should be non-empty"),
        (
            {"schedule": "every tuesday"},
            "schedule: 'every tuesday' is not daily, weekly, manual or a valid 5-field cron expression",
        ),
        ({"schedule": "61 * * * *"}, "schedule: '61 * * * *' is not daily, weekly, manual"),
        ({"query": "include/sql/missing.sql"}, "query: SQL file 'include/sql/missing.sql' does not exist"),
        ({"query": "../../etc/passwd.sql"}, "query: '../../etc/passwd.sql' points outside the project folder"),
        ({"identifiers": {"email": "email", "fax": "fax"}}, "identifiers.fax: unknown field"),
        ({"identifiers": {"email": "not a column"}}, "identifiers.email: 'not a column' does not match"),
        (
            {"destinations": [{"type": "meta", "audience_name": "[B] {name} {week}"}]},
            "destinations[0].audience_name: '[B] {name} {week}' does not match: Text with placeholders {name}",
        ),
        (
            {"prehashed": ["phone"], "identifiers": {"email": "email"}},
            "prehashed[0]: 'phone' is not mapped in identifiers",
        ),
        (
            {"prehashed": ["email"], "destinations": [{"type": "hubspot", "mode": "list"}]},
            "destinations[0].type: HubSpot matches contacts by plain e-mail, but prehashed lists email",
        ),
        (
            {"prehashed": ["email"], "destinations": [{"type": "clevertap"}]},
            "destinations[0].identity: identity 'email' needs the plain e-mail",
        ),
        (
            {"guardrails": {"max_removal_fraction": 1.5}},
            "guardrails.max_removal_fraction: 1.5 is greater than the maximum of 1",
        ),
        ({"slug": "other_name"}, "slug: 'other_name' must equal the file name 'probe'"),
        ({"start_date": "2026-13-45"}, "start_date: '2026-13-45' is not a 'date'"),
        ({"name": None}, "name: None is not of type 'string'"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_broken_file_names_file_and_field(tmp_path: Path, changes: dict[str, object], expected: str) -> None:
    message = problems_of(write(tmp_path, "probe.yaml", with_changes(**changes)))
    assert message.startswith(str(tmp_path / "probe.yaml") + ": ")
    assert expected in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: a\nname: b\n", "invalid YAML (line 2, column 1): duplicated key 'name'"),
        ("name: [unclosed\n", "invalid YAML"),
        ("", "must contain a mapping"),
        ("- just\n- a list\n", "must contain a mapping"),
    ],
)
def test_unparseable_files_are_reported_not_raised(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in problems_of(write(tmp_path, "probe.yaml", text))


def test_bad_file_name_is_reported(tmp_path: Path) -> None:
    assert "slug: the file name 'Bad-Name' is not a valid slug" in problems_of(write(tmp_path, "Bad-Name.yaml", GOOD))


def test_one_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write(tmp_path, "aaa_good.yaml", GOOD)
    write(tmp_path, "bbb_broken.yaml", "name: [\n")
    write(tmp_path, "ccc_good.yaml", GOOD)
    loaded = load_behaviors(tmp_path)
    assert [b.slug for b in loaded.behaviors] == ["aaa_good", "ccc_good"]
    assert [e.file.name for e in loaded.errors] == ["bbb_broken.yaml"]


def test_validate_cli_prints_problems_and_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "probe_buyers.yaml", GOOD)
    bad = write(tmp_path, "broken.yaml", GOOD.replace("membership_days: 90", "membership_days: 9"))
    assert cli_main(["validate", str(good)]) == 0
    assert "ok (behavior__probe_buyers, 4 destination(s))" in capsys.readouterr().out
    assert cli_main(["validate", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: destinations[3].membership_days: 9 is less than the minimum of 30" in err
    assert "1 valid, 1 invalid" in err


def test_validate_cli_checks_the_example_behaviors_and_imports_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "include/imports/loyal_regulars_in_hubspot.yaml: ok (import__loyal_regulars_in_hubspot)" in out
    assert "7 valid, 0 invalid" in out


def test_validate_cli_judges_a_given_file_next_to_the_others_of_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "probe_buyers.yaml", GOOD)
    twin = write(tmp_path, "probe_buyers.yml", GOOD)
    assert cli_main(["validate", str(twin)]) == 1
    assert (
        f"{twin}: 'probe_buyers.yml' is ignored: 'probe_buyers.yaml' already has DAG behavior__probe_buyers"
        in capsys.readouterr().err
    )


def test_validate_cli_checks_a_file_of_the_imports_folder_as_an_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEHAVIOR_SYNC_IMPORTS_DIR", str(tmp_path))
    good = write(tmp_path, "vips.yaml", "list_name: VIPs\ntable: hubspot_vips\n")
    never = write(tmp_path, "never.yaml", "list_name: VIPs\ntable: t\nschedule: '0 0 30 2 *'\n")
    assert cli_main(["validate", str(good), str(never)]) == 1
    out, err = capsys.readouterr()
    assert f"{good}: ok (import__vips)" in out
    assert f"{never}: schedule: '0 0 30 2 *' is not null" in err and "matches no date" in err


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks:s3cret-pw@example.com/in bound",
        "ftp://hooks:s3cret-pw@example.com/x?token=s3cret-pw" + "x" * 2000,
    ],
)
def test_a_refused_webhook_url_is_quoted_without_its_credentials_or_query(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, "b.yaml", with_changes(webhooks=[{"connection": "hooks", "url": url}]))
    problems = problems_of(path)
    assert "webhooks[0].url" in problems and "s3cret" not in problems and "***@example.com" in problems
