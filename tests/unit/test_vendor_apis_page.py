"""docs/vendor-apis.md cannot drift from the code: it names every API version constant and shows its value."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "vendor-apis.md"
MODULES = "plugins/behavior_sync/destinations"
# (module, constant): the one place each vendor API's version is pinned
CONSTANTS = [
    ("meta_client", "GRAPH_API_VERSION"),
    ("google_dm_client", "DATA_MANAGER_API_VERSION"),
    ("google_ads_client", "GOOGLE_ADS_API_VERSION"),
    ("hubspot_api", "HUBSPOT_API_VERSION"),
    ("clevertap_client", "UPLOAD_PATH"),
    ("clevertap_client", "PROFILE_PATH"),
]


@pytest.mark.parametrize(("module", "constant"), CONSTANTS)
def test_the_vendor_apis_page_names_each_version_constant_its_module_and_its_current_value(
    module: str, constant: str
) -> None:
    page = PAGE.read_text(encoding="utf-8")
    value = getattr(importlib.import_module(f"behavior_sync.destinations.{module}"), constant)

    assert f"`{constant}` " in page and f"`{MODULES}/{module}.py`" in page
    assert f"`{value}`" in page, f"{constant} is {value!r} but docs/vendor-apis.md does not say so"


def test_the_data_manager_version_constant_names_the_sdk_module_the_client_imports() -> None:
    from behavior_sync.destinations import google_dm_client

    assert google_dm_client.dm.__name__ == f"google.ads.datamanager_{google_dm_client.DATA_MANAGER_API_VERSION}"
