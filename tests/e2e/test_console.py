"""The operations console end to end: the four services and the console as processes on real Kafka and
PostgreSQL, the demo recorded through the APIs, and a real headless browser (Debian's Chromium and its
driver, driven by Selenium; nothing is downloaded) signing in as the demo's staff.

A test that fails leaves a screenshot of the page it was on in ``.run/test/console-screenshots/`` (not committed);
``JICAI_CONSOLE_SCREENSHOTS=1`` keeps one of each page visited there too (whole pages: 0.1 CPU-s of Chromium each,
two seconds of a run when taken every time).
"""
from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from jicai_console.adapters import alerts_feed
from jicai_console.adapters.platform import Platform
from jicai_console.domain.accounts import StaffRole, StaffUser
from jicai_console.domain.feed import FeedEntry
from jicai_console.settings import Settings
from jicai_devstack import console as ops_console
from jicai_devstack import demo
from jicai_devstack._proc import free_port
from jicai_events.kafka import ensure_topics
from jicai_events.topics import ORDERS
from tests.e2e.system import System, eventually, start_system
from tests.support import infra
from tests.support.tokens import SIGNING_KEY, SIGNING_KEY_FILE

if TYPE_CHECKING:  # Selenium's WebDriver module and openpyxl are imported by the worker that runs these tests, not by every worker collecting them
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOTS = infra.TEST_RUN_DIR / "console-screenshots"
EVERY_PAGE_SHOT = os.environ.get("JICAI_CONSOLE_SCREENSHOTS") == "1"
NOTICE_2027 = (Path(__file__).parents[1] / "unit" / "console" / "notice-2027-test.txt").read_text()
PASSWORD = ops_console.DEMO_PASSWORD
HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
"""Debian's headless shell itself: ``/usr/bin/chromium-headless-shell`` is a script that runs it as its child (no
``exec``), so a browser started through the script outlived chromedriver's quit, every process of it."""
PRESENCE_WAIT_S = 5
"""How long ``find_element`` waits for an element to appear (the page after a click may still be loading)."""


@dataclass
class Platformed:
    system: System
    console_url: str
    console_env: dict[str, str]


@pytest.fixture(scope="module")
def platform() -> Iterator[Platformed]:
    system = start_system("console")
    try:
        urls = {n: p.url for n, p in system.processes.items()}
        base = infra.postgres_base_url()
        database = infra.create_database(base, "e2e_console_console", template=infra.migrated_template(base, "console"))
        env = ops_console.console_env(system.run_dir, database, SIGNING_KEY_FILE, urls)
        # The console starts and its accounts are written while the demo is recorded (mostly a wait for alerts to close
        # the demo's days): the console reads the services only when a page asks, and its database is migrated already.
        with ThreadPoolExecutor(2) as meanwhile:
            console = meanwhile.submit(ops_console.start_console, system.run_dir, env, free_port())
            accounts = meanwhile.submit(ops_console.add_demo_accounts, env)  # as `make up` does: one add-users command
            demo.seed(urls, SIGNING_KEY, system.bootstrap, system.namespace)
            accounts.result()
        yield Platformed(system, console.result().url, env)
    finally:
        ops_console.stop_console(system.run_dir)
        system.stop_all()


@pytest.fixture(scope="module")
def chromium_session() -> Iterator[WebDriver]:
    """One headless Chromium for the module (starting one takes seconds); each test gets it signed out.

    Chromium's headless shell (Chromium's old headless mode, the same Blink and V8 as the browser, without its window
    system, extensions and process-per-site renderers): the module's browser costs less than half the CPU of
    ``chromium --headless=new`` for the same pages and screenshots (4.2-5.0 against 9.6-9.8 CPU-s a round of 25 pages)."""
    driver = shutil.which("chromedriver")
    assert HEADLESS_SHELL.exists() and driver, "deploy/install.sh installs Debian's chromium-headless-shell and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(HEADLESS_SHELL)
    # A laptop's window: Chromium paints the window's height at every page load (2000 px cost a quarter more CPU a page);
    # the screenshots capture the whole page whatever the window.
    for argument in ("--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800", "--lang=zh-CN"):
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    session.implicitly_wait(PRESENCE_WAIT_S)
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture
def browser(chromium_session: WebDriver, request: pytest.FixtureRequest) -> Iterator[WebDriver]:
    """The module's browser as a fresh one: no session cookie of an earlier test (the console keeps no other state
    in the browser: its pages are rendered on the server, without scripts or storage). A test that failed leaves a
    screenshot of the page it was on (its failure is counted before its fixtures are torn down)."""
    failed_before = request.session.testsfailed
    yield chromium_session
    if request.session.testsfailed > failed_before:
        save_screenshot(chromium_session, f"failed-{request.node.name}")
    chromium_session.delete_all_cookies()  # the cookies of the page's site: every page a test visits is the console's
    chromium_session.get("about:blank")


def shot(browser: WebDriver, name: str) -> None:
    """A screenshot of the page visited, kept when ``JICAI_CONSOLE_SCREENSHOTS=1``."""
    if EVERY_PAGE_SHOT:
        save_screenshot(browser, name)


def save_screenshot(browser: WebDriver, name: str) -> None:
    """The whole page, not only the window (Chrome DevTools' ``Page.captureScreenshot`` beyond the viewport)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    captured = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(captured["data"]))


def sign_in(browser: WebDriver, url: str, username: str, page: str | None = None) -> None:
    """Signs in on the sign-in page (which leads to the overview), or on the way to ``page``: asked for signed out, it
    sends the browser to sign in and then on to itself."""
    browser.get(f"{url}{page or '/sign-in'}")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    assert browser.find_element(By.ID, "who").text.startswith(next(n for u, _, _, n in ops_console.DEMO_ACCOUNTS if u == username))


def absent(browser: WebDriver, element_id: str) -> bool:
    """No element ``element_id`` on the page loaded (``browser.get`` returns once it is: every page is rendered
    on the server), asked without the implicit wait, which would spend its whole 5 s on every absence."""
    browser.implicitly_wait(0)
    try:
        return not browser.find_elements(By.ID, element_id)
    finally:
        browser.implicitly_wait(PRESENCE_WAIT_S)


def reloaded(browser: WebDriver, url: str) -> WebDriver:
    browser.get(url)
    return browser


def text(browser: WebDriver, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def confirm_and_read_result(browser: WebDriver) -> str:
    assert browser.find_element(By.ID, "confirm-title")
    browser.find_element(By.ID, "confirm").click()
    return text(browser, "result-title")


def read_why(browser: WebDriver, kind: str, screenshot: str) -> str:
    """Open the "why" of the institution page's alert of ``kind``; the decision's chain as text."""
    browser.find_element(By.CSS_SELECTOR, f"tr.alert-{kind} a.why").click()
    shot(browser, screenshot)
    assert text(browser, "decision-kind") == kind
    return text(browser, "chain")


def fill_exemption(browser: WebDriver, exemption_id: str, first: str, last: str, reason: str) -> None:
    """The institution page's grant form, sent to its confirmation page (date inputs set as the picker would)."""
    browser.find_element(By.ID, "exemption_id").send_keys(exemption_id)
    browser.execute_script("document.getElementById('exemption_from').value = arguments[0];"
                           "document.getElementById('exemption_to').value = arguments[1];", first, last)
    browser.find_element(By.ID, "exemption_reason").send_keys(reason)
    browser.find_element(By.ID, "grant-exemption-submit").click()


def test_the_adapter_reads_every_rule_s_alerts_of_the_demo_through_the_public_apis(platform: Platformed) -> None:
    async def read() -> tuple[list[FeedEntry], list[FeedEntry], str | None, str | None]:
        urls = {n: p.url for n, p in platform.system.processes.items()}
        settings = Settings(database_url="unused", signing_key_file=SIGNING_KEY_FILE, contracts_url=urls["contracts"], orders_url=urls["orders"],
                            settlement_url=urls["settlement"], alerts_url=urls["alerts"])
        client = Platform(settings)
        try:
            caller = client.as_user(StaffUser("viewer", StaffRole.READ_ONLY, "Viewer"))
            return (await alerts_feed.institution_feed(caller, "H001"), await alerts_feed.province_feed(caller),
                    await client.offering("PUT", "/calendars/{year}"), await client.offering("PUT", "/no/such/route"))
        finally:
            await client.close()

    h001, province, calendar_owner, nobody = asyncio.run(read())
    calendar_paths = httpx.get(f"{platform.system.processes[calendar_owner or 'alerts'].url}/openapi.json").json()["paths"]
    assert calendar_owner is not None and "put" in calendar_paths["/calendars/{year}"] and nobody is None
    withheld = [e for e in h001 if e.kind == "settlement_withheld"]
    assert [(e.subject, e.since.isoformat(), e.status) for e in withheld] == [("INV-H001-0901", "2026-10-23", "open")]
    assert any(e.kind == "overdue_warning" and e.since.isoformat() == "2026-10-09" for e in h001)
    assert {e.institution_id for e in province if e.kind == "settlement_withheld" and e.status == "open"} == {"H001"}


def test_an_operator_finds_the_withheld_institution_reads_why_and_grants_an_exemption(platform: Platformed, browser: WebDriver) -> None:
    sign_in(browser, platform.console_url, "ops")
    shot(browser, "01-overview")
    assert "H001" in text(browser, "withheld") and text(browser, "withheld-count") == "1"
    assert "520100" in text(browser, "overdue-by-region")
    browser.find_element(By.CSS_SELECTOR, "#warnings-per-week tr.opened a[href*='week=2026-10-05']").click()  # H001 warned 10-09
    shot(browser, "01-warnings-opened-in-a-week")
    assert "H001" in text(browser, "warnings") and "回款预警" in text(browser, "warnings")
    browser.back()  # to the overview, as read above
    browser.find_element(By.CSS_SELECTOR, "#withheld a").click()
    assert text(browser, "institution-title").startswith("H001")
    shot(browser, "02-institution-H001")
    chain = read_why(browser, "settlement_withheld", "03-why-withhold")
    assert "guizhou" in chain and "INV-H001-0901" in chain

    browser.back()  # to the institution's page, as read above
    fill_exemption(browser, "EX-H001-FLOOD", "2026-07-01", "2026-12-31", "2026年7月洪灾（不可抗力）")
    shot(browser, "04-confirm-exemption")
    assert "EX-H001-FLOOD" in text(browser, "confirm-fields")
    assert "完成" in confirm_and_read_result(browser)
    browser.find_element(By.ID, "back").click()
    shot(browser, "05-exemption-granted")
    row = text(browser, "exemptions")
    assert "EX-H001-FLOOD" in row and "ops" in row  # granted by the signed-in operator, not a shared token
    browser.get(f"{platform.console_url}/audit")
    shot(browser, "06-audit")
    assert "grant_exemption" in text(browser, "audit") and "洪灾" in text(browser, "audit")


def test_an_operator_grants_an_exemption_and_sees_the_r3_suspension_lifted(platform: Platformed, browser: WebDriver) -> None:
    """The demo's H004 is suspended under R3 (Anshun's go-live set through contracts' policy API): an operator finds
    it on the overview, reads why, grants a force-majeure exemption covering the quarter end, and sees it resumed."""
    suspended = demo.SUSPENDED
    sign_in(browser, platform.console_url, "ops")
    assert suspended in text(browser, "suspended") and text(browser, "suspended-count") == "1"
    # the overview's volume completion per region links each band's count to its list; H005 (77% in November) is warned
    assert browser.find_element(By.CSS_SELECTOR, "#completion-distribution tr.region-520400 a.band-band_warning").text == "1"
    browser.find_element(By.CSS_SELECTOR, "#completion-distribution tr.region-520400 a.band-band_suspend").click()
    shot(browser, "15-volume-completion-below-suspension-line")
    assert suspended in text(browser, "completion") and "低于暂停结算线" in text(browser, "completion")
    browser.back()  # to the overview, as read above
    browser.find_element(By.CSS_SELECTOR, f"#suspended a[href='/institutions/{suspended}']").click()
    assert text(browser, "institution-title").startswith(suspended)
    assert text(browser, "volume-status") == "暂停结算"
    shot(browser, "16-institution-suspended")
    chain = read_why(browser, "settlement_suspended", "17-why-suspension")
    assert "guizhou" in chain and "2026-09-30" in chain

    browser.back()  # to the institution's page, as read above
    fill_exemption(browser, f"EX-{suspended}-Q3", "2026-07-01", "2026-09-30", "2026年三季度院区改建停诊（不可抗力）")
    shot(browser, "18-confirm-exemption-suspended")
    assert f"EX-{suspended}-Q3" in text(browser, "confirm-fields")
    assert "完成" in confirm_and_read_result(browser)
    browser.find_element(By.ID, "back").click()
    shot(browser, "19-suspension-lifted")
    assert text(browser, "volume-status") == "正常"
    suspension = browser.find_element(By.CSS_SELECTOR, "tr.alert-settlement_suspended")
    assert "关闭" in suspension.text  # the feed keeps the decision, now closed by its resumption
    assert f"EX-{suspended}-Q3" in text(browser, "exemptions") and "ops" in text(browser, "exemptions")
    browser.get(f"{platform.console_url}/overview")
    assert suspended not in text(browser, "suspended") and text(browser, "suspended-count") == "0"
    browser.get(f"{platform.console_url}/overview?lang=en")
    assert "Volume completion by band" in browser.page_source and "below the suspension line" in browser.page_source


def test_an_operator_loads_next_year_s_calendar_from_the_pasted_notice(platform: Platformed, browser: WebDriver) -> None:
    sign_in(browser, platform.console_url, "ops", "/calendar")
    assert not text(browser, "covered-until").startswith("2027")
    browser.execute_script("document.getElementById('notice').value = arguments[0];", NOTICE_2027)
    browser.find_element(By.ID, "calendar_reason").send_keys("2027年节假日安排已发布")
    browser.find_element(By.ID, "calendar-preview").click()
    shot(browser, "07-calendar-preview")
    assert text(browser, "preview-year") == "2027" and "2027-02-05" in text(browser, "preview-holidays")
    assert "2027-02-20" in text(browser, "preview-makeup")
    assert "完成" in confirm_and_read_result(browser)
    # contracts recorded it; the page reads alerts, which folds it from the policy topic a moment later
    eventually(lambda: text(reloaded(browser, f"{platform.console_url}/calendar"), "covered-until") == "2027-12-31",
               what="alerts to fold the loaded year")
    shot(browser, "08-calendar-loaded")
    assert "ops" in text(browser, "calendar-years")


def test_an_operator_redrives_a_dead_letter_and_sees_the_service_s_verdict(platform: Platformed, browser: WebDriver) -> None:
    system = platform.system

    async def publish_garbage() -> None:
        await ensure_topics(system.bootstrap, system.namespace)
        producer = AIOKafkaProducer(bootstrap_servers=system.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(ORDERS.qualified(system.namespace), b"not an envelope", key=b"H001")
        finally:
            await producer.stop()

    asyncio.run(publish_garbage())
    sign_in(browser, platform.console_url, "ops", "/dead-letters?service=alerts")

    def garbage_listed() -> bool:
        listed = text(reloaded(browser, f"{platform.console_url}/dead-letters?service=alerts"), "dead-letters")
        return "not an envelope" in listed.lower() or "envelope" in listed

    eventually(garbage_listed,
               what="the garbage to be dead-lettered by alerts")
    shot(browser, "09-dead-letters")
    row = browser.find_element(By.CSS_SELECTOR, "#dead-letters tr:nth-child(2)")
    row.find_element(By.NAME, "reason").send_keys("replay after checking the producer")
    row.find_element(By.CSS_SELECTOR, "button.redrive").click()
    result = confirm_and_read_result(browser)
    shot(browser, "10-redrive-result")
    assert "被拒绝" in result and "200" in result  # the message is still not an envelope: refused again, counted
    browser.get(f"{platform.console_url}/dead-letters?service=alerts")
    assert "2" in browser.find_element(By.CSS_SELECTOR, "#dead-letters tr:nth-child(2) td:nth-child(6)").text


def test_read_only_staff_see_the_province_but_no_action(platform: Platformed, browser: WebDriver) -> None:
    sign_in(browser, platform.console_url, "viewer")
    assert "H001" in text(browser, "withheld")
    browser.get(f"{platform.console_url}/institutions/H001")
    shot(browser, "11-read-only-institution")
    assert absent(browser, "grant-exemption") and absent(browser, "set-filing-line")
    browser.get(f"{platform.console_url}/calendar")
    assert absent(browser, "load-calendar")
    browser.get(f"{platform.console_url}/policy")
    shot(browser, "13-go-lives-read-only")
    assert "520100" in text(browser, "regions") and "guizhou" in text(browser, "regions")
    assert absent(browser, "set-go-live")


def test_an_institution_s_user_sees_its_own_page_only_and_a_form_without_csrf_is_refused(platform: Platformed, browser: WebDriver) -> None:
    sign_in(browser, platform.console_url, "h001")
    assert text(browser, "institution-title").startswith("H001")
    browser.get(f"{platform.console_url}/institutions/H002")
    shot(browser, "12-institution-user-forbidden")
    assert text(browser, "error-title") == "无权访问"
    browser.get(f"{platform.console_url}/overview")
    assert text(browser, "error-title") == "无权访问"
    browser.get(f"{platform.console_url}/institutions/H001?lang=en")
    assert "Alerts and decisions" in browser.page_source

    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    form = {"institution_id": "H001", "exemption_id": "EX-FORGED", "from": "2026-01-01", "to": "2026-12-31", "reason": "forged"}
    with httpx.Client(base_url=platform.console_url, cookies=cookies) as forged:
        assert forged.post("/actions/grant_exemption", data=form).status_code == 403
    browser.delete_all_cookies()  # signed out
    sign_in(browser, platform.console_url, "ops", "/institutions/H001")
    assert "EX-FORGED" not in text(browser, "exemptions")


def test_rankings_are_sortable_and_export_as_csv_and_xlsx(platform: Platformed, browser: WebDriver) -> None:
    import openpyxl

    sign_in(browser, platform.console_url, "fund", "/rankings?month=2026-10&indicator=volume_completion&sort=institution_id")
    shot(browser, "14-rankings")
    listed = [row.text.split()[1] for row in browser.find_elements(By.CSS_SELECTOR, "#ranked tr")[1:]]
    assert listed == sorted(listed) and {"H001", "H002", "H003"} <= set(listed)
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    with httpx.Client(base_url=platform.console_url, cookies=cookies, timeout=60) as fund:
        csv_text = fund.get("/rankings", params={"month": "2026-10", "indicator": "volume_completion", "export": "csv"}).content.decode("utf-8-sig")
        xlsx = fund.get("/rankings", params={"month": "2026-10", "indicator": "volume_completion", "export": "xlsx"}).content
    lines = csv_text.splitlines()
    assert lines[0] == "scope,rank,institution_id,pooling_region_code,indicator,value,numerator,denominator"
    assert any(line.startswith("institution,") and ",H001,520100,volume_completion," in line for line in lines)
    assert any(line.startswith("region,,,520100,volume_completion,") for line in lines)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    h001 = next(r for r in rows if r[2] == "H001")
    assert h001[3] == "520100" and isinstance(h001[5], float | int)  # region codes stay text, values are numbers
