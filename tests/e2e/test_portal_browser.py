"""The customer portal page in headless Chromium against the local stack, as a customer uses it:
sign in → approve a milestone → reply to a ticket → submit a form, at 375 px (a phone) and
1280 px, with screenshots of each step kept in `test-artifacts/portal/`.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the test
is skipped with that reason — unless BLUEHILL_REQUIRE_BROWSER=1 (CI sets it), where it fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Shared:
    """What the team shared with the demo portal user's company for one run of the test."""

    project_id: str
    milestone_id: str
    ticket_id: str
    form_id: str


def _ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.body


def _share_with_the_portal_company(target: LocalTarget, label: str) -> Shared:
    """As the demo tenant's owner: a shared project with a milestone to approve, a ticket from
    the portal user, and a published form put on the company's portal."""
    stack = target.stack
    owner, portal = stack.token(seed.DEMO_TENANT, "owner"), stack.token(seed.DEMO_TENANT, "portal")
    customer_id = _ok(stack.request("GET", "/portal/home", portal))["company"]["id"]
    project = _ok(stack.request("POST", f"/customers/{customer_id}/projects", owner,
                                {"name": f"Website launch ({label})", "portal_visible": True}), 201)
    milestone = _ok(stack.request("POST", f"/projects/{project['id']}/tasks", owner, {
        "title": f"Approve the homepage design ({label})", "is_milestone": True, "needs_approval": True,
        "portal_visible": True, "due_date": "2027-01-15"}), 201)
    ticket = _ok(stack.request("POST", "/portal/tickets", portal, {
        "subject": f"Launch checklist ({label})", "description": "What do you still need from us?"}), 201)
    form = _ok(stack.request("POST", "/forms", owner, {"name": f"Launch details ({label})", "fields": [
        {"key": "contact_email", "type": "email", "label": "Who signs off?", "required": True},
        {"key": "launch_date", "type": "date", "label": "Preferred launch date", "required": True},
        {"key": "traffic", "type": "radio", "label": "Expected traffic", "options": ["low", "high"]},
        {"key": "ready", "type": "nps", "label": "How likely are you to recommend us?"},
        {"key": "notes", "type": "long_text", "label": "Anything else?"}]}), 201)
    _ok(stack.request("POST", f"/forms/{form['id']}/publish", owner, {}), 201)
    _ok(stack.request("POST", f"/forms/{form['id']}/assignments", owner, {"customer_id": customer_id}), 201)
    return Shared(project["id"], milestone["id"], ticket["id"], form["id"])


def test_a_customer_signs_in_approves_a_milestone_replies_to_a_ticket_and_submits_a_form(
        target: LocalTarget, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    shared = _share_with_the_portal_company(target, browser.width_name)
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

    # Approve the milestone, from the project's page.
    browser.find_element(By.CSS_SELECTOR, f"#home-grid a[href='#/projects/{shared.project_id}']").click()
    approve = _wait(browser, f"[data-milestone='{shared.milestone_id}'] button.primary")
    _shot(browser, "3-project")
    approve.click()
    _wait(browser, "#flash", "Milestone approved.")
    _wait(browser, "main", "approved")
    assert not browser.find_elements(By.CSS_SELECTOR, f"[data-milestone='{shared.milestone_id}']")
    decision = _ok(target.stack.request("GET", f"/tasks/{shared.milestone_id}",
                                        target.stack.token(seed.DEMO_TENANT, "owner")))
    assert decision["approval"]["state"] == "approved"

    # Reply on the ticket.
    browser.get(f"{site}#/tickets")
    _wait(browser, f"main a[href='#/tickets/{shared.ticket_id}']").click()
    reply = _wait(browser, "#ticket-reply textarea")
    marker = f"Thanks, that works for us ({browser.width_name})"
    reply.send_keys(marker)
    browser.find_element(By.CSS_SELECTOR, "#ticket-reply button").click()
    _wait(browser, "main", marker)
    _no_horizontal_scroll(browser)
    _shot(browser, "4-ticket")

    # Fill in and submit the form waiting on the company.
    browser.get(f"{site}#/home")
    _wait(browser, f"#home-grid a[href='#/forms/{shared.form_id}']").click()
    form = _wait(browser, "#portal-form")
    form.find_element(By.NAME, "contact_email").send_keys("it@initech.example")
    browser.execute_script("arguments[0].value = '2027-01-20'", form.find_element(By.NAME, "launch_date"))
    form.find_element(By.CSS_SELECTOR, "input[name=traffic][value=high]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=ready][value='9']").click()
    form.find_element(By.NAME, "notes").send_keys(marker)
    _no_horizontal_scroll(browser)
    _shot(browser, "5-form")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, "#flash", "Thank you")
    _shot(browser, "6-submitted")
    submissions = _ok(target.stack.request("GET", f"/forms/{shared.form_id}/submissions",
                                           target.stack.token(seed.DEMO_TENANT, "owner")))["items"]
    assert [s["answers"]["traffic"] for s in submissions] == ["high"]
    assert submissions[0]["answers"]["ready"] == 9
