"""The page in Debian's headless Chromium against a running api-server: log in, open it, see rows and a chart,
then the audience health page and a destination's health charts.

Chromium and chromedriver come from apt (``scripts/browser.sh``, run by ``make test``). Missing, the test
skips locally and fails under CI=true. Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, ROOT
from tests.ui.conftest import ApiServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
)  # fmt: skip
WAIT = 30


@pytest.fixture()
def browser() -> Iterator[Any]:
    """A headless Chromium session driven by Debian's chromedriver, with a fresh profile."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        message = "Debian's chromium/chromium-driver are not installed: run scripts/browser.sh (make test does)"
        if IN_CI:
            pytest.fail(f"{message} (CI=true makes the browser test mandatory)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bsync_chromium_")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield session
    finally:
        session.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(session: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"behavior-sync-{name}.png"
    session.save_screenshot(str(path))
    return path


def log_in(session: Any, server: ApiServer) -> None:
    """Fill the simple auth manager's login form and wait for the Airflow UI."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    session.get(f"{server.url}/")
    wait = WebDriverWait(session, WAIT)
    password = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
    session.find_element(By.CSS_SELECTOR, "input:not([type=password])").send_keys(server.user)
    password.send_keys(server.password, Keys.RETURN)
    wait.until(lambda s: any(c["name"] == "_token" for c in s.get_cookies()))


def open_behavior_sync(session: Any, server: ApiServer) -> Any:
    """Logs in and opens the nav entry (the page inside Airflow's shell), switched into the page's frame; returns
    a wait."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(session, WAIT)
    log_in(session, server)
    session.get(f"{server.url}/plugin/behavior-sync")
    wait.until(ec.frame_to_be_available_and_switch_to_it((By.TAG_NAME, "iframe")))
    return wait


def screenshot_then_follow(session: Any, name: str, link: str) -> None:
    """Screenshots Airflow's UI showing the page, then follows the link ``link`` (CSS) inside the page's frame."""
    from selenium.webdriver.common.by import By

    session.switch_to.default_content()
    assert screenshot(session, name).stat().st_size > 0
    session.switch_to.frame(session.find_element(By.TAG_NAME, "iframe"))
    session.find_element(By.CSS_SELECTOR, link).click()


def test_logged_in_user_sees_the_behaviors_and_a_chart(api_server: ApiServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait = open_behavior_sync(browser, api_server)
    rows = wait.until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "tr.pair")))
    behaviors = {row.get_attribute("data-behavior") for row in rows}
    assert {"value_hunters", "cart_abandoners", "loyal_regulars"} <= behaviors
    meta = "tr.pair[data-behavior=value_hunters][data-destination=meta]"
    assert "Error" in browser.find_element(By.CSS_SELECTOR, meta).text
    screenshot_then_follow(browser, "overview", f"{meta} td:nth-child(2) a")
    chart = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "svg.chart polyline")))
    assert len(chart.get_attribute("points").split()) >= 30
    assert "invalid_email" in browser.find_element(By.ID, "rejections").text
    browser.switch_to.default_content()
    assert screenshot(browser, "detail").stat().st_size > 0


def test_logged_in_user_sees_audience_health(api_server: ApiServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait = open_behavior_sync(browser, api_server)
    wait.until(ec.element_to_be_clickable((By.ID, "health-link"))).click()
    rows = wait.until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "tr.health")))
    assert {row.get_attribute("data-behavior") for row in rows} >= {"value_hunters", "trend_followers"}
    assert len(browser.find_elements(By.CSS_SELECTOR, "#health-charts svg.chart polyline")) == 3
    assert browser.find_elements(By.CSS_SELECTOR, "#overlap td.overlap")
    pair = "tr.health[data-behavior=value_hunters][data-destination=hubspot_list]"
    screenshot_then_follow(browser, "health", f"{pair} td:nth-child(2) a")
    charts = wait.until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "#health-charts svg.chart")))
    assert [c.get_attribute("aria-label") for c in charts][-1] == "Membership age"
    browser.execute_script("document.getElementById('health-charts').scrollIntoView()")
    browser.switch_to.default_content()
    assert screenshot(browser, "detail-health").stat().st_size > 0
