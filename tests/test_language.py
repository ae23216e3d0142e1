"""Every visible string goes through gettext, so a language can be added without touching templates."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.support import Translations
from markupsafe import Markup

from app import STATIC_DIR, StaticAssets, template_environment
from portal import i18n
from portal.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent


def _messages() -> set[str]:
    method_map = [("portal/**.py", "python"), ("portal/templates/**.html", "jinja2"), ("components/**.html", "jinja2")]
    options = {"portal/templates/**.html": {"extensions": "jinja2.ext.i18n"}, "components/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_the_contract_names_are_extracted_for_translation():
    messages = _messages()
    for name in ("Exit now", "Emergency", "Create an account", "Sign in", "Username", "Password", "Create account",
                 "Sign out", "Home", "Settings", "Staff accounts", "Add staff", "Shift, press 2 more times to exit."):
        assert name in messages, name


class _Pseudo(Translations):
    """A stand-in language that marks every translated string."""

    def gettext(self, message: str) -> str:  # type: ignore[override]
        return f"⟦{message}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:  # type: ignore[override]
        return f"⟦{singular if n == 1 else plural}⟧"

    ugettext = gettext
    ungettext = ngettext


def _impact_context() -> dict[str, object]:
    """Fake values for the Impact page (every branch of a figure: shown and hidden) and the counting question."""
    from types import SimpleNamespace

    shown = SimpleNamespace(text=lambda: "12", people_text=lambda: "6", hidden="", value=12)
    hidden = SimpleNamespace(text=lambda: "⟦fewer than 5⟧", people_text=lambda: "⟦fewer than 5⟧", hidden="few",
                             value=None)
    chart = SimpleNamespace(width=320, height=194, baseline=164, labels=[(20.0, "2026-Q1")],
                            bars=[SimpleNamespace(x=18, y=40, width=18, height=124, kind="set", text="12", hidden=False),
                                  SimpleNamespace(x=40, y=164, width=18, height=0, kind="achieved", text="⟦fewer than 5⟧",
                                                  hidden=True)])
    return {
        "ask_counting": True, "counting": {"on": True, "done": True},
        "choices": {"2026-Q1": "2026-Q1"}, "chosen_from": "2026-Q1", "chosen_to": "2026-Q1", "period_error": "⟦e⟧",
        "found": SimpleNamespace(quarters=["2026-Q1"], people=shown, shown=True,
                                 goals={"set": [({"work": shown}, hidden)], "achieved": [({"work": hidden}, shown)]},
                                 checkins=[(shown, hidden)], life_areas={"work": (shown, hidden)}),
        "charts": {"goals": chart, "feeling": chart, "life_areas": chart}, "csv_href": "/admin/impact.csv",
        "goal_areas": {"work": "⟦Work⟧"}, "life_areas": {"work": "⟦Work and learning⟧"},
    }


def test_templates_show_no_english_outside_gettext():
    env = template_environment(StaticAssets(STATIC_DIR), "secret")
    pseudo = _Pseudo()
    env.globals.update(i18n.template_callables(pseudo.gettext, pseudo.ngettext))
    env.globals.update(day=lambda value: "1234", clock=lambda value: "1234", moment=lambda value: "1234",
                       zone_in_words=lambda zone: "⟦Japan Time⟧")

    class Url:
        path = "/"

    class Request:
        url = Url()

    viewer = type("V", (), {"role": "survivor", "exit_url": "", "username": "river", "display_name": "", "session_id": "s", "time_zone": "UTC", "unread": 3, "waiting": 0, "user_id": 1,
                                 "app_name": "notes", "cover_when_hidden": True})()
    context = {
        "request": Request(), "csrf_input": "", "csrf_token": lambda: "t", "title": "", "viewer": viewer,
        "brand": type("B", (), {"key": "notes", "title": "1234"})(),
        "values": {}, "errors": {}, "error": "", "saved": True, "default_exit_url": "https://x.example",
        "after_sign_up": True, "practice": True, "practised": True, "counts": {}, "staff": [],
        "connections": __import__("types").SimpleNamespace(text=lambda: "1234"),
        "people_connected": __import__("types").SimpleNamespace(text=lambda: "5678"), "organisation": "⟦Org⟧", "hosts": True,
        "organisation_values": {}, "named": True, "new_link": None,
        "notice": "", "heading": "⟦h⟧", "body": "⟦b⟧", "username": "river",
        "goals": [], "page_number": 1, "has_next": False, "achieved_count": 2, "areas": {"work": "⟦Work⟧"},
        "goal": type("G", (), {"id": "g1", "title": "1234", "why": "5678", "area": "work", "status": "active", "private": False,
                               "target_date": None, "steps_done": 1, "steps_total": 2})(),
        "steps": [], "focus": "", "editing": "", "edit_error": "", "edit_value": "", "step_error": "⟦e⟧", "step_value": "", "celebrate": True,
        "items": [], "past": False, "reminders": {"none": "⟦none⟧"}, "zone": "UTC", "zones": {"UTC": "UTC"},
        "zone_saved": True, "countries": {"JP": "⟦Japan⟧"}, "zone_country": "JP", "cities": {"Asia/Tokyo": "⟦Tokyo⟧"}, "country_name": "⟦Japan⟧", "next_appointment": None, "zone_error": "", "local": lambda moment, zone: moment,
        "item": type("A", (), {"id": "a1", "what": "1234", "place": "5678", "with_whom": "9012", "notes": "3456",
                               "reminder": "none", "starts_at": __import__("datetime").datetime(2027, 1, 2, 3, 4),
                               "name": "1234", "title": "1234", "area": "work", "status": "active", "why": "5678", "target_date": None, "steps_done": 1, "steps_total": 2, "kind": "id", "expires_on": __import__("datetime").date(2027, 1, 2),
                               "size": 1, "private": False, "feeling": 2, "safe": "no", "note": "3456",
                               "created_at": __import__("datetime").datetime(2027, 1, 2, 3, 4),
                               "happened_on": __import__("datetime").date(2027, 1, 2),
                               "changed_at": __import__("datetime").datetime(2027, 1, 3, 4, 5),
                               "places": "1234", "signs": "5678", "take_other": "9012", "code_word": "3456",
                               "code_with": "7890", "plan": "2345",
                               "updated_at": __import__("datetime").datetime(2027, 1, 3, 4, 5)})(),
        "span": (__import__("datetime").date(2020, 1, 1), __import__("datetime").date(2030, 12, 31)),
        "kinds": {"id": "⟦ID⟧"}, "limit_mb": 20, "state": "soon", "expiry": lambda item, today: "expired",
        "today": __import__("datetime").date(2027, 1, 1), "size_label": lambda size: "⟦1 KB⟧",
        "feelings": {2: "⟦Low⟧", "2": "⟦2 Low⟧"}, "safe_answers": {"no": "⟦No⟧"},
        "feeling_line": lambda feeling, safe="": "⟦Feeling: 2 · Low⟧", "needs": {"food": "⟦Food⟧"},
        "chosen_needs": ["food"], "width": 300, "height": 120,
        "trend": type("T", (), {"points": [(1, 2, 3), (4, 5, 3)], "line": "1,2 4,5", "summary": "⟦s⟧", "high": "⟦5 Very good⟧", "low": "⟦1 Very low⟧"})(),
        "lines": [type("L", (), {"id": 1, "label": "⟦l⟧", "call": "123", "text": "456", "call_href": "tel:123",
                                 "text_href": "sms:456", "area": "work", "points": [(8.0, 24.0, 4), (232.0, 56.0, 2)],
                                 "line": "8.0,24.0 232.0,56.0", "summary": "⟦Work, the last 2 ratings⟧"})()],
        "defaults": [type("L", (), {"label": "⟦l⟧", "call": "123", "text": "456"})()], "max_lines": 10, "message": "⟦m⟧", "action": "/x/1/delete", "back_href": "/x/1", "card_id": "card-1",
        "card_href": "/x/1/card", "links": [], "asked": True, "askable": {"goals": "⟦Goals⟧"}, "requests": [],
        "item_cards": [__import__("types").SimpleNamespace(id="k1", person="1234", ends_at=None, include_notes=False)],
        "share_links": {"c1": "⟦Ana⟧"}, "share_part": "goals", "share_notice": "⟦n⟧", "seen": ["1234"],
        "seen_parts": {"goals": [], "appointments": [], "checkins": [], "documents": []},
        "link": __import__("types").SimpleNamespace(
            connection=__import__("types").SimpleNamespace(id="c1", survivor_label="1234"), person="⟦Ana⟧",
            cards=[__import__("types").SimpleNamespace(id="g1", part="goals", item_id=None, ends_at=None, include_notes=True)],
            parts=["goals"], item_parts=["goals"],
            part_cards={"goals": __import__("types").SimpleNamespace(ends_at=None, include_notes=True)}),
        "noted": ["goals"], "share_notes": True,
        "parts": {"goals": "⟦Goals⟧"}, "phrases": {"goals": "⟦your goals⟧"}, "untils": {"stop": "⟦Until I stop⟧"},
        "code": "2345-6789", "wait": 0, "country": "FR", "countries": {"FR": "⟦France⟧"}, "built_in": False,
        "country_error": "⟦e⟧", "country_chosen": False, "exit_url": "", "exit_error": "⟦e⟧",
        "configured_exit": "https://x.example",
        "part": __import__("types").SimpleNamespace(key="goals", label=lambda: "⟦Goals⟧", list_intro="checkins/_shared_intro.html",
                                                    list_template="goals/_shared_card.html",
                                                    item_template="goals/_shared_item.html"), "base": "/people/c1/goals", "entries": [], "people": {__import__("collections").namedtuple("Person", "name reach")("1234", "5678"): "⟦Ana⟧"},
        "names": {}, "person": "ana", "person_label": lambda *person: "⟦Ana⟧",
        "next_step": type("N", (), {"reason": "⟦r⟧", "label": "⟦l⟧", "href": "/x"})(), "expiring_count": 5,
        "documents": [type("D", (), {"id": "d1", "name": "1234", "private": True, "expires_on": __import__("datetime").date(2027, 1, 2)})()],
        "threads": [{"connection": __import__("types").SimpleNamespace(id="c1", paused_at=1), "name": "1234", "unread": 2,
                     "last": __import__("types").SimpleNamespace(created_at=__import__("datetime").datetime(2027, 1, 2))}],
        "connection": __import__("types").SimpleNamespace(id="c1", paused_at=1, survivor_label="1234"), "name": "1234",
        "earlier": True, "older_than": 5, "newest": 9, "live": False, "poll_every": "5s", "quick": {"ok": "⟦OK⟧"},
        "max_length": 1000, "sent": True, "announce": "⟦1 new⟧", "unread": 3,
        "push": {"prefs": __import__("types").SimpleNamespace(text="", checkin_days="02", checkin_time="18:00", quiet_from="",
                                                               quiet_to=""),
                 "devices": [__import__("types").SimpleNamespace(id="p1", device="1234", created_at=__import__("datetime").datetime(2027, 1, 2))],
                 "kinds": {"messages": "⟦New messages⟧"}, "days": {"0": "⟦Monday⟧"}, "key": "BKEY", "default_text": "1234",
                 "errors": {}, "saved": "device-refused", "chosen": ["messages"], "local": lambda moment, zone: moment},
        "kind": "device", "has_passkeys": True, "home": "/home", "removed_passkeys": ["1234"], "removed_devices": ["5678"],
        "codes": ["23456-78923"], "first": False, "deleted": True, "safety_error": "⟦e⟧",
        "safety": {"idle": 15, "idle_choices": {"15": "⟦15 minutes⟧"}, "cover": True, "app_name": "notes", "done": True},
        "departures": [__import__("types").SimpleNamespace(left_on=__import__("datetime").date(2027, 1, 2))],
        "account": {"passkeys": [__import__("types").SimpleNamespace(id="k1", name="1234")], "codes_left": 3, "local": lambda moment, zone: moment, "errors": {}, "done": "password", "confirmed": False,
                    "sessions": [{"ref": "r1", "device": "1234", "current": True,
                                  "last_seen_at": __import__("datetime").datetime(2027, 1, 2)}]},
        "section": __import__("types").SimpleNamespace(title=lambda: "⟦Safety⟧", path="/settings/safety"),
        "sections": [__import__("types").SimpleNamespace(title=lambda: "⟦Safety⟧", about=lambda: "⟦a⟧", path="/settings/safety")],
        "devices": [__import__("types").SimpleNamespace(device="1234")], "confirmed": False,
        "changes": [__import__("types").SimpleNamespace(kind=kind, one_item=one_item, connection_id="c1", name="1234",
                                                        label="5678", at=__import__("datetime").datetime(2027, 1, 2))
                    for kind in ("began", "stopped", "ended", "approved", "not now") for one_item in (False, True)],
        "more_changes": 2, "first_visit": False,
        "last_checkin": type("C", (), {"id": "c1", "feeling": 2, "private": False,
                                       "created_at": __import__("datetime").datetime(2027, 1, 2, 3, 4)})(),
        "safety_plan": __import__("types").SimpleNamespace(id="s1"),
        "back": "/journal/j1",
        "undo_at": "2027-01-02T03:04:05", "undo_seconds": 10,
        # staff profiles and feedback
        "profile": __import__("types").SimpleNamespace(name="1234", shown_name="1234", role_name="⟦caseworker⟧", organisation="5678",
                                                       helps_with="9012"),
        "name_max": 80, "helps_with_max": 300, "words_max": 1000, "threshold": 5, "asks_feedback": True,
        "answer": __import__("types").SimpleNamespace(rating=4, month="2026-12", words="1234"),
        "ratings": {"4": "⟦4 · Helpful⟧"}, "rating_label": lambda rating: "⟦4 · Helpful⟧",
        "month_name": lambda month: "⟦December 2026⟧", "answers": [("2026-12", 4, "1234"), ("2026-11", 2, "")], "answer_taken_back": True,
        "own_answers": [("5678", __import__("types").SimpleNamespace(id="f1", rating=4, month="2026-12"))],
        "average": "3.0",
        # the safety plan
        "rows": [{"name": "1234", "reach": "5678"}, {"name": "", "reach": ""}],
        "take_options": {"id": "⟦ID or passport⟧", "keys": "⟦Keys⟧"}, "take_keys": ["id"],
        "papers": {"9876": "1234"}, "ticked": ["9876"], "printing": False,
        # life areas
        "wheel": __import__("types").SimpleNamespace(
            first=__import__("types").SimpleNamespace(created_at=__import__("datetime").datetime(2026, 1, 2)),
            latest=__import__("types").SimpleNamespace(created_at=__import__("datetime").datetime(2027, 1, 2)),
            first_shape=__import__("types").SimpleNamespace(points=[(220.0, 116.0, "work", 2)], polygon="220.0,116.0"),
            latest_shape=__import__("types").SimpleNamespace(points=[(220.0, 72.0, "work", 4)], polygon="220.0,72.0"),
            rings=["220.0,138.0 242.0,160.0"], spokes=[(220.0, 50.0)],
            labels=[(220.0, "middle", [(220.0, 36.0, "⟦Work and⟧"), (220.0, 51.0, "⟦learning⟧")])],
            rows=[__import__("types").SimpleNamespace(area="⟦Work⟧", first="⟦2 · Hard⟧", latest="⟦4 · Good⟧",
                                                      change="⟦Better⟧"),
                  __import__("types").SimpleNamespace(area="⟦Money⟧", first="⟦Not rated⟧", latest="⟦3 · Getting by⟧",
                                                      change="")]),
        "wide": 440.0, "high": 320.0, "line_width": 240.0, "line_height": 80.0,
        "offers": [("⟦Start a goal about Money⟧", "/goals/new?area=money")], "rated_count": lambda item: 3,
        "ratings": {"work": 2}, "words": {2: "⟦2 · Hard⟧"}, "area_notes": {"work": "1234"},
        "scale": {"2": "⟦2 · Hard⟧"}, "rate": "rate-", "note": "note-", "note_max": 500,
        # the journal
        "happened": lambda item: "1234", "files_href": "/journal/a1/files", "max_files": 10, "file_error": "⟦e⟧", "added": True,
        "versions": [__import__("types").SimpleNamespace(
            written_at=__import__("datetime").datetime(2027, 1, 2, 3, 4), replaced_at=__import__("datetime").datetime(2027, 1, 3, 4, 5),
            happened_on=__import__("datetime").date(2027, 1, 1), place="1234", what="5678")],
        "files": [__import__("types").SimpleNamespace(id=file_id, name=name, media_type=media_type, size=2048,
                                                      created_at=__import__("datetime").datetime(2027, 1, 2, 3, 4))
                  for file_id, name, media_type in (("f1", "1234", "image/jpeg"), ("f2", "", "application/pdf"),
                                                    ("f3", "", "image/png"))],
        # Impact and the yes or no to being counted
        **_impact_context(),
    }
    for template in sorted((ROOT / "portal" / "templates").rglob("*.html")):
        name = template.relative_to(ROOT / "portal" / "templates").as_posix()
        html = env.get_template(name).render(**context)
        body = html.split("<body", 1)[1].split(">", 1)[1] if "<body" in html else html  # fragments have no body
        text = re.sub(r"<[^>]+>", " ", body)
        text = re.sub(r"⟦[^⟧]*⟧", " ", text)
        for name in LANGUAGES.values():  # each language is offered by its own name, never translated
            text = text.replace(name, " ")
        leftover = [word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in ("Waypoint", "river", "UTC")]
        assert not leftover, f"{name}: {leftover}"


def test_translations_in_templates_escape_their_values_and_read_double_percent_as_one():
    # The template functions are plain functions (not Jinja's, which take the context); they keep Jinja's rules.
    env = template_environment(StaticAssets(STATIC_DIR), "secret")
    template = env.from_string("{{ _('Hello %(name)s, 100%%', name=who) }} · {{ ngettext('%(num)d goal', '%(num)d goals', n) }}"
                               " · {{ _('Delete') }}")
    assert template.render(who="<b>x</b>", n=3) == "Hello &lt;b&gt;x&lt;/b&gt;, 100% · 3 goals · Delete"
    assert template.render(who=Markup("<bdi>x</bdi>"), n=1).startswith("Hello <bdi>x</bdi>, 100% · 1 goal")  # markup
    i18n.use("es")
    try:
        assert template.render(who="", n=1).endswith("· " + i18n.translations("es").gettext("Delete"))
        assert i18n.translations("es").gettext("Delete") != "Delete"
    finally:
        i18n.use("en")
