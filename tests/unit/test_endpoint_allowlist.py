"""The connection Host allowlist (issue 17, requirement 1): every vendor's Host goes through
``endpoints.sandbox_base_url``, which yields the vendor's own API (None), a URL on 127.0.0.1, localhost
or [::1] rebuilt from its parts, or refuses with text that says what to write and never quotes the Host."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

import pytest
from urllib3.util import parse_url

from behavior_sync.destinations import clevertap_client, google_dm_client, hubspot_client, meta_client
from behavior_sync.destinations.clevertap_errors import CleverTapError
from behavior_sync.destinations.endpoints import sandbox_base_url
from behavior_sync.destinations.google_ads_client import grpc_endpoint
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.destinations.hubspot_errors import HubSpotError
from behavior_sync.destinations.meta_errors import MetaError
from tests.support.hostile_hosts import hostile_hosts

LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
Resolve = Callable[[str | None], str | None]
# Each vendor's entry point from a connection's Host, and the error it raises (what the hooks call).
VENDORS: dict[str, tuple[Resolve, type[Exception]]] = {
    "Meta": (meta_client.api_base_url, MetaError),
    "HubSpot": (hubspot_client.api_base_url, HubSpotError),
    "Google Data Manager": (google_dm_client.api_endpoint, GoogleAdsError),
    "Google Ads API (gRPC)": (grpc_endpoint, GoogleAdsError),
    "CleverTap": (partial(clevertap_client.api_base_url, region="us1"), CleverTapError),
}
SANDBOX_FORMS = [
    ("127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://localhost:8000", "http://localhost:8000"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
    ("[::1]:8000", "http://[::1]:8000"),
    ("::1", "http://[::1]"),
    ("HTTP://LocalHost:8000", "http://localhost:8000"),
]
PIECES = ("http://", "https://", "127.0.0.1", "localhost", "[::1]", "::1", ":8000", "/", "@", "\\", ".", "[", "]",
          ":", "0x7f", "%2e", "#", "?", "attacker.example", " ", "\u3002", "us1")  # fmt: skip


@pytest.mark.parametrize(("case", "host"), hostile_hosts(8000), ids=[case for case, _ in hostile_hosts(8000)])
def test_every_bypass_candidate_is_refused_by_every_vendor_without_quoting_it(case: str, host: str) -> None:
    for vendor, (resolve, error) in VENDORS.items():
        with pytest.raises(error) as refused:
            resolve(host)
        message = str(refused.value)
        assert "may only point at the local sandbox" in message and "leave it empty" in message, (vendor, message)
        quoted = message.replace("http://localhost:PORT", "")  # the advice's own example
        assert host not in quoted and "attacker" not in message and "secret" not in message, (vendor, message)


def test_any_text_is_refused_or_becomes_a_url_whose_host_urllib3_reads_as_loopback() -> None:
    rng = random.Random(17)
    texts = [host for _, host in hostile_hosts(8000)] + [host for host, _ in SANDBOX_FORMS]
    texts += ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))) for _ in range(20_000)]
    accepted = 0
    for text in texts:
        try:
            url = sandbox_base_url(text, "Meta")
        except ValueError:
            continue
        accepted += 1
        host = parse_url(url or "").host or ""
        assert host in LOOPBACK and host.strip("[]") == urlsplit(url).hostname, text
    assert accepted > 100  # the corpus does reach the accepting path


@pytest.mark.parametrize(("host", "url"), SANDBOX_FORMS)
def test_the_sandbox_forms_still_work_for_every_http_vendor(host: str, url: str) -> None:
    for vendor in ("Meta", "HubSpot", "Google Data Manager", "CleverTap"):
        assert VENDORS[vendor][0](host) == url, vendor
    assert grpc_endpoint(host) == parse_url(url).netloc


def test_an_empty_host_means_the_vendors_own_api() -> None:
    for vendor in ("Meta", "HubSpot", "Google Data Manager", "Google Ads API (gRPC)"):
        assert VENDORS[vendor][0](None) is None and VENDORS[vendor][0]("") is None, vendor
    assert clevertap_client.api_base_url(None, "in1") == "https://in1.api.clevertap.com"


def test_a_host_two_parsers_read_differently_is_refused() -> None:
    with pytest.raises(ValueError, match="different URLs to two URL parsers"):
        sandbox_base_url("http://localhost:8000/v1/../attacker", "Meta")  # urllib3 removes the dot segment


def test_the_refusal_says_what_to_write_and_why_but_never_the_token() -> None:
    with pytest.raises(MetaError) as refused:
        meta_client.api_base_url("http://pat-na1-0123-secret:x@127.0.0.1:8000")
    message = str(refused.value)
    assert "http://127.0.0.1:PORT" in message and "leave it empty to reach Meta" in message
    assert "user name or password ('@')" in message and "pat-na1" not in message


def test_clevertap_takes_only_its_regions_hosts_or_the_sandbox() -> None:
    assert clevertap_client.api_base_url("https://us1.api.clevertap.com", "us1") == "https://us1.api.clevertap.com"
    assert clevertap_client.api_base_url("us1.api.clevertap.com/", "us1") == "https://us1.api.clevertap.com"
    assert clevertap_client.api_base_url("https://api.clevertap.com", "eu1") == "https://eu1.api.clevertap.com"
    assert clevertap_client.api_base_url("http://127.0.0.1:8000/us1", "us1") == "http://127.0.0.1:8000/us1"
    for host in ("https://proxy.example.com", "https://eu1.api.clevertap.com", "https://api.clevertap.com"):
        with pytest.raises(CleverTapError, match="CleverTap's own host for this connection"):
            clevertap_client.api_base_url(host, "us1")


def test_the_google_ads_api_endpoint_is_host_and_port_without_a_path() -> None:
    assert grpc_endpoint("http://[::1]:8705") == "[::1]:8705"
    with pytest.raises(GoogleAdsError, match="without a path"):
        grpc_endpoint("127.0.0.1:8705/v1")
