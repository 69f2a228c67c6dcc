"""Connection extras are allowlisted and validated; secrets are never echoed."""

from __future__ import annotations

import pytest

from behavior_sync.connections import ConnectionSettingsError, url_with_password, validated_extras


def test_extras_get_defaults_and_empty_values_count_as_unset() -> None:
    assert validated_extras("warehouse", "warehouse_default", {"url": "duckdb:///x.duckdb", "batch_rows": None}) == {
        "url": "duckdb:///x.duckdb",
        "batch_rows": 50000,
    }
    assert (
        validated_extras("hubspot", "hubspot_default", {"portal_id": "12345", "account_tier": ""})["account_tier"]
        == "starter"
    )


def test_unknown_extras_are_refused_with_the_connection_named() -> None:
    with pytest.raises(ConnectionSettingsError, match=r"connection 'meta_eu' \(meta_ads\): api_key: unknown field"):
        validated_extras("meta_ads", "meta_eu", {"ad_account_id": "act_1", "api_key": "x"})


def test_bad_secret_values_are_not_echoed() -> None:
    with pytest.raises(ConnectionSettingsError) as info:
        validated_extras("meta_ads", "meta_default", {"ad_account_id": "act_1", "app_secret": 12345678})
    assert "app_secret: invalid value" in str(info.value) and "12345678" not in str(info.value)


def test_missing_required_extra_is_named() -> None:
    with pytest.raises(ConnectionSettingsError, match="'region' is a required property"):
        validated_extras("clevertap", "clevertap_default", {"account_id": "ABC-123"})


def test_password_field_is_inserted_into_a_url_without_one() -> None:
    assert (
        url_with_password("postgresql+psycopg://bob@db:5432/wh", "s3cr:t")
        == "postgresql+psycopg://bob:s3cr%3At@db:5432/wh"
    )
    assert url_with_password("postgresql+psycopg://bob:own@db/wh", "other") == "postgresql+psycopg://bob:own@db/wh"
    assert url_with_password("duckdb:////tmp/w.duckdb", None) == "duckdb:////tmp/w.duckdb"
