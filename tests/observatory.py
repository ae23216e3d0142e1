"""The MDN HTTP Observatory's rules, in Python, for responses a test client received.

A port of the analyzer of the npm package @mdn/mdn-http-observatory 1.4.8 (scan algorithm version 4): one
function per scanner test, named after it, each returning the scanner's result name and score modifier. Each
function names the scanner file it follows (paths under the package's `src/`). The grading is `grade()`, from
`scanner/index.js` and `grader/grader.js`.

What the scanner fetches itself, a test hands over in a `Site`: the final response of the page (the scanner's
"auto" response: the https one when https answers, else the http one), the redirect route of the same path asked
over plain http, the Set-Cookie headers received, and the answer to a CORS preflight. Where the port has to differ
from the scanner, the comment says so; none of the differences makes a site grade better than the scanner would.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

# grader/charts.js SCORE_TABLE: the modifier of every result.
MODIFIERS: dict[str, int] = {
    # content-security-policy
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-inline-in-style-src-only": 0,
    "csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-header-invalid": -25,
    "csp-not-implemented": -25,
    "csp-not-implemented-but-reporting-enabled": -25,
    "csp-implemented-but-duplicate-directives": 0,
    # cookies
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag-but-protected-by-hsts": -5,
    "cookies-session-without-secure-flag-but-protected-by-hsts": -10,
    "cookies-without-secure-flag": -20,
    "cookies-samesite-flag-invalid": -20,
    "cookies-anticsrf-without-samesite-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    # cross-origin-resource-sharing
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-restricted-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    # redirection
    "redirection-all-redirects-preloaded": 0,
    "redirection-to-https": 0,
    "redirection-not-needed-no-http": 0,
    "redirection-off-host-from-http": -5,
    "redirection-not-to-https-on-initial-redirection": -10,
    "redirection-not-to-https": -20,
    "redirection-missing": -20,
    "redirection-invalid-cert": -20,
    # referrer-policy
    "referrer-policy-private": 5,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
    # strict-transport-security
    "hsts-preloaded": 5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-not-implemented": -20,
    "hsts-header-invalid": -20,
    "hsts-not-implemented-no-https": -20,
    "hsts-invalid-cert": -20,
    # subresource-integrity
    "sri-implemented-and-all-scripts-loaded-securely": 5,
    "sri-implemented-and-external-scripts-loaded-securely": 5,
    "sri-not-implemented-response-not-html": 0,
    "sri-not-implemented-but-no-scripts-loaded": 0,
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
    "sri-not-implemented-but-external-scripts-loaded-securely": -5,
    "sri-implemented-but-external-scripts-not-loaded-securely": -20,
    "sri-not-implemented-and-external-scripts-not-loaded-securely": -50,
    # x-content-type-options
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-not-implemented": -5,
    "x-content-type-options-header-invalid": -5,
    # x-frame-options
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 0,
    "x-frame-options-allow-from-origin": 0,
    "x-frame-options-not-implemented": -20,
    "x-frame-options-header-invalid": -20,
    # cross-origin-resource-policy
    "corp-header-invalid": -5,
    "corp-implemented-with-cross-origin": 0,
    "corp-implemented-with-same-origin": 10,
    "corp-implemented-with-same-site": 10,
    "corp-not-implemented": 0,
    # generic
    "html-not-parseable": -20,
}

# grader/charts.js
GRADE_CHART = {100: "A+", 95: "A", 90: "A", 85: "A-", 80: "B+", 75: "B", 70: "B", 65: "B-", 60: "C+", 55: "C", 50: "C",
               45: "C-", 40: "D+", 35: "D", 30: "D", 25: "D-", 20: "F", 15: "F", 10: "F", 5: "F", 0: "F"}
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90
# config.js retriever.corsOrigin: the Origin of the scanner's CORS preflight.
CORS_ORIGIN = "https://http-observatory.security.mozilla.org"
# types.js
HTML_TYPES = {"text/html", "application/xhtml+xml"}


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: tuple[tuple[str, str], ...]  # every header as sent, in order, names in any case
    body: str = ""


@dataclass(frozen=True)
class Site:
    """What the scanner's retriever (retriever/retriever.js) collects for one address."""

    auto: Response  # the https answer when https answers, else the http one (after redirects)
    http_route: tuple[tuple[str, int], ...] | None  # plain-http request's (url, status) chain, final included; None: no http
    set_cookies: tuple[str, ...] = ()  # raw Set-Cookie headers received on the way
    cors: Response | None = None  # answer to OPTIONS with Origin: CORS_ORIGIN, Access-Control-Request-Method: GET
    cors_origin: str = CORS_ORIGIN
    preloaded: frozenset[str] = frozenset()  # host names on the HSTS preload list (conf/hsts-preload.json)

    @property
    def https(self) -> Response | None:
        return self.auto if self.auto.url.startswith("https:") else None

    @property
    def hostname(self) -> str:
        return urlsplit(self.auto.url).hostname or ""


@dataclass(frozen=True)
class Result:
    test: str
    result: str
    passed: bool

    @property
    def modifier(self) -> int:
        return MODIFIERS[self.result]


# ----- reading responses (analyzer/utils.js, retriever/utils.js) ------------------------------------


def header_values(response: Response | None, name: str) -> list[str]:
    """getHttpHeaders: node joins a repeated header into one value with ", " (Set-Cookie stays a list)."""
    if response is None:
        return []
    values = [value for key, value in response.headers if key.lower() == name]
    if not values:
        return []
    return values if name == "set-cookie" else [", ".join(values)]


def first_header(response: Response | None, name: str) -> str | None:
    values = header_values(response, name)
    return values[0] if values else None


def is_html(response: Response) -> bool:
    return (first_header(response, "content-type") or "").split(";")[0] in HTML_TYPES


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: list[dict[str, str]] = []
        self.scripts: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "meta":
            self.metas.append(found)
        elif tag == "script":
            self.scripts.append(found)


def _tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def http_equiv(response: Response) -> dict[str, list[str]]:
    """retriever/utils.js parseHttpEquivHeaders: <meta http-equiv=content-security-policy> and
    <meta name=referrer> of an HTML answer; nothing for other types (retriever/retriever.js)."""
    found: dict[str, list[str]] = {"content-security-policy": []}
    if not is_html(response) or not response.body:
        return {}
    for meta in _tags(response.body).metas:
        if "http-equiv" in meta and "content" in meta:
            if meta["content"] and meta["http-equiv"].lower().strip() == "content-security-policy":
                found["content-security-policy"].append(meta["content"])
        elif meta.get("name", "").lower().strip() == "referrer" and meta.get("content"):
            found["referrer-policy"] = [meta["content"]]
    return found


def only_if_worse(new: str, old: str | None, order: list[str]) -> str:
    """analyzer/utils.js onlyIfWorse (a result missing from `order` counts as the best)."""
    if old is None or order.index(new) > (order.index(old) if old in order else -1):
        return new
    return old


# ----- content-security-policy: analyzer/cspParser.js and analyzer/tests/csp.js --------------------

DUPLICATE_WARNINGS_KEY = "_observatory_duplicate_key_warnings"
ALLOWED_DUPLICATE_KEYS = {"report-uri", "report-to"}
DIRECTIVES_DISALLOWED_IN_META = ("frame-ancestors", "report-uri", "sandbox")
DANGEROUSLY_BROAD = {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
UNSAFE_INLINE = {"'unsafe-inline'", "data:"}
PASSIVE_DIRECTIVES = ("img-src", "media-src")
NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")


class InvalidPolicy(ValueError):
    """A Content-Security-Policy the scanner cannot parse (it grades such a policy as a failure)."""


@dataclass
class _Source:
    source: str
    index: int
    keep: bool


def _path_part_match(a: str, b: str) -> bool:
    """cspParser.js pathPartMatch (without decodeURIComponent: sources here are already plain)."""
    if not a or (a == "/" and not b):
        return True
    exact = not a.endswith("/")
    parts_a, parts_b = a.split("/"), b.split("/")
    if len(parts_a) > len(parts_b) or (exact and len(parts_a) != len(parts_b)):
        return False
    if not exact:
        parts_a.pop()
    return all(x == y for x, y in zip(parts_a, parts_b))


def parse_csp(policies: list[str]) -> dict[str, set[str]]:
    """cspParser.js parseCsp: directives to sets of sources; several policies are intersected.

    Sources are sorted by code point where the scanner uses Intl.Collator("en"): that only decides which
    of two sources of one policy, one a prefix of the other, is dropped.
    """
    clean = [re.sub(r"[\r\n]", "", policy).strip() for policy in policies]
    if not clean:
        return {}
    for policy in clean:
        if len(policy) < len("img-src") - 1:
            raise InvalidPolicy(policy)
    csp: dict[str, list[_Source]] = {}
    duplicates: set[str] = set()
    for index, policy in enumerate(clean):
        seen: set[str] = set()
        for entry in policy.split(";"):
            words = entry.split()
            if not words:
                continue
            directive, values = words[0].lower(), words[1:]
            if directive in seen:
                if directive not in ALLOWED_DUPLICATE_KEYS:
                    raise InvalidPolicy(f"duplicate directive {directive}")
                duplicates.add(directive)
            seen.add(directive)
            sources = [_Source(value.lower(), index, index == 0) for value in values]
            if not values and directive.endswith("-src"):
                sources = [_Source("'none'", index, index == 0)]
            combined = sources if index == 0 else [*csp.get(directive, []), *sources]
            combined.sort(key=lambda s: s.source)
            for prev, source in zip(combined, combined[1:]):
                if source.index == prev.index and source.source.startswith(prev.source):
                    source.keep = False
                if source.index != prev.index and _path_part_match(prev.source, source.source):
                    source.keep = True
            csp[directive] = [source for source in combined if source.keep]
            if index == 0 and len(policies) > 1:
                for source in csp[directive]:
                    source.keep = False
    final = {directive: {s.source for s in sources} or {"'none'"} for directive, sources in csp.items()}
    if duplicates:
        final[DUPLICATE_WARNINGS_KEY] = duplicates
    return final


def _first(csp: dict[str, set[str]], *names: str) -> set[str]:
    for name in names:
        if name in csp:
            return csp[name]
    return {"*"}


def content_security_policy(site: Site) -> Result:
    """analyzer/tests/csp.js contentSecurityPolicyTest."""
    name, expectation = "content-security-policy", "csp-implemented-with-no-unsafe"
    result, _data = _csp(site)
    passes = {expectation, "csp-implemented-with-no-unsafe-default-src-none",
              "csp-implemented-with-unsafe-inline-in-style-src-only",
              "csp-implemented-with-insecure-scheme-in-passive-content-only", "csp-implemented-but-duplicate-directives"}
    return Result(name, result, result in passes)


def _csp(site: Site) -> tuple[str, dict[str, set[str]] | None]:
    """The CSP result, and the parsed policy the scanner keeps as `data` (None when it stopped early)."""
    response = site.auto
    http_policies = header_values(response, "content-security-policy")
    meta_policies = http_equiv(response).get("content-security-policy", [])
    try:
        csp = parse_csp([*http_policies, *meta_policies])
    except InvalidPolicy:
        return "csp-header-invalid", None
    try:
        header_only = parse_csp(http_policies)
    except InvalidPolicy:
        header_only = {}
    try:
        meta = parse_csp(meta_policies)
        for directive in DIRECTIVES_DISALLOWED_IN_META:
            meta.pop(directive, None)
    except InvalidPolicy:
        meta = {}
    if not header_only and not meta:
        if first_header(response, "content-security-policy-report-only"):
            return "csp-not-implemented-but-reporting-enabled", None
        return "csp-not-implemented", None

    result: str | None = None
    https = urlsplit(response.url).scheme == "https"
    object_src = _first(csp, "object-src", "default-src")
    script_src = _first(csp, "script-src", "default-src")
    style_src = _first(csp, "style-src", "default-src")
    # The scanner edits these sets in place (they may be the same set as default-src): so does this port.
    for sources in (script_src, style_src):
        if any(s.startswith(NONCES_HASHES) for s in sources):
            sources.discard("'unsafe-inline'")
    if any(s.startswith(NONCES_HASHES) for s in script_src) and "'strict-dynamic'" in script_src:
        for source in list(script_src):
            if any(source.startswith(b) for b in DANGEROUSLY_BROAD) or source in ("'self'", "'unsafe-inline'"):
                script_src.discard(source)
    elif "'strict-dynamic'" in script_src:
        result = result or "csp-header-invalid"

    active = [s for directive, sources in csp.items() if directive not in (*PASSIVE_DIRECTIVES, "script-src")
              for s in sources] + list(script_src)
    passive = [s for directive in PASSIVE_DIRECTIVES for s in csp.get(directive, csp.get("default-src", set()))]

    if script_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE) or object_src & DANGEROUSLY_BROAD:
        result = result or "csp-implemented-with-unsafe-inline"
    if https and any(s.startswith(("http:", "ftp:")) for s in active):
        result = result or "csp-implemented-with-insecure-scheme"
    if "'unsafe-eval'" in script_src | style_src:
        result = result or "csp-implemented-with-unsafe-eval"
    if https and any(s.startswith(("http:", "ftp:")) for s in passive):
        result = result or "csp-implemented-with-insecure-scheme-in-passive-content-only"
    if style_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE):
        result = result or "csp-implemented-with-unsafe-inline-in-style-src-only"
    if csp.get("default-src") == {"'none'"}:
        result = result or "csp-implemented-with-no-unsafe-default-src-none"
    else:
        result = result or "csp-implemented-with-no-unsafe"

    passing = {"csp-implemented-with-no-unsafe", "csp-implemented-with-no-unsafe-default-src-none",
               "csp-implemented-with-unsafe-inline-in-style-src-only",
               "csp-implemented-with-insecure-scheme-in-passive-content-only"}
    if result in passing and DUPLICATE_WARNINGS_KEY in csp:
        result = "csp-implemented-but-duplicate-directives"
    return result, {k: v for k, v in csp.items() if k != DUPLICATE_WARNINGS_KEY}


# ----- cookies: analyzer/tests/cookies.js ---------------------------------------------------------


@dataclass(frozen=True)
class Cookie:
    key: str
    secure: bool
    http_only: bool
    same_site: str | None  # "strict", "lax", "none", or None (absent or not one of those)
    host_only: bool
    path: str | None  # None: no usable Path attribute (the jar then uses the request's directory)


def parse_cookie(header: str) -> Cookie:
    """tough-cookie's Cookie.parse, for the attributes the scanner reads."""
    first, *attributes = header.split(";")
    key = first.split("=", 1)[0].strip() if "=" in first else ""
    secure = http_only = False
    same_site: str | None = None
    domain = path = None
    for attribute in attributes:
        name, _, value = attribute.strip().partition("=")
        name, value = name.strip().lower(), value.strip()
        if name == "secure":
            secure = True
        elif name == "httponly":
            http_only = True
        elif name == "samesite":
            same_site = value.lower() if value.lower() in ("strict", "lax", "none") else None
        elif name == "domain" and value:
            domain = value
        elif name == "path" and value.startswith("/"):
            path = value
    return Cookie(key, secure, http_only, same_site, domain is None, path)


def _kept_by_jar(cookie: Cookie) -> bool:
    """tough-cookie's CookieJar silently drops __Secure- and __Host- cookies that break their prefix's rules.

    A __Host- cookie without a Path is kept here, where the jar may drop it: never a better grade than the scanner's.
    """
    if cookie.key.startswith("__Secure-") and not cookie.secure:
        return False
    return not cookie.key.startswith("__Host-") or (cookie.secure and cookie.host_only and cookie.path in (None, "/"))


def _invalid_same_site(header: str) -> bool:
    """cookies.js containsInvalidSameSiteCookie, on a raw Set-Cookie header."""
    for part in header.strip().split(";"):
        key, *rest = part.strip().split("=")
        if key.strip().lower() == "samesite":
            value = rest[0] if rest else ""
            if not value or value.strip().lower() not in ("lax", "strict", "none"):
                return True
    return False


def cookies(site: Site) -> Result:
    """analyzer/tests/cookies.js cookiesTest.

    The scanner reads the cookies its jar kept from one visit (the last of each name); this port reads every
    Set-Cookie header the test's browser received, which can only find more.
    """
    name, expectation = "cookies", "cookies-secure-with-httponly-sessions"
    goodness = ["cookies-without-secure-flag-but-protected-by-hsts", "cookies-without-secure-flag",
                "cookies-session-without-secure-flag-but-protected-by-hsts", "cookies-samesite-flag-invalid",
                "cookies-anticsrf-without-samesite-flag", "cookies-session-without-httponly-flag",
                "cookies-session-without-secure-flag"]
    hsts = strict_transport_security(site).passed
    result: str | None = None
    for header in site.set_cookies:
        if _invalid_same_site(header):
            result = only_if_worse("cookies-samesite-flag-invalid", result, goodness)
    jar = [cookie for cookie in map(parse_cookie, site.set_cookies) if cookie.key and _kept_by_jar(cookie)]
    if not jar:
        result = "cookies-not-found"
    else:
        missing_same_site = False
        for cookie in jar:
            session = "login" in cookie.key.lower() or "sess" in cookie.key.lower()
            anticsrf = "csrf" in cookie.key.lower()
            if not cookie.secure and cookie.same_site == "none":
                result = only_if_worse("cookies-samesite-flag-invalid", result, goodness)
            if not cookie.secure:
                bad = "cookies-without-secure-flag-but-protected-by-hsts" if hsts else "cookies-without-secure-flag"
                result = only_if_worse(bad, result, goodness)
            if anticsrf and not cookie.same_site:
                result = only_if_worse("cookies-anticsrf-without-samesite-flag", result, goodness)
            if session and not cookie.secure:
                bad = ("cookies-session-without-secure-flag-but-protected-by-hsts" if hsts
                       else "cookies-session-without-secure-flag")
                result = only_if_worse(bad, result, goodness)
            if session and not cookie.http_only:
                result = only_if_worse("cookies-session-without-httponly-flag", result, goodness)
            missing_same_site = missing_same_site or not cookie.same_site
        if result is None:
            result = ("cookies-secure-with-httponly-sessions" if missing_same_site
                      else "cookies-secure-with-httponly-sessions-and-samesite")
    passed = result in ("cookies-not-found", "cookies-secure-with-httponly-sessions-and-samesite", expectation)
    return Result(name, result, passed)


# ----- the other tests --------------------------------------------------------------------------


def cross_origin_resource_sharing(site: Site) -> Result:
    """analyzer/tests/cors.js crossOriginResourceSharingTest (on the answer to the preflight)."""
    name, expectation = "cross-origin-resource-sharing", "cross-origin-resource-sharing-not-implemented"
    result = expectation
    allow_origin = first_header(site.cors, "access-control-allow-origin")
    credentials = first_header(site.cors, "access-control-allow-credentials")
    if site.cors is not None and allow_origin:
        if allow_origin[:256].strip().lower() == "*":
            result = "cross-origin-resource-sharing-implemented-with-public-access"
        elif allow_origin == site.cors_origin and credentials and credentials.lower().strip() == "true":
            result = "cross-origin-resource-sharing-implemented-with-universal-access"
        else:
            result = "cross-origin-resource-sharing-implemented-with-restricted-access"
    passed = result in (expectation, "cross-origin-resource-sharing-implemented-with-public-access",
                        "cross-origin-resource-sharing-implemented-with-restricted-access")
    return Result(name, result, passed)


def redirection(site: Site) -> Result:
    """analyzer/tests/redirection.js redirectionTest (http answers are always "verified" there)."""
    name, expectation = "redirection", "redirection-to-https"
    route = site.http_route
    if route is None:
        result = "redirection-not-needed-no-http"
    else:
        urls = [urlsplit(url) for url, _status in route]
        if all(url.hostname in site.preloaded for url in urls):
            result = "redirection-all-redirects-preloaded"
        elif len(urls) == 1:
            result = "redirection-missing"
        elif urls[-1].scheme != "https":
            result = "redirection-not-to-https"
        elif urls[1].scheme == "http":
            result = "redirection-not-to-https-on-initial-redirection"
        elif urls[0].scheme == "http" and urls[1].scheme == "https" and urls[0].hostname != urls[1].hostname:
            result = "redirection-off-host-from-http"
        else:
            result = "redirection-to-https"
    passed = result in ("redirection-not-needed-no-http", "redirection-all-redirects-preloaded", expectation)
    return Result(name, result, passed)


def referrer_policy(site: Site) -> Result:
    """analyzer/tests/referrer-policy.js referrerPolicyTest (header, then <meta name=referrer>)."""
    name = "referrer-policy"
    goodness = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"]
    badness = ["origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"]
    values = [*header_values(site.auto, "referrer-policy"), *http_equiv(site.auto).get("referrer-policy", [])]
    if not values:
        return Result(name, "referrer-policy-not-implemented", True)
    valid = [v.strip().lower() for v in ", ".join(values).split(",") if v.strip().lower() in goodness + badness]
    policy = valid[-1] if valid else ""
    if policy in goodness:
        result = "referrer-policy-private"
    elif policy in badness:
        result = "referrer-policy-unsafe"
    else:
        result = "referrer-policy-header-invalid"
    return Result(name, result, result in ("referrer-policy-private", "referrer-policy-not-implemented"))


SIX_MONTHS = 15552000


def _js_parse_int(text: str) -> float:
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else math.nan


def strict_transport_security(site: Site) -> Result:
    """analyzer/tests/strict-transport-security.js strictTransportSecurityTest (on the https answer)."""
    name, expectation = "strict-transport-security", "hsts-implemented-max-age-at-least-six-months"
    response = site.https
    result = "hsts-not-implemented"
    if response is None:
        result = "hsts-not-implemented-no-https"
    elif header := first_header(response, "strict-transport-security"):
        data = header[:1024]
        max_age: float | None = None
        for parameter in (p.strip().lower() for p in data.split(";")):
            if parameter.startswith("max-age="):
                max_age = _js_parse_int(parameter[8:128])
        if "," in data or max_age is None:  # set twice, or no max-age
            result = "hsts-header-invalid"
        elif max_age < SIX_MONTHS:  # NaN is not less: the scanner lets it pass too
            result = "hsts-implemented-max-age-less-than-six-months"
        else:
            result = expectation
    if response is not None and site.hostname in site.preloaded:
        result = "hsts-preloaded"
    return Result(name, result, result in (expectation, "hsts-preloaded"))


def _registrable_domain(host: str) -> str:
    """tldts' `domain`, approximated by the last two labels (the scanner uses the public suffix list)."""
    return ".".join(host.split(".")[-2:])


def subresource_integrity(site: Site) -> Result:
    """analyzer/tests/subresource-integrity.js subresourceIntegrityTest (<script> elements only)."""
    name, expectation = "subresource-integrity", "sri-implemented-and-external-scripts-loaded-securely"
    goodness = ["sri-implemented-and-all-scripts-loaded-securely", "sri-implemented-and-external-scripts-loaded-securely",
                "sri-implemented-but-external-scripts-not-loaded-securely",
                "sri-not-implemented-but-external-scripts-loaded-securely",
                "sri-not-implemented-and-external-scripts-not-loaded-securely", "sri-not-implemented-response-not-html"]
    response = site.auto
    result: str | None = None
    if not is_html(response):
        result = "sri-not-implemented-response-not-html"
    else:
        scripts = _tags(response.body).scripts
        foreign = False
        for script in scripts:
            src = script.get("src", "")
            if not src:
                continue
            integrity = script.get("integrity")
            relative_protocol = re.match(r"^//[^/]", src) is not None
            relative_origin = not relative_protocol and re.match(r"^https?://", src) is None
            same_domain = relative_protocol or relative_origin or (
                _registrable_domain(urlsplit(src).hostname or "") == _registrable_domain(site.hostname))
            secure_origin = relative_origin or (same_domain and not relative_protocol)
            foreign = foreign or not secure_origin
            scheme = None if relative_protocol or relative_origin else urlsplit(src).scheme
            secure_scheme = scheme == "https" or (relative_origin and urlsplit(response.url).scheme == "https")
            if not secure_origin:
                if integrity and not secure_scheme:
                    result = only_if_worse("sri-implemented-but-external-scripts-not-loaded-securely", result, goodness)
                elif not integrity and secure_scheme:
                    result = only_if_worse("sri-not-implemented-but-external-scripts-loaded-securely", result, goodness)
                elif not integrity:
                    result = only_if_worse("sri-not-implemented-and-external-scripts-not-loaded-securely", result,
                                           goodness)
            elif integrity and secure_scheme and result is None:
                result = "sri-implemented-and-all-scripts-loaded-securely"
        if not scripts:
            result = "sri-not-implemented-but-no-scripts-loaded"
        elif result is None:
            result = ("sri-implemented-and-external-scripts-loaded-securely" if foreign
                      else "sri-not-implemented-but-all-scripts-loaded-from-secure-origin")
    passed = result in ("sri-implemented-and-all-scripts-loaded-securely", expectation,
                        "sri-not-implemented-response-not-html",
                        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
                        "sri-not-implemented-but-no-scripts-loaded")
    return Result(name, result, passed)


def x_content_type_options(site: Site) -> Result:
    """analyzer/tests/x-content-type-options.js xContentTypeOptionsTest."""
    name, expectation = "x-content-type-options", "x-content-type-options-nosniff"
    header = first_header(site.auto, "x-content-type-options")
    if header is None:
        result = "x-content-type-options-not-implemented"
    elif header[:256].strip().lower() == "nosniff":
        result = expectation
    else:
        result = "x-content-type-options-header-invalid"
    return Result(name, result, result == expectation)


def x_frame_options(site: Site) -> Result:
    """analyzer/tests/x-frame-options.js xFrameOptionsTest: a CSP frame-ancestors (header or, as the scanner
    reads it, meta) takes the place of the header."""
    name, expectation = "x-frame-options", "x-frame-options-sameorigin-or-deny"
    header = first_header(site.auto, "x-frame-options")
    if header is None:
        result = "x-frame-options-not-implemented"
    elif header[:1024].strip().lower() in ("deny", "sameorigin"):
        result = expectation
    elif header[:1024].strip().lower().startswith("allow-from"):
        result = "x-frame-options-allow-from-origin"
    else:
        result = "x-frame-options-header-invalid"
    _result, csp = _csp(site)
    if csp and "frame-ancestors" in csp:
        result = "x-frame-options-implemented-via-csp"
    passed = result in (expectation, "x-frame-options-allow-from-origin", "x-frame-options-implemented-via-csp")
    return Result(name, result, passed)


def cross_origin_resource_policy(site: Site) -> Result:
    """analyzer/tests/cross-origin-resource-policy.js crossOriginResourcePolicyTest (the retriever finds no
    meta equivalent, so only the header counts)."""
    name = "cross-origin-resource-policy"
    header = first_header(site.auto, "cross-origin-resource-policy")
    result = "corp-not-implemented"
    if header:
        value = header[:256].strip().lower()
        result = {"same-site": "corp-implemented-with-same-site", "same-origin": "corp-implemented-with-same-origin",
                  "cross-origin": "corp-implemented-with-cross-origin"}.get(value, "corp-header-invalid")
    return Result(name, result, result != "corp-header-invalid")


# constants.js ALL_TESTS, in the scanner's order.
ALL_TESTS = (content_security_policy, cookies, cross_origin_resource_sharing, redirection, referrer_policy,
             strict_transport_security, subresource_integrity, x_content_type_options, x_frame_options,
             cross_origin_resource_policy)


@dataclass(frozen=True)
class Grade:
    score: int
    grade: str
    results: tuple[Result, ...] = field(default_factory=tuple)
    scannable: bool = True  # False: the scanner itself stops at this status code (it grades 2xx, 3xx, 401, 403)

    def report(self) -> str:
        """One line per test: what a failing assertion prints."""
        lines = [f"{r.test:32} {r.result:62} {r.modifier:+d}{'' if r.passed else '  FAILED'}" for r in self.results]
        return "\n".join([*lines, f"score {self.score}, grade {self.grade}"])


def grade_for_score(score: int) -> str:
    """grader/grader.js getGradeForScore."""
    score = max(score, 0)
    return GRADE_CHART[min(score - score % 5, 100)]


def grade(site: Site) -> Grade:
    """scanner/index.js scan: 100, plus every modifier; the bonuses count only when the score with the
    penalties alone is at least 90 (an A)."""
    results = tuple(test(site) for test in ALL_TESTS)
    with_extra_credit = 100 + sum(r.modifier for r in results)
    uncurved = 100 + sum(r.modifier for r in results if r.modifier < 0)
    score = max(with_extra_credit if uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT else uncurved, 0)
    status = site.auto.status
    scannable = 200 <= status < 400 or status in (401, 403)
    return Grade(score, grade_for_score(score), results, scannable)
