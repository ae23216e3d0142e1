"""Every page reflows on a small phone and keeps Exit now in reach (WCAG 1.4.10, 1.4.4, 2.4.11).

At 320 CSS px, and at 360 px with text at 200% (the way a phone's text-size setting works: the root font
size grows, and everything sized in rem or em grows with it), no page scrolls sideways; with large text the
Exit bar is wholly on screen, stays modest (one line, not a wall), reserves its own space at the end of
the page, and Tab never puts focus under it. On a 390 × 844 phone every page begins within the top 18% of the
screen: the header is one row, with the menu closed behind its button; and every radio and checkbox on it has
the one style (size, colour, label beside it).

"Every page" comes from the app's own routes, so a new page cannot be missed: each GET route is asked by
each kind of viewer (a survivor with something in every part, their caseworker, their peer mentor, the
admin, someone signed out) with the ids that viewer has, and every answer that is a whole page (HTML with
the Exit bar) is checked. Fragments, files and redirects to pages already checked are left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Error as PlaywrightError

from portal.models import Role
from tests.browser.conftest import _loopback_only
from tests.browser.helpers import sign_in as browser_sign_in
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_checkins import check_in
from tests.test_documents import PDF, upload
from tests.test_home import new_goal

# Words that do not break: an address typed into a note, a long name. Pages must wrap them, not widen.
LONG = "https://example.org/housing/application-form-for-supported-accommodation-2030"
SMALL = {"width": 320, "height": 640}
PHONE = {"width": 360, "height": 740}
# A common phone: the page itself (the first thing in <main>) begins within the top 18% of its screen.
TALL_PHONE = {"width": 390, "height": 844}
PAGE_BEGINS = 0.18
MAIN_TOP = """() => {
  const main = document.querySelector('main');
  const first = [...main.children].find(el => el.getClientRects().length) || main;
  return first.getBoundingClientRect().top + window.scrollY;
}"""
# Set through the CSSOM, which the pages' CSP allows (a <style> element would be refused).
LARGE_TEXT = "document.documentElement.style.setProperty('font-size', '200%', 'important')"
TABS = 40
NOT_PAGES = {"/exit"}  # asking it ends the session; tests/browser/test_exit.py covers it
PARTS = {"goals": "goals", "appointments": "appointments", "documents": "documents", "checkins": "check-ins"}

MEASURE = r"""() => {
  const root = document.documentElement, bar = document.querySelector('[data-exit-bar]');
  const b = bar.getBoundingClientRect();
  // What sticks out: the innermost elements past the right edge (none of their children is).
  const past = rect => rect.right > root.clientWidth + 0.5;
  const out = [...document.body.querySelectorAll('*')].filter(el => past(el.getBoundingClientRect()));
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    if (past(range.getBoundingClientRect()) && !out.includes(node.parentElement)) out.push(node.parentElement);
  }
  const shown = out.filter(el => !el.closest('.visually-hidden'));
  const innermost = shown.filter(el => !shown.some(other => other !== el && el.contains(other)));
  const name = el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  return {scroll: root.scrollWidth, client: root.clientWidth, height: root.clientHeight,
          out: innermost.slice(0, 4).map(el => name(el.parentElement) + ' > ' + name(el) + ' ' + Math.round(el.getBoundingClientRect().right)),
          bar: {top: b.top, bottom: b.bottom, left: b.left, right: b.right, height: b.height}};
}"""

# Every radio and checkbox alike (one style): 1.5 rem square, in the brand colour, in a .choice with its label.
CHOICES = """() => {
  const probe = document.createElement("span");
  probe.style.color = "var(--brand)";
  document.body.append(probe);
  const brand = getComputedStyle(probe).color;
  probe.remove();
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.5;
  return [...document.querySelectorAll("input[type=radio], input[type=checkbox]")].filter(box => box.offsetParent)
    .map(box => {
      const style = getComputedStyle(box), shape = box.getBoundingClientRect();
      const label = box.id && document.querySelector(`label[for="${box.id}"]`);
      const wrong = [];
      if (Math.abs(shape.width - rem) > 0.5 || Math.abs(shape.height - rem) > 0.5) { wrong.push(`${shape.width}×${shape.height}`); }
      if (style.accentColor !== brand) { wrong.push(`accent ${style.accentColor}`); }
      if (!box.parentElement.classList.contains("choice") || !label || label.parentElement !== box.parentElement) {
        wrong.push("not in a .choice beside its label");
      }
      return wrong.length ? `${box.name}=${box.value}: ${wrong.join(", ")}` : "";
    }).filter(Boolean);
}"""
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return {done: true};
  if (window.__wpFirstFocus === el) return {done: true};
  if (!window.__wpFirstFocus) window.__wpFirstFocus = el;
  const bar = document.querySelector('[data-exit-bar]');
  const label = (el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
                 (el.getAttribute('aria-label') || el.textContent || el.name || '').trim().slice(0, 40) + '"');
  if (bar.contains(el)) return {done: false, under: false, label};
  const b = bar.getBoundingClientRect();
  let r = el.getBoundingClientRect();
  if (el.tagName === 'TEXTAREA') {
    // Chromium scrolls a text box's caret into view, not the whole box: a tall box may run on under the
    // bar while the line being typed on (the first, on arriving by Tab) is clear of it. That line must be.
    const style = getComputedStyle(el), size = parseFloat(style.fontSize);
    const line = style.lineHeight === 'normal' ? 1.2 * size : parseFloat(style.lineHeight);
    r = {top: r.top, left: r.left, right: r.right,
         bottom: r.top + parseFloat(style.borderTopWidth) + parseFloat(style.paddingTop) + line};
  }
  const across = Math.min(r.right, b.right) - Math.max(r.left, b.left);
  const down = Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top);
  return {done: false, under: across > 0.5 && down > 0.5, label,
          where: [Math.round(r.top), Math.round(r.bottom), Math.round(b.top)]};
}"""

# Text that does not grow with the root font size (sized in px, or a form control left at the browser's own
# size) defeats a phone's text-size setting (WCAG 1.4.4). Every element with text of its own is measured
# before and after; the sizes are kept on the page between the two calls.
TEXT_SIZES = """(after) => {
  const own = el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) ||
    (el.matches('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, button') && el.getClientRects().length);
  const elements = [...document.body.querySelectorAll('*')].filter(el => !el.closest('.visually-hidden') && own(el));
  if (!after) { window.__wpSizes = new Map(elements.map(el => [el, parseFloat(getComputedStyle(el).fontSize)])); return []; }
  const small = [];
  for (const [el, before] of window.__wpSizes) {
    const now = parseFloat(getComputedStyle(el).fontSize);
    if (now < 1.95 * before) small.push(el.tagName.toLowerCase() + (el.type ? '[type=' + el.type + ']' : '') + (el.id ? '#' + el.id : '') + ' ' + before + '->' + now);
  }
  return small;
}"""

END_CLEAR = """() => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  const main = document.querySelector('main'), bar = document.querySelector('[data-exit-bar]');
  const last = main.lastElementChild || main;
  return [last.getBoundingClientRect().bottom, bar.getBoundingClientRect().top];
}"""


@pytest.fixture
def world(client, settings):  # type: ignore[no-untyped-def]
    """river (a survivor with something in every part, long words included), casey (river's caseworker, with
    every part shared), mara (river's peer mentor, a thread with messages both ways), an admin, and a
    set-password link. Built over HTTP through the in-process client; the browser then signs in."""
    sign_up(client, "river")
    goal = new_goal(client, f"Find a home {LONG}")
    for text in ("Call the housing office", f"Fill in {LONG}", "Visit the flat"):
        assert post_form(client, f"{goal}/steps", {"step": text}).status_code in (200, 303)
    step = re.search(r"/steps/([A-Za-z0-9_-]+)/toggle", client.get(goal).text).group(1)  # type: ignore[union-attr]
    appointment = post_form(client, "/appointments", {
        "what": f"Clinic {LONG}", "place": LONG, "with_whom": "Dr Okonkwo-Abernathy", "notes": f"Bring {LONG}",
        "date": "2030-01-02", "time": "10:00", "reminder": "none"}).headers["location"]
    document = upload(client, PDF, filename=f"{LONG[8:]}.pdf", name=f"Passport {LONG}", expires_on="").headers["location"]
    checkin = check_in(client, note=f"Felt better after reading {LONG}").split("?")[0]
    items = {"goals": goal, "appointments": appointment, "documents": document, "check-ins": checkin}
    ids = {prefix: url.rsplit("/", 1)[1] for prefix, url in items.items()}

    make_user(settings, "casey", Role.CASEWORKER)
    make_user(settings, "cw-two", Role.CASEWORKER)
    make_user(settings, "mara", Role.MENTOR)
    make_user(settings, "orgadmin", Role.ADMIN)
    casey = make_connection(settings, "river", "casey", tuple(PARTS), label="River")
    asking = make_connection(settings, "river", "cw-two", label="River")
    mara = make_connection(settings, "river", "mara", label="Jo")
    sql(settings, "INSERT INTO access_request (id, connection_id, part, reason, created_at) "
                  "VALUES ('request-one', :c, 'goals', :r, :t)", c=asking, r=f"To help with {LONG}", t=datetime.now(UTC))
    assert post_form(client, f"/messages/{mara}", {"body": f"Here is the form: {LONG}"}).status_code == 303

    client.cookies.clear()
    sign_in(client, "mara")
    assert post_form(client, f"/messages/{mara}", {"body": "How is your week going?"}).status_code == 303
    client.cookies.clear()
    sign_in(client, "casey")
    assert client.get(f"/people/{casey}/goals/{ids['goals']}").status_code == 200  # an entry in river's log
    client.cookies.clear()
    sign_in(client, "orgadmin")
    assert post_form(client, "/admin/help-lines", {"label": "City shelter (24 hours)", "call": "+44 20 7946 0000",
                                                   "text": ""}).status_code == 303
    added = post_form(client, "/admin/staff", {"username": "new-mentor", "role": "mentor", "display_name": "New Mentor"})
    token = re.search(r'/set-password/([^"]+)"', added.text).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    return {"ids": ids, "step": step, "casey": casey, "mara": mara, "token": token}


def _values(world, viewer: str, path: str, part: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What each placeholder of a route means for this viewer."""
    prefix = path.split("/")[1]
    item_prefix = PARTS[part] if prefix == "people" else prefix
    return {
        "{goal_id:str}": world["ids"]["goals"], "{step_id:str}": world["step"],
        "{item_id:str}": world["ids"].get(item_prefix, ""), "{part:str}": part,
        "{connection_id:str}": world["mara"] if viewer == "mara" or prefix == "messages" else world["casey"],
        "{token:str}": world["token"], "{line_id:int}": "1", "{user_id:int}": "1",
    }


def _urls(app, world, viewer: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every GET route of the app as a URL for this viewer (one per part where the route takes a part)."""
    paths = sorted({route.path for route in app.routes if "GET" in route.methods})
    urls: list[str] = []
    for path in paths:
        if path in NOT_PAGES or path.startswith("/static/"):
            continue
        for part in PARTS if "{part:str}" in path else ["goals"]:
            url = path
            for placeholder, value in _values(world, viewer, path, part).items():
                url = url.replace(placeholder, value)
            if "{" not in url and url not in urls:
                urls.append(url)
    return urls


def _problems_on(page, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every way the loaded page fails: on a 390 × 844 phone the page beginning below the top 18% (a header
    that takes the first screen), sideways scrolling at 320 px, then at 360 px with 200% text the
    same, text that did not grow, the Exit bar off screen or too big, focus under the bar, the end of the
    page under the bar."""
    problems: list[str] = []
    page.set_viewport_size(TALL_PHONE)
    top = page.evaluate(MAIN_TOP)
    if top > PAGE_BEGINS * TALL_PHONE["height"]:
        problems.append(f"{url}: 390 × 844: the page begins {top:.0f} px down, below the top 18%")
    if odd := page.evaluate(CHOICES):
        problems.append(f"{url}: radios or checkboxes not in the one style: {odd}")
    page.set_viewport_size(SMALL)
    small = page.evaluate(MEASURE)
    if small["scroll"] > small["client"]:
        problems.append(f"{url}: 320 px: {small['scroll']} px wide {small['out']}")

    page.evaluate(TEXT_SIZES, False)
    page.set_viewport_size(PHONE)
    page.evaluate(LARGE_TEXT)
    fixed = page.evaluate(TEXT_SIZES, True)
    if fixed:
        problems.append(f"{url}: text that does not grow with the text size: {fixed[:6]}")
    large = page.evaluate(MEASURE)
    bar = large["bar"]
    if large["scroll"] > large["client"]:
        problems.append(f"{url}: 360 px, 200% text: {large['scroll']} px wide {large['out']}")
    if bar["top"] < 0 or bar["left"] < 0 or bar["bottom"] > large["height"] or bar["right"] > large["client"]:
        problems.append(f"{url}: 360 px, 200% text: Exit bar off screen {bar}")
    if bar["height"] > 0.15 * large["height"]:
        problems.append(f"{url}: 360 px, 200% text: Exit bar {bar['height']:.0f} px tall")

    under: list[str] = []
    for _ in range(TABS):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if focus["done"]:
            break
        if focus["under"]:
            under.append(f"{focus['label']} {focus['where']}")
    if under:
        problems.append(f"{url}: 360 px, 200% text: {len(under)} Tab stops under the Exit bar: {under}")

    end, top = page.evaluate(END_CLEAR)
    if end > top + 0.5:
        problems.append(f"{url}: 360 px, 200% text: the end of the page stays under the Exit bar ({end:.0f} > {top:.0f})")
    page.set_viewport_size(SMALL)
    return problems


def _check_viewer(page, app, world, server: str, viewer: str, checked: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Visit every route as this viewer; check each whole page not checked before for this viewer. Staff and
    the admin skip the public pages (help, safety, ...) already checked signed out and with the survivor's
    longer menu: only their menu differs there, and it is checked on their own pages."""
    problems: list[str] = []
    for url in _urls(app, world, viewer) + (["/no-such-page"] if viewer == "signed out" else []):
        try:
            response = page.goto(f"{server}{url}")
        except PlaywrightError as error:  # a file download (a document, a calendar entry) is not a page
            assert "Download is starting" in str(error), (url, error)
            continue
        assert response is not None, url
        shown = page.url.removeprefix(server)
        is_page = (response.status == 200 or url == "/no-such-page") \
            and response.headers.get("content-type", "").startswith("text/html") \
            and page.locator("[data-exit-bar]").count() == 1
        public = viewer not in ("signed out", "river") and ("signed out", shown) in checked
        if not is_page or public or (viewer, shown) in checked:
            continue
        checked.add((viewer, shown))  # type: ignore[arg-type]
        problems += [f"{viewer}: {problem}" for problem in _problems_on(page, shown)]
    return problems


def test_every_page_reflows_and_focus_never_hides_under_the_exit_bar(browser, server, app, world, hosts_seen):
    context = browser.new_context(viewport=SMALL)
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    checked: set = set()  # type: ignore[type-arg]
    problems: list[str] = []
    for viewer in ["signed out", "river", "casey", "mara", "orgadmin"]:
        context.clear_cookies()
        if viewer != "signed out":
            browser_sign_in(page, server, viewer)
        problems += _check_viewer(page, app, world, server, viewer, checked)
    context.close()

    pages = {viewer: sorted(url for who, url in checked if who == viewer) for viewer, _ in checked}
    # The list really is every page: each kind of viewer reached the pages named in the brief.
    must = {
        "signed out": {"/", "/sign-in", "/sign-up", "/safety", "/forgot-password", "/help", "/no-such-page",
                       f"/set-password/{world['token']}"},
        "river": {"/home", "/goals", "/appointments", "/documents", "/check-ins", "/messages", "/sharing",
                  "/sharing/log", "/settings", "/settings/safety", "/settings/security", "/settings/reminders",
                  "/settings/language", "/settings/data", f"/messages/{world['mara']}"}
                 | {f"/{prefix}/{item}" for prefix, item in world["ids"].items()},
        "casey": {"/staff", "/people", f"/people/{world['casey']}"} | {f"/people/{world['casey']}/{part}" for part in PARTS},
        "mara": {"/people", "/messages", f"/messages/{world['mara']}"},
        "orgadmin": {"/admin/staff", "/admin/help-lines", "/settings", "/settings/safety", "/settings/security",
                     "/settings/language"},
    }
    missing = {viewer: sorted(expected - set(pages.get(viewer, []))) for viewer, expected in must.items()}
    missing = {viewer: urls for viewer, urls in missing.items() if urls}
    assert not problems and not missing, (
        f"{len(problems)} problems on {len(checked)} pages:\n" + "\n".join(problems) +
        (f"\npages that were not reached as whole pages: {missing}" if missing else ""))
