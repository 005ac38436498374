"""The customer portal page in headless Chromium against the local stack, as a customer uses it:
sign in → approve a milestone → reply to a ticket → submit a form, at 375 px (a phone) and
1280 px, with screenshots of each step kept in `test-artifacts/portal/`.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the test
is skipped with that reason — unless BLUEHILL_REQUIRE_BROWSER=1 (CI sets it), where it fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bluehill_dev import seed
from bluehill_dev.targets.local import LocalTarget

pytestmark = [pytest.mark.e2e, pytest.mark.local_only("signs in as the demo seed's portal user")]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WIDTHS = {"phone": 375, "desktop": 1280}


def _browser_or_skip() -> tuple[str, str]:
    if CHROMIUM and CHROMEDRIVER:
        return CHROMIUM, CHROMEDRIVER
    reason = "Chromium and ChromeDriver are not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("BLUEHILL_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(params=sorted(WIDTHS), ids=sorted(WIDTHS))
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    chromium, chromedriver = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # As the machine's probe runs it: no sandbox (root in CI), and no background networking,
    # which a closed network answers with refused connections.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--window-size={WIDTHS[request.param]},900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.implicitly_wait(0)
    driver.width_name = request.param
    yield driver
    driver.quit()


def _wait(driver: Any, css: str, text: str | None = None, timeout: float = 20) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout)
    if text is None:
        return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return driver.find_element(By.CSS_SELECTOR, css)


def _shot(driver: Any, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{driver.width_name}-{step}.png"))


def _no_horizontal_scroll(driver: Any) -> None:
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the {driver.width_name} viewport"


def test_a_customer_signs_in_approves_a_milestone_replies_to_a_ticket_and_submits_a_form(
        target: LocalTarget, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    site = seed.portal_page_url(target.stack.portal_url)
    browser.get(site)
    _wait(browser, "#password-login")
    _shot(browser, "1-sign-in")
    browser.find_element(By.NAME, "email").send_keys(seed.email_for(seed.DEMO_TENANT, "portal"))
    browser.find_element(By.NAME, "password").send_keys(seed.DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#password-login button[type=submit]").click()

    _wait(browser, "#home-grid")
    _no_horizontal_scroll(browser)
    _shot(browser, "2-home")

    # A milestone waiting for the customer's approval, on the seeded onboarding project.
    browser.find_element(By.CSS_SELECTOR, "#home-grid a[href^='#/projects/']").click()
    approve = _wait(browser, "[data-milestone] button.primary")
    milestone = approve.find_element(By.XPATH, "..").get_attribute("data-milestone")
    _shot(browser, "3-project")
    approve.click()
    _wait(browser, "#flash", "Milestone approved.")
    assert not browser.find_elements(By.CSS_SELECTOR, f"[data-milestone='{milestone}']")

    # Reply on a ticket.
    browser.get(f"{site}#/tickets")
    _wait(browser, "main a[href^='#/tickets/']:not([href='#/tickets/new'])").click()
    reply = _wait(browser, "#ticket-reply textarea")
    marker = f"Thanks, that works for us ({browser.width_name})"
    reply.send_keys(marker)
    browser.find_element(By.CSS_SELECTOR, "#ticket-reply button").click()
    _wait(browser, ".message", marker)
    _no_horizontal_scroll(browser)
    _shot(browser, "4-ticket")

    # A form waiting on the customer.
    browser.get(f"{site}#/home")
    _wait(browser, "#home-grid")
    browser.find_element(By.CSS_SELECTOR, "#home-grid a[href^='#/forms/']").click()
    form = _wait(browser, "#portal-form")
    for field in form.find_elements(By.CSS_SELECTOR, "input:not([type=radio]):not([type=checkbox]), textarea"):
        kind = field.get_attribute("type")
        field.send_keys({"email": "it@initech.example", "date": "2027-01-15", "number": "3",
                         "url": "https://initech.example", "tel": "+1 555 0100"}.get(kind, "Peter Portal"))
    for group in form.find_elements(By.CSS_SELECTOR, "fieldset"):
        group.find_elements(By.CSS_SELECTOR, "input")[-1].click()
    _shot(browser, "5-form")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, "#flash", "Thank you")
    _shot(browser, "6-submitted")
