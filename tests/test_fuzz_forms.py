"""Hypothesis on the form parsing of every form a person fills in: no answer is a server error.

The OpenAPI schema describes paths, not form bodies (tests/test_fuzz_schema.py fuzzes those); here each POST form
is sent through HTTP, as a browser or a hand-made request would send it, with Hypothesis drawing the values:
unicode of every kind (right-to-left, emoji, combining marks, control characters, NUL), huge lengths, HTML and
SQL-looking text, numbers where words go and words where numbers go, dates far in the past and future, times
and time zones that do not exist, fields left out, sent twice or sent as a file, unknown fields, urlencoded,
multipart (with broken UTF-8 and unknown charsets too) or raw bytes with broken percent-escapes, the CSRF
token in the header (htmx) or in the form (a plain form).

Every answer must be below 500: a 4xx, or a 200/303 (saved, or the page again). Where the app promises to
keep what was typed (QUALITY.md: "the typed values kept"), a refused form (400, or 429 for a throttled one)
must show each text field sent once as the app keeps it: control characters dropped, spaces trimmed,
usernames in NFC, an exit address given its https:// (the rules of `portal.forms.form_value` and the forms).
Fields whose refusal shows a choice instead (lists, radio buttons, time zones) are only sent, never checked.

Runs are bounded and derandomized (the same cases every run, no example database), so CI asks the same
questions each time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import markupsafe
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from portal.models import GoalArea, Reminder, Role, SafeAnswer
from portal.parts import PARTS
from portal.timezones import zone_names
from tests.conftest import PASSWORD, csrf_token, make_connection, make_user, sign_in, sql

FUZZ = hypothesis_settings(
    max_examples=50, derandomize=True, deadline=None, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FEWER = hypothesis_settings(FUZZ, max_examples=25)

# ----- values ---------------------------------------------------------------------------------


class Huge(str):
    """A long text that says how long it is instead of printing itself in a failure report."""

    def __repr__(self) -> str:
        return f"<{len(self):,} × {self[:1]!r}>"


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what form_value drops (not tab or line breaks)

NASTY = [
    "", " ", "\t", "\r\n", "\x00", "a\x00b", "\x1b[2J", "\x7f", "\u202egnp.exe\u202c", "שלום עולם", "مرحبا بالعالم",
    "👩🏽‍🦱🏳️‍🌈", "e\u0301\u0302\u0303", "Z̴̡͓̈́a̷l̸g̶o̵", "\ufeffBOM", "zero\u200bwidth", "\u2028line\u2029", "ǅ ß İ ﬃ",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}{% raw %}", "' OR '1'='1' --",
    "%00", "%s%n%x", "&amp;&#0;", "\\", "../../etc/passwd", "null", "[]", "{}", "true", "-1", "0", "1e308", "NaN",
    "²", "١٢", "１２", Huge("9" * 5000),
]
UNITS = ["a", "é", "👩🏽‍🦱", "\u0301", "ש", " ", "\x00", "<"]
HUGE = st.builds(lambda unit, count: Huge(unit * count), st.sampled_from(UNITS),
                 st.sampled_from([199, 200, 201, 1000, 2001, 8001, 60_000, 300_000]))
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.text(st.characters(codec="utf-8"), max_size=300), HUGE)

TODAY = date.today()
ISO_DATES = st.dates().map(date.isoformat)
NEAR_DATES = st.dates(TODAY - timedelta(days=6 * 366), TODAY + timedelta(days=51 * 366)).map(date.isoformat)  # the edges
DATES = st.one_of(
    NEAR_DATES, ISO_DATES, st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(["0000-00-00", "0001-01-01", "9999-12-31", "2027-02-30", "2027-13-01", "+10000-01-01", "20270331",
                     "2027-W13-3", "2027-090", "２０２７-０３-３１", " 2027-03-31 ", "31/03/2027", "2027-03-31T25:00"]),
    TEXT,
)
CLOCKS = st.times().map(lambda clock: clock.strftime("%H:%M"))  # what a time field sends
TIMES = st.one_of(
    st.times().map(lambda clock: clock.isoformat()), st.times().map(lambda clock: clock.strftime("%H:%M")),
    st.times(timezones=st.timezones()).map(lambda clock: clock.isoformat()),
    st.sampled_from(["02:30", "01:30", "24:00", "23:60", "14:30:60", "1430", "2:30 PM", "14:30Z", "14:30+14:00",
                     "T14:30", "14", "١٤:٣٠", "１４:３０", "-01:00"]),
    TEXT,
)
ZONES = st.one_of(
    st.sampled_from(zone_names()),
    st.sampled_from(["", "UTC", "utc", "Mars/Olympus", "Etc/GMT+5", "EST5EDT", "posixrules", "Factory", "localtime",
                     "../../../etc/passwd", "/etc/localtime", "America//New_York", "America/New York", "right/UTC",
                     "posix/Europe/Paris"]),
    TEXT,
)
# Zones where wall clocks skip or repeat an hour, or sit at odd offsets from UTC.
TRICKY_ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kathmandu",
                "Pacific/Kiritimati", "America/St_Johns", "Africa/Casablanca"]
NAMES = st.builds(lambda first, rest: first + rest, st.characters(categories=["L", "N"]),
                  st.text(st.characters(categories=["L", "N", "M"], include_characters="._-"), min_size=2, max_size=31))
PASSWORDS = st.one_of(st.just(PASSWORD), st.builds(lambda word: f"plum-{word}-lantern", st.text(max_size=20)))
READABLE = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1, max_size=60)


@dataclass(frozen=True)
class Field:
    """What a person would put in a field (`good`), and anything at all (`wild`)."""

    good: st.SearchStrategy[Any]
    wild: st.SearchStrategy[Any] = TEXT


def choice(options: list[str]) -> Field:
    """A value from the form's own list, or anything at all."""
    return Field(st.sampled_from(options), st.one_of(st.sampled_from(options), TEXT))


def several(options: list[str]) -> Field:
    """A checkbox group: some of its values; or repeated ones and strangers among them."""
    return Field(st.lists(st.sampled_from(options), unique=True, max_size=len(options)),
                 st.lists(st.one_of(st.sampled_from(options), TEXT), max_size=8))


WORDS = Field(READABLE)


# ----- bodies ---------------------------------------------------------------------------------


@dataclass
class Body:
    """A form as sent: its parts in order, how they are encoded and where the CSRF token goes."""

    parts: list[tuple[str, str | bytes, str | None]]  # name, value, file name (a file part when not None)
    encoding: str  # "urlencoded", "multipart" or "bytes" (urlencoded by hand, with broken escapes)
    token_in_form: bool
    charset: str | None = None  # declared on every multipart text part
    broken: bytes = b""  # appended to every value's bytes
    htmx: bool = False
    faithful: bool = field(init=False)

    def __post_init__(self) -> None:
        # Whether every value reaches the app as the text that was typed.
        self.faithful = not self.broken and (
            self.encoding == "urlencoded" or (self.encoding == "multipart" and self.charset in (None, "utf-8"))
        )

    def typed(self, name: str) -> str | None:
        """The text typed into `name` when it was sent once, as text, and arrives as typed; else None."""
        sent = [value for part, value, _filename in self.parts if part == name]
        return sent[0] if self.faithful and len(sent) == 1 and isinstance(sent[0], str) else None


EXTRA_NAMES = ["extra", "_method", "name[]", "ünïcode", "", "x" * 300]
FILE_NAMES = ["a.txt", "x.pdf", "..\\evil", "ü.png"]
CHARSETS = [None] * 5 + ["utf-8", "latin-1", "ascii", "utf-16", "x-unknown"]
BREAKAGES = [b""] * 4 + [b"\xff\xfe", b"\xc3(", b"%ff%fe", b"%", b"%zz", b"%00", b"+&=&&"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@st.composite
def bodies(draw: Any, fields: dict[str, Field]) -> Body:
    """A third of the forms are filled in as a person would (so saving is fuzzed too); the rest anyhow."""
    if draw(st.integers(0, 2)) == 0:
        parts = [(name, value, None) for name, spec in fields.items() for value in _listed(draw(spec.good))]
        return Body(parts, draw(st.sampled_from(["urlencoded", "multipart"])), token_in_form=draw(st.booleans()),
                    htmx=draw(st.booleans()))
    parts: list[tuple[str, str | bytes, str | None]] = []
    for name, spec in fields.items():
        shape = draw(st.sampled_from(["one"] * 6 + ["missing", "twice", "file"]))
        if shape == "missing":
            continue
        if shape == "file":
            parts.append((name, draw(st.binary(max_size=64)), draw(st.sampled_from(FILE_NAMES))))
            continue
        for _time in range(2 if shape == "twice" else 1):
            value = draw(st.one_of(spec.good, spec.wild))
            parts.extend((name, one, None) for one in _listed(value))
    if draw(st.integers(0, 4)) == 0:
        parts.append((draw(st.sampled_from(EXTRA_NAMES)), draw(TEXT), None))
    encoding = draw(st.sampled_from(["urlencoded"] * 3 + ["multipart"] * 2 + ["bytes"]))
    charset = draw(st.sampled_from(CHARSETS)) if encoding == "multipart" else None
    broken = draw(st.sampled_from(BREAKAGES)) if encoding != "urlencoded" else b""
    return Body(parts, encoding, token_in_form=draw(st.integers(0, 3)) == 0, charset=charset, broken=broken,
                htmx=draw(st.booleans()))


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def send(client: TestClient, path: str, body: Body, token: str) -> Any:
    headers = {"hx-request": "true", "hx-request-type": "partial"} if body.htmx else {}
    parts = list(body.parts)
    if body.token_in_form:
        parts.insert(0, ("_csrf_token", token, None))
    else:
        headers["x-csrftoken"] = token
    if body.encoding == "urlencoded":
        content = urlencode([(name, _bytes(value)) for name, value, _filename in parts]).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif body.encoding == "bytes":
        content = b"&".join(quote(name).encode() + b"=" + quote(_bytes(value)).encode() + body.broken
                            for name, value, _filename in parts)
        headers["content-type"] = "application/x-www-form-urlencoded"
    else:
        boundary = "fuzz-boundary-7c1e"
        chunks = []
        for name, value, filename in parts:
            disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            if filename is not None:
                head += "Content-Type: application/octet-stream\r\n"
            elif body.charset:
                head += f"Content-Type: text/plain; charset={body.charset}\r\n"
            chunks.append(head.encode() + b"\r\n" + _bytes(value) + (body.broken if filename is None else b"") + b"\r\n")
        content = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        headers["content-type"] = f"multipart/form-data; boundary={boundary}"
    return client.post(path, content=content, headers=headers, follow_redirects=False)


# How the app keeps what was typed: the characters it reads (form_value's slice), then its own cleaning.
def kept(limit: int, strip: bool = True) -> Callable[[str], str | None]:
    def shown(typed: str) -> str | None:
        if len(typed) > limit:  # cut at the slice: said once, by the field's own test, not fuzzed
            return None
        value = CONTROL.sub("", typed)
        return value.strip() if strip else value

    return shown


def kept_username(typed: str) -> str | None:
    value = kept(200)(typed)
    return None if value is None else unicodedata.normalize("NFC", value)


def check(response: Any, body: Body, keeps: dict[str, Callable[[str], str | None]] | None = None) -> None:
    """Below 500; and a refused form shows each text that was sent once as the app keeps it."""
    status = response.status_code
    assert status < 500, f"{status} for {body!r}"
    assert status in (200, 303) or 400 <= status < 500, f"{status} for {body!r}"
    if status not in (400, 429) or not keeps:
        return
    for name, shown in keeps.items():
        typed = body.typed(name)
        expected = shown(typed) if typed is not None else None
        if expected:
            shown_as = str(markupsafe.escape(expected))
            assert shown_as in response.text, f"{name}={expected!r} not kept ({status}) for {body!r}"


def plain(**fields: str) -> Body:
    """A form filled in as a person would, to set the scene."""
    return Body([(name, value, None) for name, value in fields.items()], "urlencoded", token_in_form=False)


def signed_in_survivor(client: TestClient, settings: Any, name: str = "river") -> str:
    """A survivor signed in on `client`; the CSRF token their pages carry."""
    make_user(settings, name)
    sign_in(client, name)
    return csrf_token(client, "/home")


def created(response: Any, prefix: str) -> str:
    """The id in the Location of a 303 to `prefix`/<id>."""
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).removeprefix(prefix).split("?")[0].split("/")[0]


# ----- signing up, signing in, recovery ---------------------------------------------------------


def test_sign_up_form(client):
    token = csrf_token(client, "/sign-up")

    @FUZZ
    @given(body=bodies({"username": Field(NAMES), "password": Field(PASSWORDS),
                        "time_zone": Field(st.sampled_from(zone_names()), ZONES)}))
    def sign_up(body: Body) -> None:
        check(send(client, "/sign-up", body, token), body, {"username": kept_username})

    sign_up()


def test_sign_in_form(client, settings):
    make_user(settings, "river")
    token = csrf_token(client, "/sign-in")

    @FUZZ
    @given(body=bodies({"username": Field(st.sampled_from(["river", "RIVER", " river ", "rivers"])),
                        "password": Field(PASSWORDS)}))
    def sign_in_(body: Body) -> None:
        check(send(client, "/sign-in", body, token), body, {"username": kept_username})

    sign_in_()


def test_recovery_form(client, settings):
    make_user(settings, "river")
    token = csrf_token(client, "/forgot-password")
    codes = Field(st.text("ABCDEFGHJKMNPQRSTVWXYZ23456789 -", min_size=10, max_size=14))

    @FUZZ
    @given(body=bodies({"username": Field(st.sampled_from(["river", "nobody"])), "code": codes,
                        "password": Field(PASSWORDS)}))
    def recover(body: Body) -> None:
        check(send(client, "/forgot-password", body, token), body,
              {"username": kept_username, "code": kept(40, strip=False)})

    recover()


# ----- goals and steps --------------------------------------------------------------------------

def days_between(earliest: date, latest: date) -> st.SearchStrategy[str]:
    return st.dates(earliest, latest).map(date.isoformat)


GOAL_DATES = days_between(TODAY - timedelta(days=365), TODAY + timedelta(days=50 * 365))  # what the form takes
GOAL_FIELDS = {"title": WORDS, "why": WORDS, "area": choice([area.value for area in GoalArea]),
               "target_date": Field(st.one_of(st.just(""), GOAL_DATES), DATES)}
GOAL_KEEPS = {"title": kept(800), "why": kept(8000), "target_date": kept(20, strip=False)}


def test_goal_form(client, settings):
    token = signed_in_survivor(client, settings)
    goal = created(send(client, "/goals", plain(title="Find a flat", area="housing"), token), "/goals/")

    @FUZZ
    @given(path=st.sampled_from(["/goals", f"/goals/{goal}/edit"]), body=bodies(GOAL_FIELDS))
    def goal_form(path: str, body: Body) -> None:
        check(send(client, path, body, token), body, GOAL_KEEPS)

    goal_form()


def test_step_forms(client, settings):
    token = signed_in_survivor(client, settings)
    goal = created(send(client, "/goals", plain(title="Find a flat", area="housing"), token), "/goals/")
    send(client, f"/goals/{goal}/steps", plain(step="Call the council"), token)
    step = sql(settings, "SELECT id FROM goal_step")[0][0]

    @FUZZ
    @given(path=st.sampled_from([f"/goals/{goal}/steps", f"/goals/{goal}/steps/{step}/edit"]),
           body=bodies({"step": WORDS}))
    def step_form(path: str, body: Body) -> None:
        check(send(client, path, body, token), body, {"step": kept(800)})

    @FEWER
    @given(body=bodies({"direction": choice(["up", "down"])}))
    def move(body: Body) -> None:
        check(send(client, f"/goals/{goal}/steps/{step}/move", body, token), body)

    step_form()
    move()


# ----- appointments and check-ins -------------------------------------------------------------

APPOINTMENT_DATES = days_between(TODAY - timedelta(days=5 * 365), TODAY + timedelta(days=10 * 365))
APPOINTMENT_FIELDS = {"what": WORDS, "date": Field(APPOINTMENT_DATES, DATES), "time": Field(CLOCKS, TIMES), "place": WORDS,
                      "with_whom": WORDS, "notes": WORDS, "reminder": choice([reminder.value for reminder in Reminder])}
APPOINTMENT_KEEPS = {"what": kept(800), "place": kept(800), "with_whom": kept(800), "notes": kept(8000),
                     "date": kept(20), "time": kept(20)}


def test_appointment_form(client, settings):
    token = signed_in_survivor(client, settings)
    soon = (TODAY + timedelta(days=30)).isoformat()
    item = created(send(client, "/appointments", plain(what="Lawyer", date=soon, time="14:30"), token), "/appointments/")
    zone_now = ["UTC"]

    @FUZZ
    @given(zone=st.sampled_from(TRICKY_ZONES), path=st.sampled_from(["/appointments", f"/appointments/{item}/edit"]),
           body=bodies(APPOINTMENT_FIELDS))
    def appointment_form(zone: str, path: str, body: Body) -> None:
        if zone != zone_now[0]:  # typed in the survivor's own zone, as Settings saves it
            assert send(client, "/settings/time-zone", plain(time_zone=zone), token).status_code == 200
            zone_now[0] = zone
        check(send(client, path, body, token), body, APPOINTMENT_KEEPS)

    appointment_form()


def test_checkin_form(client, settings):
    token = signed_in_survivor(client, settings)
    item = created(send(client, "/check-ins", plain(feeling="3"), token), "/check-ins/")
    needs = ["housing", "food", "health", "legal", "work", "talk"]

    @FUZZ
    @given(path=st.sampled_from(["/check-ins", f"/check-ins/{item}/edit"]), body=bodies({
        "feeling": choice(["1", "2", "3", "4", "5"]), "safe": choice(["", *[answer.value for answer in SafeAnswer]]),
        "needs": several(needs), "note": WORDS,
    }))
    def checkin_form(path: str, body: Body) -> None:
        check(send(client, path, body, token), body, {"note": kept(8000)})

    checkin_form()


# ----- sharing and messages ---------------------------------------------------------------------


def test_sharing_forms(client, settings):
    token = signed_in_survivor(client, settings)
    make_user(settings, "casey", Role.CASEWORKER)
    connection = make_connection(settings, "river", "casey", ("goals",))
    goal = created(send(client, "/goals", plain(title="Find a flat", area="housing"), token), "/goals/")
    codes = Field(st.text("ABCDEFGHJKMNPQRSTVWXYZ23456789 -", min_size=8, max_size=12))
    untils = choice(["week", "month", "3months", "stop"])
    parts = [part.key for part in PARTS]

    @FUZZ
    @given(body=bodies({"code": codes}))
    def connect(body: Body) -> None:
        check(send(client, "/sharing/connect", body, token), body, {"code": kept(40)})

    @FEWER
    @given(body=bodies({"code": codes, "label": WORDS}))
    def confirm(body: Body) -> None:
        check(send(client, "/sharing/connect/confirm", body, token), body, {"code": kept(40, strip=False)})

    @FUZZ
    @given(body=bodies({"parts": several(parts), "notes": several(parts), "until-goals": untils, "until-documents": untils,
                        "until-checkins": choice(["keep", "week", "stop"])}))
    def save(body: Body) -> None:
        check(send(client, f"/sharing/{connection}/save", body, token), body)

    @FEWER
    @given(body=bodies({"part": choice(parts), "item_id": choice([goal]), "connection": choice([connection]),
                        "until": untils, "notes": choice(["1", "0", ""])}))
    def share_item(body: Body) -> None:
        check(send(client, "/sharing/item", body, token), body)

    connect()
    confirm()
    save()
    share_item()


def test_message_forms(client, other_client, settings):
    token = signed_in_survivor(client, settings)
    make_user(settings, "sam", Role.MENTOR)
    connection = make_connection(settings, "river", "sam")
    sign_in(other_client, "sam")
    mentor_token = csrf_token(other_client, "/staff")
    quick = ["ok", "bad_day", "talk"]

    def keeps(body: Body, survivor: bool) -> dict[str, Callable[[str], str | None]]:
        # A survivor's quick answer is sent instead of the box; when it cannot be told, nothing is checked.
        typed_quick = body.typed("quick")
        quick_answered = survivor and typed_quick is not None and CONTROL.sub("", typed_quick[:20]) in quick
        return {} if quick_answered or (survivor and not body.faithful) else {"body": kept(4000)}

    @FUZZ
    @given(body=bodies({"body": WORDS, "quick": choice(["", *quick])}))
    def survivor_reply(body: Body) -> None:
        check(send(client, f"/messages/{connection}", body, token), body, keeps(body, survivor=True))

    @FUZZ
    @given(body=bodies({"body": WORDS, "quick": choice(["", *quick])}))
    def mentor_message(body: Body) -> None:
        check(send(other_client, f"/messages/{connection}", body, mentor_token), body, keeps(body, survivor=False))

    survivor_reply()
    mentor_message()


# ----- settings ---------------------------------------------------------------------------------


def kept_exit_address(typed: str) -> str | None:
    value = kept(1000)(typed)
    if value and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value):
        value = "https://" + value  # "news.example.org" means the web site
    return value


ADDRESSES = Field(st.sampled_from(["", "https://news.example.org", "news.example.org", "https://例え.jp/パス"]),
                  st.one_of(st.sampled_from(["javascript:alert(1)", "data:,x", "http://127.0.0.1:1/", "https://",
                                             "//evil.example", "https://ex ample.org", "https://user:pw@example.org",
                                             "ftp://example.org"]), TEXT))


def test_settings_forms(client, settings):
    token = signed_in_survivor(client, settings)
    clocks = Field(st.one_of(st.just(""), CLOCKS), TIMES)

    @FEWER
    @given(body=bodies({"exit_url": ADDRESSES}))
    def exit_destination(body: Body) -> None:
        check(send(client, "/settings/exit", body, token), body, {"exit_url": kept_exit_address})

    @FEWER
    @given(body=bodies({"time_zone": Field(st.sampled_from(zone_names()), ZONES)}))
    def time_zone(body: Body) -> None:
        check(send(client, "/settings/time-zone", body, token), body)

    @FEWER
    @given(body=bodies({"idle_minutes": choice(["5", "10", "15", "30", "45", "60"]),
                        "app_name": choice(["waypoint", "notes"]), "cover": choice(["on", ""])}))
    def safety(body: Body) -> None:
        check(send(client, "/settings/safety", body, token), body)

    @FUZZ
    @given(body=bodies({
        "kinds": several(["appointments", "checkins", "documents", "messages"]), "text": WORDS,
        "days": several([str(day) for day in range(7)]), "checkin_time": clocks, "quiet_from": clocks, "quiet_to": clocks,
    }))
    def reminders(body: Body) -> None:
        check(send(client, "/settings/reminders", body, token), body,
              {"text": kept(60), "quiet_from": kept(10), "quiet_to": kept(10)})

    exit_destination()
    time_zone()
    safety()
    reminders()


# ----- what lists read from the address -----------------------------------------------------------

NUMBERS = st.one_of(
    st.integers().map(str), st.sampled_from(["", "0", "-1", "1.5", "²", "¹²", "١٢", "１２", Huge("9" * 5000), "1e3"]),
    TEXT.filter(lambda value: len(value) < 5000),  # an address has room for a few kB
)


def test_list_page_numbers(client, settings):
    signed_in_survivor(client, settings)
    make_user(settings, "sam", Role.MENTOR)
    connection = make_connection(settings, "river", "sam")
    lists = ["/goals", "/goals/achieved", "/appointments", "/appointments/past", "/check-ins", "/documents",
             "/sharing/log", "/messages/" + connection]

    @FUZZ
    @given(path=st.sampled_from(lists), name=st.sampled_from(["page", "before", "after"]), value=NUMBERS)
    def list_page(path: str, name: str, value: str) -> None:
        response = client.get(path, params={name: value}, follow_redirects=False)
        assert response.status_code < 500, (path, name, value)

    @FEWER
    @given(value=NUMBERS)
    def new_messages(value: str) -> None:
        response = client.get(f"/messages/{connection}/new", params={"after": value},
                              headers={"hx-request": "true", "hx-request-type": "partial"})
        assert response.status_code < 500, value

    list_page()
    new_messages()
