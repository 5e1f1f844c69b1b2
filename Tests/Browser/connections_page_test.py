"""Browser tests of the Connections page, in real headless Chromium driven by Selenium.

Seeds a database through the credlog CLI, starts `credlog serve` on a free port, and walks the
page as an admin and as a member. Screenshots go to $BROWSER_OUT (default: browser-out/).
Run by scripts/browser-test (and so by .ci/run).
"""
import datetime
import json
import urllib.parse
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from oauth_provider import CLIENT_SECRET, Provider

CREDLOG = os.environ.get("CREDLOG_BIN", ".build/debug/credlog")
OUT = os.environ.get("BROWSER_OUT", "browser-out")
XSS_NAME = "<script>alert(1)</script>"
# A quote followed by a combining mark: one character, which escaping by character let through
# raw into attributes (data-name="q"́ autofocus onfocus=…).
COMBINING_XSS_NAME = 'q"\u0301 autofocus onfocus=alert(2) x=\'\u0301'



class Server:
    """A seeded database and `credlog serve` on it."""

    def __init__(self, provider):
        self.provider = provider
        self.dir = tempfile.mkdtemp(prefix="credlog-browser-")
        self.env = dict(os.environ, CREDLOG_DB=os.path.join(self.dir, "credlog.sqlite"))
        for key in ("CREDLOG_MASTER_KEY", "CREDLOG_KEY_FILE", "CREDLOG_ACTOR", "CREDLOG_CLOCK"):
            self.env.pop(key, None)

    def cli(self, *args, stdin=None):
        result = subprocess.run([CREDLOG, *args], env=self.env, input=stdin, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"credlog {' '.join(args)} failed: {result.stderr}")
        return result.stdout.strip()

    def create(self, piece, auth, name, credentials, actor="alice"):
        return self.cli("connection", "create", "--project", "acme", "--piece", piece, "--auth", auth, "--name", name,
                        "--credentials-stdin", "--as", actor, stdin=json.dumps(credentials))

    def seed(self):
        self.cli("init")
        self.cli("project", "create", "acme", "--admin", "alice")
        self.cli("member", "add", "bob", "--project", "acme", "--as", "alice")
        piece = os.path.join(self.dir, "testmail.json")
        with open(piece, "w") as file:
            json.dump(self.provider.piece(), file)
        self.cli("piece", "register", "--project", "acme", "--file", piece, "--client-secret-stdin", "--as", "alice", stdin=CLIENT_SECRET)
        self.gmail = self.create("gmail", "oauth2", "Gmail - Support", {"accessToken": "ya29.browser-test"})
        self.hubspot = self.create("hubspot", "api-key", "HubSpot", {"apiKey": "pat-browser-test"})
        self.smtp = self.create("smtp", "basic", "SMTP relay", {"username": "u", "password": "p"}, actor="bob")
        in_three_days = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.mail_ok = self.create("testmail", "oauth2", "Mail ok", {"accessToken": "at-seeded-ok"})
        self.mail_revoked = self.create("testmail", "oauth2", "Mail revoked", {"accessToken": "at-revoked"})
        self.expiring = self.create("hubspot", "api-key", "CRM sandbox", {"apiKey": "pat-sandbox", "expiresAt": in_three_days})
        self.xss = self.create("custom-api", "custom", XSS_NAME, {"token": "t"})
        self.combining_xss = self.create("custom-api", "custom", COMBINING_XSS_NAME, {"token": "t"})
        for flow in ("support-triage", "lead-sync"):
            self.cli("flow", "attach", flow, self.hubspot, "--as", "alice")
        self.cli("connection", "expire", self.gmail, "--reason", "token expired", "--as", "engine")
        self.admin_token = self.cli("token", "create", "--member", "alice", "--project", "acme")
        self.member_token = self.cli("token", "create", "--member", "bob", "--project", "acme")

    def start(self):
        self.process = subprocess.Popen([CREDLOG, "serve", "--port", "0", "--allow-private-destinations"], env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            raise RuntimeError(f"credlog serve did not start: {line!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def connection(self, connection_id):
        return json.loads(self.cli("connection", "show", connection_id, "--as", "alice", "--json"))


def browser(width=1280, height=900, phone=False):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        options.add_argument(argument)
    if phone:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sign_in(driver, server, token):
    driver.get(server.url + "/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "filters")))


def row(driver, connection_id):
    return driver.find_element(By.CSS_SELECTOR, f'tr[data-id="{connection_id}"]')


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#connections tbody tr")


def status_of(driver, connection_id):
    return row(driver, connection_id).find_element(By.CSS_SELECTOR, ".status").text


# The tests: each takes a signed-in driver and the server.

def admin_filters_by_status(driver, server):
    Select(driver.find_element(By.ID, "status-filter")).select_by_visible_text("Inactive")
    WebDriverWait(driver, 10).until(EC.url_contains("status=inactive"))
    statuses = [r.find_element(By.CSS_SELECTOR, ".status").text for r in rows(driver)]
    assert statuses == ["Inactive"], f"only the expired Gmail connection is inactive, saw {statuses}"
    assert Select(driver.find_element(By.ID, "status-filter")).first_selected_option.text == "Inactive"
    Select(driver.find_element(By.ID, "status-filter")).select_by_visible_text("Active")
    WebDriverWait(driver, 10).until(EC.url_contains("status=active"))
    statuses = [r.find_element(By.CSS_SELECTOR, ".status").text for r in rows(driver)]
    assert len(statuses) == 7 and set(statuses) == {"Active"}, statuses


def expiring_badge_and_status_choice(driver, server):
    driver.get(server.url + "/connections?status=all")
    badge = row(driver, server.expiring).find_element(By.CSS_SELECTOR, ".status.expiring")
    assert badge.text == "Expires in 3 days", f"3 days and an hour: {badge.text!r}"
    assert not row(driver, server.hubspot).find_elements(By.CSS_SELECTOR, ".status.expiring"), "no expiry, no badge"
    Select(driver.find_element(By.ID, "status-filter")).select_by_visible_text("Expiring")
    WebDriverWait(driver, 10).until(EC.url_contains("status=expiring"))
    assert [r.get_attribute("data-id") for r in rows(driver)] == [server.expiring], [r.text for r in rows(driver)]
    assert Select(driver.find_element(By.ID, "status-filter")).first_selected_option.text == "Expiring"
    driver.save_screenshot(os.path.join(OUT, "connections-expiring.png"))


def admin_filters_by_provider(driver, server):
    driver.get(server.url + "/connections?status=all")
    provider = Select(driver.find_element(By.ID, "provider-filter"))
    assert provider.first_selected_option.text == "All providers"
    assert "hubspot" in [o.get_attribute("value") for o in provider.options], "the catalogue's pieces are offered"
    provider.select_by_value("custom-api")
    WebDriverWait(driver, 10).until(EC.url_contains("piece=custom-api"))
    ids = [r.get_attribute("data-id") for r in rows(driver)]
    assert sorted(ids) == sorted([server.xss, server.combining_xss]), f"only the custom-api connections, saw {ids}"
    assert Select(driver.find_element(By.ID, "provider-filter")).first_selected_option.get_attribute("value") == "custom-api"
    driver.save_screenshot(os.path.join(OUT, "connections-provider-filter.png"))
    # The status filter keeps the provider; the provider filter keeps the status.
    Select(driver.find_element(By.ID, "status-filter")).select_by_visible_text("Inactive")
    WebDriverWait(driver, 10).until(EC.url_contains("status=inactive"))
    assert "piece=custom-api" in driver.current_url, driver.current_url
    assert rows(driver) == [] and driver.find_element(By.ID, "empty").text == "No connections match."
    Select(driver.find_element(By.ID, "provider-filter")).select_by_value("gmail")
    WebDriverWait(driver, 10).until(EC.url_contains("piece=gmail"))
    assert "status=inactive" in driver.current_url, driver.current_url
    assert [r.get_attribute("data-id") for r in rows(driver)] == [server.gmail], "the expired Gmail connection"
    Select(driver.find_element(By.ID, "provider-filter")).select_by_visible_text("All providers")
    WebDriverWait(driver, 10).until(lambda d: "piece=gmail" not in d.current_url)


def icons_owners_and_times_in_the_browsers_zone(driver, server):
    # Tokyo is UTC+9 all year: "Connected on" must show Tokyo's time, with UTC in the tooltip.
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
    try:
        driver.get(server.url + "/connections?status=all")
        hubspot = row(driver, server.hubspot)
        icon = hubspot.find_element(By.CSS_SELECTOR, "img.icon")
        assert icon.get_attribute("src").endswith("/assets/piece-hubspot.svg"), icon.get_attribute("src")
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", icon), "the icon loads"
        custom = row(driver, server.xss)
        assert not custom.find_elements(By.CSS_SELECTOR, "img.icon"), "a custom piece has no icon"
        assert custom.find_element(By.CSS_SELECTOR, ".badge").text == "CA", "it keeps its initials"
        assert hubspot.find_element(By.CSS_SELECTOR, "td.owner").text == "alice"
        assert row(driver, server.smtp).find_element(By.CSS_SELECTOR, "td.owner").text == "bob"
        when = hubspot.find_element(By.CSS_SELECTOR, "time")
        utc = datetime.datetime.fromisoformat(when.get_attribute("datetime").replace("Z", "+00:00"))
        assert when.get_attribute("title") == f"{utc.day} {utc:%b %Y, %H:%M} UTC", when.get_attribute("title")
        tokyo = utc + datetime.timedelta(hours=9)
        hour = tokyo.hour % 12 or 12
        expected = f"{tokyo:%b} {tokyo.day}, {tokyo.year}, {hour}:{tokyo:%M}\u202f{'AM' if tokyo.hour < 12 else 'PM'}"
        assert when.text in (expected, expected.replace("\u202f", " ")), f"Tokyo's time {expected!r}, saw {when.text!r}"
        driver.save_screenshot(os.path.join(OUT, "connections-icons-owner-local-time.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})


def connection_and_flows_pages_show_readable_times(driver, server):
    readable = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$")
    driver.get(server.url + f"/connections/{server.hubspot}")
    times = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#state time, #history time, #audit time")]
    assert times and all(readable.match(t) for t in times), times
    assert ".000000Z" not in driver.find_element(By.TAG_NAME, "main").text and "T0" not in driver.find_element(By.ID, "state").text
    assert driver.find_element(By.ID, "owner").text == "alice"
    driver.find_element(By.LINK_TEXT, "‹ Connections").click()
    row(driver, server.hubspot).find_element(By.CSS_SELECTOR, "a.flows").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "flows")))
    flows = [[cell.text for cell in r.find_elements(By.TAG_NAME, "td")] for r in driver.find_elements(By.CSS_SELECTOR, "#flows tbody tr")]
    assert sorted(f[0] for f in flows) == ["lead-sync", "support-triage"], flows
    assert all(readable.match(f[1]) for f in flows), flows
    driver.save_screenshot(os.path.join(OUT, "flows-since.png"))


def admin_searches_by_name(driver, server):
    driver.get(server.url + "/connections?status=all")
    search = driver.find_element(By.ID, "search")
    search.send_keys("hubs")
    search.submit()
    WebDriverWait(driver, 10).until(EC.url_contains("search=hubs"))
    names = [r.find_element(By.CSS_SELECTOR, "a.name").text for r in rows(driver)]
    assert names == ["HubSpot"], names
    assert driver.find_element(By.ID, "search").get_attribute("value") == "hubs", "the search box keeps the term"
    flows = row(driver, server.hubspot).find_element(By.CSS_SELECTOR, "a.flows")
    assert flows.text == "2" and flows.get_attribute("href").endswith(f"/flows?connection={server.hubspot}")
    driver.get(server.url + "/connections?search=zzz-nothing")
    assert driver.find_element(By.ID, "empty").text == "No connections match."


def admin_renames_through_the_modal(driver, server):
    driver.get(server.url + "/connections?status=all")
    row(driver, server.hubspot).find_element(By.CSS_SELECTOR, "button.rename").click()
    dialog = driver.find_element(By.ID, "rename-dialog")
    WebDriverWait(driver, 5).until(lambda _: dialog.is_displayed())
    name = driver.find_element(By.ID, "rename-name")
    assert name.get_attribute("value") == "HubSpot", "the modal shows the current name"
    driver.find_element(By.CSS_SELECTOR, "#rename-dialog [data-close]").click()  # Go Back changes nothing
    WebDriverWait(driver, 5).until(lambda _: not dialog.is_displayed())
    assert server.connection(server.hubspot)["name"] == "HubSpot"
    row(driver, server.hubspot).find_element(By.CSS_SELECTOR, "button.rename").click()
    name.clear()
    name.send_keys("HubSpot - Sales")
    driver.find_element(By.ID, "rename-save").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "notice")))
    assert row(driver, server.hubspot).find_element(By.CSS_SELECTOR, "a.name").text == "HubSpot - Sales"
    assert server.connection(server.hubspot)["name"] == "HubSpot - Sales", "the rename is in the log"


def admin_reconnects_an_inactive_connection(driver, server):
    driver.get(server.url + "/connections?status=inactive")
    assert status_of(driver, server.gmail) == "Inactive"
    row(driver, server.gmail).find_element(By.CSS_SELECTOR, "button.reconnect").click()
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "reconnect-dialog").is_displayed())
    assert driver.find_element(By.ID, "reconnect-name").text == "Gmail - Support"
    visible = [f.get_attribute("data-auth") for f in driver.find_elements(By.CSS_SELECTOR, "#reconnect-dialog fieldset")
               if f.is_displayed()]
    assert visible == ["oauth2"], f"only the OAuth2 fields are shown, saw {visible}"
    driver.save_screenshot(os.path.join(OUT, "reconnect-modal.png"))
    driver.find_element(By.CSS_SELECTOR, "#reconnect-dialog [name=accessToken]").send_keys("ya29.reconnected-in-browser")
    driver.find_element(By.ID, "reconnect-save").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "notice")))
    assert "status=inactive" in driver.current_url and driver.find_elements(By.ID, "empty"), "nothing is inactive now"
    driver.get(server.url + "/connections?status=all")
    assert status_of(driver, server.gmail) == "Active", "the row turned Active"
    assert server.connection(server.gmail)["status"] == "Active"
    driver.save_screenshot(os.path.join(OUT, "connections-admin.png"))


def admin_sees_history_and_time_travel(driver, server):
    driver.get(server.url + f"/connections/{server.gmail}")
    history = driver.find_element(By.ID, "history").text
    assert "expired" in history and "token expired" in history, history
    audit = driver.find_element(By.ID, "audit").text
    assert "connection.reconnected" in audit and "connection.expired" in audit, audit
    driver.save_screenshot(os.path.join(OUT, "connection-page.png"))
    driver.get(server.url + f"/connections/{server.gmail}?at=2000-01-01T00:00:00Z")
    assert "did not exist yet" in driver.page_source


def consent_in_the_popup(driver, main_window):
    """Waits for the popup, clicks Allow at the provider, and returns once the popup has closed."""
    WebDriverWait(driver, 10).until(lambda d: len(d.window_handles) == 2)
    popup = next(handle for handle in driver.window_handles if handle != main_window)
    driver.switch_to.window(popup)
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "allow")))
    driver.save_screenshot(os.path.join(OUT, "oauth2-consent-popup.png"))
    driver.find_element(By.ID, "allow").click()
    WebDriverWait(driver, 10).until(lambda d: len(d.window_handles) == 1)
    driver.switch_to.window(main_window)


def admin_connects_through_the_oauth2_popup(driver, server):
    driver.get(server.url + "/connections?status=all")
    main_window = driver.current_window_handle
    driver.find_element(By.ID, "new-connection").click()
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "create-dialog").is_displayed())
    Select(driver.find_element(By.ID, "create-piece")).select_by_visible_text("Test Mail")
    visible = [f for f in driver.find_elements(By.CSS_SELECTOR, "#create-dialog fieldset") if f.is_displayed()]
    assert not visible, "an OAuth2 piece asks for no token: the provider gives them"
    assert driver.find_element(By.ID, "create-save").text == "Connect with Test Mail"
    driver.find_element(By.ID, "create-name").send_keys("Test Mail - Browser")
    driver.find_element(By.ID, "create-save").click()
    consent_in_the_popup(driver, main_window)
    WebDriverWait(driver, 10).until(EC.url_contains("authorized="))
    assert "Authorized at the provider" in driver.find_element(By.ID, "notice").text
    created = [r for r in rows(driver) if r.find_element(By.CSS_SELECTOR, "a.name").text == "Test Mail - Browser"]
    assert len(created) == 1 and created[0].find_element(By.CSS_SELECTOR, ".status").text == "Active"
    server.testmail = created[0].get_attribute("data-id")
    assert server.provider.exchanges == 1, "one code exchanged, with its PKCE verifier"
    tokens = json.loads(server.cli("connection", "credentials", server.testmail, "--as", "engine"))
    assert tokens["accessToken"] == "at-browser-1" and tokens["refreshToken"] == "rt-browser-1", tokens
    driver.save_screenshot(os.path.join(OUT, "connections-after-oauth2.png"))


def admin_reconnects_through_the_oauth2_popup(driver, server):
    driver.get(server.url + "/connections?status=all")
    main_window = driver.current_window_handle
    button = row(driver, server.testmail).find_element(By.CSS_SELECTOR, "button.reconnect")
    assert button.get_attribute("data-oauth2") is not None
    button.click()
    consent_in_the_popup(driver, main_window)
    WebDriverWait(driver, 10).until(EC.url_contains("authorized="))
    assert server.connection(server.testmail)["credentialVersion"] == 2, "the reconnect is in the log"
    assert server.provider.exchanges == 2


def xss_name_renders_as_text(driver, server):
    driver.get(server.url + "/connections?status=all")
    try:
        driver.switch_to.alert
        raise AssertionError("a script from a connection name ran")
    except NoAlertPresentException:
        pass
    assert row(driver, server.xss).find_element(By.CSS_SELECTOR, "a.name").text == XSS_NAME
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in driver.page_source


def combining_marks_do_not_break_out_of_attributes(driver, server):
    quote = "\"\u0301><b id=injected>"
    for path in ("/connections?status=all", "/connections?status=all&search=" + urllib.parse.quote(quote)):
        driver.get(server.url + path)
        injected = driver.execute_script(
            "return [...document.querySelectorAll('*')].filter(e => e.hasAttribute('onfocus') || e.hasAttribute('x')"
            " || e.id === 'injected').length")
        assert injected == 0, f"{path}: an attribute or element came from a name or a search"
        try:
            driver.switch_to.alert
            raise AssertionError("a handler from a connection name ran")
        except NoAlertPresentException:
            pass
    driver.get(server.url + "/connections?status=all")
    assert row(driver, server.combining_xss).find_element(By.CSS_SELECTOR, "a.name").text == COMBINING_XSS_NAME


def admin_rechecks_connections(driver, server):
    driver.get(server.url + "/connections?status=all")
    assert not row(driver, server.smtp).find_elements(By.CSS_SELECTOR, "button.recheck"), "SMTP has no validation request"
    checks = server.provider.checks
    row(driver, server.mail_ok).find_element(By.CSS_SELECTOR, "button.recheck").click()
    notice = WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "notice"))).text
    assert notice == "Test Mail accepted the credential (HTTP 200).", notice
    assert status_of(driver, server.mail_ok) == "Active"
    row(driver, server.mail_revoked).find_element(By.CSS_SELECTOR, "button.recheck").click()
    error = WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "error"))).text
    assert error == "Test Mail refused the credential (HTTP 401: Token revoked); the connection is now Inactive.", error
    assert status_of(driver, server.mail_revoked) == "Inactive"
    assert server.provider.checks == checks + 2, "one request to the provider per click"
    shown = server.connection(server.mail_ok)
    assert shown["lastCheck"] == "passed (HTTP 200)", shown
    driver.get(server.url + f"/connections/{server.mail_ok}")
    last = driver.find_element(By.ID, "last-checked").text
    assert re.match(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC: passed \(HTTP 200\)$", last), last
    driver.save_screenshot(os.path.join(OUT, "connection-rechecked.png"))


def member_sees_no_actions(driver, server):
    driver.get(server.url + "/connections?status=all")
    assert len(rows(driver)) == 9, "a member sees every connection"
    assert not driver.find_elements(By.CSS_SELECTOR, "button.recheck"), "members may not recheck"
    assert not driver.find_elements(By.CSS_SELECTOR, "button.rename, button.reconnect, #rename-dialog"), \
        "no actions offered to a member"
    # A forged rename from the member's own session is refused by the server and changes nothing.
    csrf = driver.find_element(By.NAME, "csrf").get_attribute("value")
    driver.execute_script("""
        const form = document.createElement('form');
        form.method = 'post'; form.action = arguments[0];
        for (const [k, v] of [['csrf', arguments[1]], ['name', 'Taken over'], ['return', '/connections']]) {
          const input = document.createElement('input'); input.name = k; input.value = v; form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();""", f"/connections/{server.smtp}/rename", csrf)
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "error")))
    assert "forbidden" in driver.find_element(By.ID, "error").text
    assert server.connection(server.smtp)["name"] == "SMTP relay", "the refused rename changed nothing"
    driver.save_screenshot(os.path.join(OUT, "connections-member.png"))


def phone_layout(driver, server):
    driver.get(server.url + "/connections?status=all")
    width, viewport = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert viewport <= 400, f"the phone's viewport is narrow ({viewport}px)"
    assert width <= viewport, f"the page fits a phone's width without scrolling sideways ({width}px > {viewport}px)"
    driver.save_screenshot(os.path.join(OUT, "connections-phone.png"))


def main():
    os.makedirs(OUT, exist_ok=True)
    provider = Provider()
    server = Server(provider)
    server.seed()
    server.start()
    failures = 0
    plan = [("alice", server.admin_token, (1280, 900), [admin_filters_by_status, expiring_badge_and_status_choice, admin_filters_by_provider,
                                                         icons_owners_and_times_in_the_browsers_zone,
                                                         connection_and_flows_pages_show_readable_times, admin_searches_by_name,
                                                         admin_renames_through_the_modal,
                                                         admin_reconnects_an_inactive_connection,
                                                         admin_sees_history_and_time_travel,
                                                         admin_connects_through_the_oauth2_popup,
                                                         admin_reconnects_through_the_oauth2_popup, xss_name_renders_as_text,
                                                         combining_marks_do_not_break_out_of_attributes, admin_rechecks_connections]),
            ("bob", server.member_token, (1280, 900), [member_sees_no_actions]),
            ("bob", server.member_token, (390, 844), [phone_layout])]
    try:
        for who, token, size, tests in plan:
            driver = browser(*size, phone=size[0] < 500)
            try:
                sign_in(driver, server, token)
                for test in tests:
                    try:
                        test(driver, server)
                        print(f"ok   {test.__name__} ({who})")
                    except Exception:
                        failures += 1
                        print(f"FAIL {test.__name__} ({who})")
                        traceback.print_exc()
                        driver.save_screenshot(os.path.join(OUT, f"failed-{test.__name__}.png"))
            finally:
                driver.quit()
    finally:
        server.stop()
        provider.stop()
    print(f"{failures} failed" if failures else "all browser tests passed", f"(screenshots in {OUT})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
