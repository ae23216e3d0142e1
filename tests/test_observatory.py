"""Header grade: the MDN HTTP Observatory's rules (tests/observatory.py) on real answers of the app: A+ everywhere.

How the rules that need TLS are handled: the Observatory grades a site as deployed, and Waypoint is deployed as
PORTAL_ENV=production behind a TLS proxy. So the full grade is taken on the app built with production settings
(as tests/test_settings.py builds them), asked at https://testserver.local: the scheme the proxy passes on
(uvicorn's X-Forwarded-Proto handling), so HSTS, Secure `__Host-` cookies and https script URLs are what a browser
gets. The redirection rule asks the same path over plain http the way the proxy forwards a port-80 visitor
(`X-Forwarded-Proto: http`) and follows the redirects. The development app runs on plain http with cookies that are
not Secure, by design; it is held to the rules that do not depend on TLS (CSP, CORS, Referrer-Policy,
X-Content-Type-Options, X-Frame-Options, CORP): the same results as production.

The scanner itself only grades answers with status 2xx, 3xx, 401 or 403; the 404 page is graded by the same rules
anyway, so an error page cannot lose its headers unnoticed.
"""

from __future__ import annotations

import secrets

from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from app import create_app
from portal.config import Config, new_document_key
from tests import observatory
from tests.conftest import make_user, sign_in, sign_up
from tests.observatory import Response, Site, grade

HTTPS = "https://testserver.local"
HTTP = "http://testserver.local"
TLS_FREE_RULES = ("content-security-policy", "cross-origin-resource-sharing", "referrer-policy",
                  "x-content-type-options", "x-frame-options", "cross-origin-resource-policy")


RANDOM_SECRET = secrets.token_urlsafe(48)


class Browser:
    """A test client that keeps every Set-Cookie header it receives, redirects included (where the scanner's jar
    gathers its cookies)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.set_cookies: list[str] = []
        client.event_hooks = {"request": [], "response": [self._record]}

    def _record(self, response) -> None:  # type: ignore[no-untyped-def]
        self.set_cookies.extend(response.headers.get_list("set-cookie"))

    def fetch(self, url: str, **headers: str) -> tuple[Response, tuple[tuple[str, int], ...]]:
        """GET `url`, following redirects one by one (at most 10, as the scanner): the last answer and the route."""
        route: list[tuple[str, int]] = []
        for _ in range(11):
            answer = self.client.get(url, headers=headers, follow_redirects=False)
            route.append((url, answer.status_code))
            if answer.status_code not in (301, 302, 303, 307, 308) or len(route) > 10:
                break
            url = str(answer.url.join(answer.headers["location"]))
            headers = {}  # the proxy's header belonged to the first, plain-http request
        response = Response(url, answer.status_code, tuple(answer.headers.multi_items()), answer.text)
        return response, tuple(route)

    def site(self, path: str) -> Site:
        """What the scanner would collect for `path`: the answer at the client's own base URL, the plain-http route
        (production only: as the TLS proxy forwards it), the cookies received so far, and a CORS preflight."""
        base = str(self.client.base_url).rstrip("/")
        auto, _route = self.fetch(base + path)
        http_route = None
        if base.startswith("https:"):
            _answer, http_route = self.fetch(HTTP + path, **{"x-forwarded-proto": "http"})
        else:
            http_route = _route
        preflight = self.client.options(auto.url, headers={"Origin": observatory.CORS_ORIGIN,
                                                           "Access-Control-Request-Method": "GET"})
        cors = Response(auto.url, preflight.status_code, tuple(preflight.headers.multi_items()))
        return Site(auto=auto, http_route=http_route, set_cookies=tuple(self.set_cookies), cors=cors)


@pytest.fixture
def production(settings: Config) -> Config:
    """The same database, with production settings (which refuse placeholder secrets and debug)."""
    return Config.from_env(
        {}, env="production", secret_key=RANDOM_SECRET, document_key=new_document_key(), data_dir=settings.data_dir,
        database_url=settings.database_url, redis_url=settings.redis_url, allowed_hosts=("testserver.local",),
        push_worker=False,
    )


@pytest.fixture
def browser(production: Config) -> Iterator[Browser]:
    with TestClient(create_app(production), base_url=HTTPS) as client:
        yield Browser(client)


@pytest.fixture
def dev_browser(client: TestClient) -> Browser:
    return Browser(client)


def assert_a_plus(site: Site) -> observatory.Grade:
    result = grade(site)
    print(f"\n{site.auto.url} ({site.auto.status})\n{result.report()}")
    failed = [r for r in result.results if not r.passed or r.modifier < 0]
    assert not failed and result.grade == "A+" and result.score >= 100, f"{site.auto.url}\n{result.report()}"
    return result


# ----- the app as deployed: production behind TLS ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/sign-in", "/static/css/app.css", "/no-such-page"])
def test_signed_out_answers_grade_a_plus(browser, path):
    result = assert_a_plus(site := browser.site(path))
    assert {r.test: r.result for r in result.results}["redirection"] == "redirection-to-https"
    assert site.auto.url == HTTPS + path  # asked and answered over https, never moved elsewhere
    if path == "/no-such-page":
        assert site.auto.status == 404 and not result.scannable


def test_the_start_page_earns_every_bonus_it_can(browser):
    """The A+ is not a near thing: 100 plus every bonus the portal can earn, nothing lost."""
    result = assert_a_plus(browser.site("/"))
    assert {r.test: r.result for r in result.results} == {
        "content-security-policy": "csp-implemented-with-no-unsafe-default-src-none",
        "cookies": "cookies-secure-with-httponly-sessions-and-samesite",
        "cross-origin-resource-sharing": "cross-origin-resource-sharing-not-implemented",
        "redirection": "redirection-to-https",
        "referrer-policy": "referrer-policy-private",
        "strict-transport-security": "hsts-implemented-max-age-at-least-six-months",
        "subresource-integrity": "sri-implemented-and-all-scripts-loaded-securely",
        "x-content-type-options": "x-content-type-options-nosniff",
        "x-frame-options": "x-frame-options-implemented-via-csp",
        "cross-origin-resource-policy": "corp-implemented-with-same-origin",
    }
    assert result.score == 140


def test_signed_in_survivor_pages_grade_a_plus(browser):
    """The session and CSRF cookies set at sign-up and sign-in are in the jar: Secure, HttpOnly, SameSite."""
    sign_up(browser.client, "river")
    for path in ("/home", "/goals", "/settings"):
        site = browser.site(path)
        assert site.auto.status == 200 and site.auto.url == HTTPS + path, path  # still signed in
        result = assert_a_plus(site)
        assert {r.test: r.result for r in result.results}["cookies"] == "cookies-secure-with-httponly-sessions-and-samesite"
    assert any(cookie.startswith("__Host-wp_session=") for cookie in browser.set_cookies)


def test_a_signed_in_staff_page_grades_a_plus(browser, production):
    from portal.models import Role

    make_user(production, "harbour", Role.CASEWORKER)
    sign_in(browser.client, "harbour")
    assert_a_plus(browser.site("/staff"))


def test_plain_http_is_sent_to_the_same_address_on_https(browser):
    """What the redirection rule needs, on its own: 301 for reading, 307 for a form, same host, path and query."""
    answer = browser.client.get(f"{HTTP}/goals?page=2", headers={"x-forwarded-proto": "http"}, follow_redirects=False)
    assert answer.status_code == 301 and answer.headers["location"] == f"{HTTPS}/goals?page=2"
    posted = browser.client.post(f"{HTTP}/sign-in", headers={"x-forwarded-proto": "http"}, follow_redirects=False)
    assert posted.status_code == 307 and posted.headers["location"] == f"{HTTPS}/sign-in"
    # A proxy that says nothing, or says https, is answered as before (no loop); so is an unknown host.
    assert browser.client.get(f"{HTTP}/", follow_redirects=False).status_code == 200
    assert browser.client.get(f"{HTTP}/", headers={"x-forwarded-proto": "https"}, follow_redirects=False).status_code == 200
    refused = browser.client.get("http://evil.example/", headers={"x-forwarded-proto": "http"}, follow_redirects=False)
    assert refused.status_code == 400


def test_development_never_redirects_to_https(dev_browser):
    answer = dev_browser.client.get("/", headers={"x-forwarded-proto": "http"}, follow_redirects=False)
    assert answer.status_code == 200


# ----- the development app: the rules that do not need TLS ------------------------------------------------


def test_development_answers_match_production_on_the_rules_without_tls(dev_browser, browser):
    sign_up(dev_browser.client, "river")
    sign_up(browser.client, "brook")
    for path in ("/", "/home", "/goals", "/static/js/htmx.min.js", "/no-such-page"):
        dev, prod = grade(dev_browser.site(path)), grade(browser.site(path))
        dev_results = {r.test: r.result for r in dev.results if r.test in TLS_FREE_RULES}
        prod_results = {r.test: r.result for r in prod.results if r.test in TLS_FREE_RULES}
        assert dev_results == prod_results, f"{path}\ndevelopment:\n{dev.report()}\nproduction:\n{prod.report()}"
        assert all(r.passed and r.modifier >= 0 for r in dev.results if r.test in TLS_FREE_RULES), dev.report()


# ----- the rules can fail: the grade above is not vacuous --------------------------------------------------


def _site(**changes: object) -> Site:
    """A copy of a good production answer, with some headers replaced (None removes one)."""
    headers = {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
        "strict-transport-security": "max-age=63072000; includeSubDomains",
        "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY",
        "cross-origin-resource-policy": "same-origin",
    }
    set_cookies = changes.pop("set_cookies", ("__Host-wp_session=x; Path=/; Secure; HttpOnly; SameSite=Strict",))
    body = changes.pop("body", '<script src="/static/js/a.js?v=1" integrity="sha384-abc"></script>')
    route = changes.pop("http_route", ((f"{HTTP}/", 301), (f"{HTTPS}/", 200)))
    for name, value in changes.items():
        headers[name.replace("_", "-")] = value  # type: ignore[assignment]
    auto = Response(f"{HTTPS}/", 200, tuple((k, v) for k, v in headers.items() if v is not None), str(body))
    return Site(auto=auto, http_route=route, set_cookies=tuple(set_cookies),  # type: ignore[arg-type]
                cors=Response(f"{HTTPS}/", 204, ()))


def _result(site: Site, test: str) -> tuple[str, int]:
    found = next(r for r in grade(site).results if r.test == test)
    return found.result, found.modifier


def test_the_good_example_grades_a_plus():
    assert grade(_site()).grade == "A+"


@pytest.mark.parametrize(
    ("changes", "test", "expected"),
    [
        ({"content_security_policy": "default-src 'none'; script-src 'self' 'unsafe-inline'"},
         "content-security-policy", ("csp-implemented-with-unsafe-inline", -20)),
        ({"content_security_policy": "default-src 'self'; script-src 'self' 'unsafe-eval'"},
         "content-security-policy", ("csp-implemented-with-unsafe-eval", -10)),
        ({"content_security_policy": "default-src 'none'; script-src https:"},
         "content-security-policy", ("csp-implemented-with-unsafe-inline", -20)),
        ({"content_security_policy": "default-src 'none'; img-src http://pictures.example"},
         "content-security-policy", ("csp-implemented-with-insecure-scheme-in-passive-content-only", -10)),
        ({"content_security_policy": "default-src 'none'; default-src 'self'"},
         "content-security-policy", ("csp-header-invalid", -25)),
        ({"content_security_policy": None}, "content-security-policy", ("csp-not-implemented", -25)),
        ({"set_cookies": ("__Host-wp_session=x; Path=/; Secure; SameSite=Strict",)},
         "cookies", ("cookies-session-without-httponly-flag", -30)),
        ({"set_cookies": ("wp_session=x; Path=/; HttpOnly; SameSite=Strict",)},
         "cookies", ("cookies-session-without-secure-flag-but-protected-by-hsts", -10)),
        ({"set_cookies": ("wp_session=x; Path=/; HttpOnly; SameSite=Strict",), "strict_transport_security": None},
         "cookies", ("cookies-session-without-secure-flag", -40)),
        ({"set_cookies": ("wp_csrf=x; Path=/; Secure; HttpOnly",)},
         "cookies", ("cookies-anticsrf-without-samesite-flag", -20)),
        ({"set_cookies": ("theme=x; Path=/; Secure; SameSite=Sometimes",)}, "cookies", ("cookies-samesite-flag-invalid", -20)),
        ({"strict_transport_security": "max-age=86400"}, "strict-transport-security",
         ("hsts-implemented-max-age-less-than-six-months", -10)),
        ({"strict_transport_security": None}, "strict-transport-security", ("hsts-not-implemented", -20)),
        ({"http_route": ((f"{HTTP}/", 200),)}, "redirection", ("redirection-missing", -20)),
        ({"http_route": ((f"{HTTP}/", 301), ("https://elsewhere.example/", 200))}, "redirection",
         ("redirection-off-host-from-http", -5)),
        ({"referrer_policy": "unsafe-url", "body": ""}, "referrer-policy", ("referrer-policy-unsafe", -5)),
        ({"body": '<script src="http://cdn.example/x.js"></script>'}, "subresource-integrity",
         ("sri-not-implemented-and-external-scripts-not-loaded-securely", -50)),
        ({"x_content_type_options": None}, "x-content-type-options", ("x-content-type-options-not-implemented", -5)),
        ({"x_frame_options": None, "content_security_policy": "default-src 'none'"}, "x-frame-options",
         ("x-frame-options-not-implemented", -20)),
        ({"cross_origin_resource_policy": "same-planet"}, "cross-origin-resource-policy", ("corp-header-invalid", -5)),
    ],
)
def test_each_rule_can_fail(changes, test, expected):
    site = _site(**changes)
    assert _result(site, test) == expected
    # A penalty of 20 or more costs the A, and with it every bonus. A smaller one can leave the scanner's A+
    # standing on the bonuses (100 - 5 + 35): assert_a_plus refuses any penalty, so it still fails the page.
    if expected[1] <= -20:
        assert grade(site).grade != "A+", grade(site).report()
    with pytest.raises(AssertionError):
        assert_a_plus(site)


def test_a_meta_policy_is_read_as_the_scanner_reads_it():
    """<meta http-equiv> policies count, intersected with the header's; frame-ancestors cannot be set there."""
    def meta(policy: str) -> str:
        return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'

    loose = meta("script-src 'unsafe-inline'")
    assert _result(_site(content_security_policy=None, body=loose), "content-security-policy") == (
        "csp-implemented-with-unsafe-inline", -20)
    # Two policies: a source counts only when both allow it, so the header's strict one still holds.
    assert _result(_site(body=loose), "content-security-policy")[0] == "csp-implemented-with-no-unsafe-default-src-none"
    assert _result(_site(content_security_policy=None, body=meta("frame-ancestors 'none'")),
                   "content-security-policy") == ("csp-not-implemented", -25)


def test_the_bonuses_only_count_for_an_a():
    """A penalty that leaves less than 90 loses the extra credit: 100 - 20 - 5 = 75 (B), whatever the bonuses."""
    result = grade(_site(http_route=((f"{HTTP}/", 200),), x_content_type_options=None))
    assert (result.score, result.grade) == (75, "B")
    assert observatory.grade_for_score(140) == "A+" and observatory.grade_for_score(99) == "A"


def test_a_host_cookie_breaking_its_prefix_is_dropped_as_the_scanners_jar_drops_it():
    # tough-cookie ignores a __Host- cookie without Secure; the other cookie is then what is graded.
    site = replace(_site(), set_cookies=("__Host-wp_session=x; Path=/; HttpOnly", "lang=en; Path=/; Secure"))
    assert _result(site, "cookies") == ("cookies-secure-with-httponly-sessions", 0)
