"""The page on a real ``airflow api-server``: registered as a plugin, no anonymous access, no FastAPI docs,
and a user who may read one DAG sees that behavior's history only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from behavior_sync.config import load_behaviors
from tests.ui.conftest import READABLE_BEHAVIOR, ApiServer

pytestmark = pytest.mark.slow

ROUTES = (
    "/behavior-sync/",
    "/behavior-sync/detail?behavior=value_hunters&destination=meta",
    "/behavior-sync/api/overview",
    "/behavior-sync/api/history?behavior=value_hunters&destination=meta",
    "/behavior-sync/health",
    "/behavior-sync/api/health",
    "/behavior-sync/api/health/pair?behavior=value_hunters&destination=hubspot_list",
    "/behavior-sync/api/health/overlap",
    "/behavior-sync/performance",
    "/behavior-sync/api/performance",
)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Status and body of a GET (HTTP errors are answers, not exceptions)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str, token: str) -> Any:
    status, body = get(url, {"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return json.loads(body)


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_refuses_anonymous_and_bad_tokens(api_server: ApiServer, route: str) -> None:
    assert get(api_server.url + route)[0] == 401
    assert get(api_server.url + route, {"Cookie": "_token=not-a-jwt"})[0] in {401, 403}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_answers_a_jwt_bearer_or_the_ui_cookie(api_server: ApiServer, route: str) -> None:
    token = api_server.token()
    assert get(api_server.url + route, {"Authorization": f"Bearer {token}"})[0] == 200
    assert get(api_server.url + route, {"Cookie": f"_token={token}"})[0] == 200


def test_plugin_is_registered_with_its_nav_entry(api_server: ApiServer) -> None:
    plugins = get_json(f"{api_server.url}/api/v2/plugins", api_server.token())["plugins"]
    ours = next(p for p in plugins if p["name"] == "behavior_sync_ui")
    assert ours["external_views"][0]["href"] == "/behavior-sync/" and ours["external_views"][0]["destination"] == "nav"


def test_api_serves_the_state_database_of_the_connection(api_server: ApiServer) -> None:
    body = get_json(f"{api_server.url}/behavior-sync/api/overview", api_server.token())
    meta = next(d for d in body["destinations"] if (d["behavior"], d["destination_id"]) == ("value_hunters", "meta"))
    assert (meta["status_label"], meta["last_sync"]["audience_size"]) == ("Error", 1_290)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
def test_fastapis_docs_and_schema_answer_nobody(api_server: ApiServer, path: str) -> None:
    assert get(f"{api_server.url}/behavior-sync{path}")[0] == 404
    assert get(f"{api_server.url}/behavior-sync{path}", {"Authorization": f"Bearer {api_server.token()}"})[0] == 404


def test_a_user_who_may_read_one_dag_sees_only_its_history_on_every_page_and_api(api_server: ApiServer) -> None:
    others = sorted(b.slug for b in load_behaviors().behaviors if b.slug != READABLE_BEHAVIOR)
    one_dag, admin = api_server.as_one_dag_user(), api_server.token()
    auth = {"Authorization": f"Bearer {one_dag.token()}"}
    assert [d["dag_id"] for d in get_json(f"{api_server.url}/api/v2/dags", one_dag.token())["dags"]] == [
        "behavior__value_hunters"
    ]  # Airflow's own answer for this user
    overview = get_json(f"{api_server.url}/behavior-sync/api/overview", one_dag.token())
    assert {d["behavior"] for d in overview["destinations"]} == {READABLE_BEHAVIOR}
    answers = [get(api_server.url + route, auth) for route in ROUTES]  # value_hunters' pages and API
    assert [status for status, _ in answers] == [200] * len(ROUTES)
    for slug in others:
        pair = f"behavior={slug}&destination=meta"
        checked = ("detail", "api/history", "api/health/pair")
        denied = [get(f"{api_server.url}/behavior-sync/{r}?{pair}", auth) for r in checked]
        denied.append(get(f"{api_server.url}/behavior-sync/api/health/overlap?behavior={slug}", auth))
        assert [status for status, _ in denied] == [403] * 4
        assert all(slug.encode() not in body for _, body in answers + denied)
        assert get(f"{api_server.url}/behavior-sync/api/history?{pair}", {"Authorization": f"Bearer {admin}"})[0] == 200
    admin_overview = get_json(f"{api_server.url}/behavior-sync/api/overview", admin)
    assert {d["behavior"] for d in admin_overview["destinations"]} == {READABLE_BEHAVIOR, *others}
