"""The Impact page and its CSV over HTTP, against the real database: who is counted (consent, a live connection to
the admin's own organisation, asked again at every request), the exact figures, and the small-number rule (no
figure from fewer than 5 people, no total that would give a hidden figure back, nothing at all under 5 people)."""

from __future__ import annotations

import csv
import html
import io
import re
import secrets
from datetime import UTC, datetime

import pytest

from portal.db import make_engine, session_factory
from portal.models import CheckIn, Goal, LifeAreas, Role
from tests.conftest import make_connection, make_user, post_form, run, sign_in, sql, user_id

PERIOD = "?from=2025-Q1&to=2025-Q4"
FEWER = "fewer than 5"
GOAL_AREAS = {"housing": "Housing", "health": "Health", "legal": "Legal", "education": "Education", "work": "Work",
              "money": "Money", "family": "Family", "safety": "Safety", "other": "Other"}
LIFE_AREAS = {"safety": "Safety", "housing": "Housing", "health": "Health", "mind": "Mind and feelings",
              "money": "Money", "work": "Work and learning", "legal": "Legal matters", "people": "People around me"}


def at(month: int, day: int = 10) -> datetime:
    return datetime(2025, month, day, 12, 0, tzinfo=UTC)


def build(settings, owner: str, *, goals=(), checkins=(), ratings=()) -> None:  # type: ignore[no-untyped-def]
    """Rows with dates in past quarters, as the app's own forms would have saved them then: goals as (area,
    created, achieved or None), check-ins as (feeling, when), life-area ratings as ({area: rating}, when)."""
    owner_id = user_id(settings, owner)

    async def go() -> None:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            for area, created, achieved in goals:
                db.add(Goal(id=secrets.token_urlsafe(12), owner_id=owner_id, title="Private words 7331", area=area,
                            created_at=created, achieved_at=achieved,
                            status="achieved" if achieved else "active"))
            for feeling, when in checkins:
                db.add(CheckIn(id=secrets.token_urlsafe(12), owner_id=owner_id, feeling=feeling, created_at=when))
            for rated, when in ratings:
                db.add(LifeAreas(id=secrets.token_urlsafe(12), owner_id=owner_id, created_at=when, **rated))
            await db.commit()
        await engine.dispose()

    run(go())


def consenting(settings, name: str, staff: str, *, yes: bool = True) -> None:  # type: ignore[no-untyped-def]
    make_user(settings, name)
    make_connection(settings, name, staff)
    if yes:
        sql(settings, "UPDATE app_user SET count_me_in = :y, count_asked = :y WHERE username = :u", y=True, u=name)


def tables(page: str) -> dict[str, list[list[str]]]:
    """Each figures table of the page by its caption: its rows of cells, as text."""
    found = {}
    pattern = r'<table class="table impact-table">\s*<caption>(.*?)</caption>(.*?)</table>'
    for caption, body in re.findall(pattern, page, re.S):
        found[html.unescape(caption)] = [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                                          for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                                         for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return found


def cell(page: str, caption: str, row: str, column: str) -> str:
    table = tables(page)[caption]
    return table[[r[0] for r in table].index(row)][table[0].index(column)]


def csv_of(client, period: str = PERIOD) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = client.get("/admin/impact.csv" + period)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def figure(rows: list[list[str]], section: str, period: str, area: str, measure: str) -> tuple[str, str]:
    found = [row[4:] for row in rows if row[:4] == [section, period, area, measure]]
    assert len(found) == 1, (section, period, area, measure)
    return found[0][0], found[0][1]


@pytest.fixture
def six(client, settings):  # type: ignore[no-untyped-def]
    """Organisation A (Safe Harbor) with six people who said yes, connected to its caseworker. Each set a housing goal
    in 2025-Q1, s1..s5 achieved it in 2025-Q2; each checked in in Q1 (feelings 1,2,3,4,5,5) and in Q2 (4); each rated
    housing 2 in January and 4 in November (health once: not a change). s1 alone set a work goal in Q3."""
    make_user(settings, "cw-a", Role.CASEWORKER)
    make_user(settings, "boss-a", Role.ADMIN)
    for n, feeling in zip(range(1, 7), (1, 2, 3, 4, 5, 5), strict=True):
        name = f"person{n}"
        consenting(settings, name, "cw-a")
        build(settings, name, goals=[("housing", at(2), at(5) if n <= 5 else None)],
              checkins=[(feeling, at(3)), (4, at(6))],
              ratings=[({"housing": 2, "health": 3}, at(1)), ({"housing": 4}, at(11))])
    build(settings, "person1", goals=[("work", at(8), None)])
    sign_in(client, "boss-a")
    return client


def expect_six(page: str, rows: list[list[str]], *, people: int = 6, set_q1: int = 6, achieved_q2: str = "5",
               checkins_q1: str = "6", feeling_q1: str = "3.3") -> None:
    assert f"People counted: {people}" in page
    assert figure(rows, "people", "2025-Q1/2025-Q4", "", "people counted") == (str(people), str(people))
    assert cell(page, "Goals set", "Housing", "2025-Q1") == str(set_q1)
    assert cell(page, "Goals set", "All areas", "2025-Q1") == str(set_q1)
    assert cell(page, "Goals set", "Legal", "2025-Q1") == "0"
    assert figure(rows, "goals", "2025-Q1", "housing", "goals set") == (str(set_q1), str(set_q1))
    assert figure(rows, "goals", "2025-Q1", "all", "goals set") == (str(set_q1), str(set_q1))
    assert cell(page, "Goals achieved", "Housing", "2025-Q2") == achieved_q2
    assert figure(rows, "goals", "2025-Q2", "housing", "goals achieved")[0] == achieved_q2
    assert cell(page, "Check-ins and average feeling", "2025-Q1", "Check-ins") == checkins_q1
    assert cell(page, "Check-ins and average feeling", "2025-Q1", "Average feeling (1 to 5)") == feeling_q1
    assert figure(rows, "check-ins", "2025-Q1", "", "average feeling")[0] == feeling_q1
    assert cell(page, "Check-ins and average feeling", "2025-Q2", "Average feeling (1 to 5)") == "4.0"
    assert cell(page, "Check-ins and average feeling", "2025-Q4", "Check-ins") == "0"
    housing = tables(page)["Life areas, first and latest rating"][[*LIFE_AREAS.values()].index("Housing") + 1]
    assert housing == ["Housing", "2.0", "4.0", str(people)]
    assert figure(rows, "life areas", "2025-Q1/2025-Q4", "housing", "latest rating average") == ("4.0", str(people))
    # Health was rated once by each: nobody has a change to show.
    assert figure(rows, "life areas", "2025-Q1/2025-Q4", "health", "first rating average") == ("none", "0")


def test_six_people_every_figure_is_shown_and_exact(six, settings):  # type: ignore[no-untyped-def]
    page = six.get("/admin/impact" + PERIOD).text
    expect_six(page, csv_of(six))
    assert "<svg" in page and 'class="impact__bar impact__bar--set"' in page and " style=" not in page
    assert 'href="/admin/impact.csv?from=2025-Q1&amp;to=2025-Q4"' in page


def test_a_quarter_that_would_isolate_one_person_is_hidden_with_its_total(six):  # type: ignore[no-untyped-def]
    page, rows = six.get("/admin/impact" + PERIOD).text, csv_of(six)
    assert cell(page, "Goals set", "Work", "2025-Q3") == FEWER
    assert cell(page, "Goals set", "All areas", "2025-Q3") == "not shown"
    assert figure(rows, "goals", "2025-Q3", "work", "goals set") == (FEWER, FEWER)
    assert figure(rows, "goals", "2025-Q3", "all", "goals set") == ("not shown", "not shown")
    # A single quarter's period with only that person in it says no more.
    q3 = six.get("/admin/impact?from=2025-Q3&to=2025-Q3").text
    assert cell(q3, "Goals set", "Work", "2025-Q3") == FEWER
    assert cell(q3, "Goals set", "All areas", "2025-Q3") == "not shown"
    assert "impact-chart__hidden" in q3


def test_people_who_said_no_or_never_answered_are_in_no_figure(six, settings):  # type: ignore[no-untyped-def]
    for name, answered in (("never", False), ("said-no", True)):
        consenting(settings, name, "cw-a", yes=False)
        sql(settings, "UPDATE app_user SET count_asked = :a WHERE username = :u", a=answered, u=name)
        build(settings, name, goals=[("housing", at(2), at(5))] * 7, checkins=[(1, at(3))] * 3,
              ratings=[({"housing": 1}, at(1)), ({"housing": 1}, at(2))])
    # ... nor someone who said yes whose only connection has ended, nor one connected only to another organisation.
    make_user(settings, "cw-b", Role.CASEWORKER, organisation="Other Org")
    consenting(settings, "gone", "cw-a")
    sql(settings, "UPDATE connection SET ended_at = created_at WHERE survivor_id = :s", s=user_id(settings, "gone"))
    consenting(settings, "elsewhere", "cw-b")
    for name in ("gone", "elsewhere"):
        build(settings, name, goals=[("housing", at(2), at(5))] * 7, checkins=[(1, at(3))] * 3)
    expect_six(six.get("/admin/impact" + PERIOD).text, csv_of(six))


def test_withdrawing_takes_effect_at_the_next_request(six, other_client, settings):  # type: ignore[no-untyped-def]
    sign_in(other_client, "person6")
    assert post_form(other_client, "/settings/counting", {"count": "no"}).status_code == 303
    # s6 felt 5 in Q1 and did not achieve: five people, 1+2+3+4+5 / 5.
    expect_six(six.get("/admin/impact" + PERIOD).text, csv_of(six), people=5, set_q1=5, checkins_q1="5",
               feeling_q1="3.0")
    post_form(other_client, "/sign-out")
    sign_in(other_client, "person5")
    post_form(other_client, "/settings/counting", {"count": "no", "from": "settings"})
    page, rows = six.get("/admin/impact" + PERIOD).text, csv_of(six)
    assert "fewer than 5 people" in page and "People counted" not in page and "Goals set" not in page
    assert rows == [["section", "period", "area", "measure", "value", "people"],
                    ["people", "2025-Q1/2025-Q4", "", "people counted", FEWER, FEWER]]


def test_four_people_show_no_figure_at_all(client, settings):  # type: ignore[no-untyped-def]
    make_user(settings, "cw-a", Role.CASEWORKER)
    make_user(settings, "boss-a", Role.ADMIN)
    for n in range(1, 5):
        consenting(settings, f"person{n}", "cw-a")
        build(settings, f"person{n}", goals=[("legal", at(2), at(3))] * 13, checkins=[(2, at(3))] * 17,
              ratings=[({"money": 1}, at(1)), ({"money": 5}, at(4))])
    sign_in(client, "boss-a")
    page, rows = client.get("/admin/impact" + PERIOD).text, csv_of(client)
    assert "fewer than 5 people" in page
    after_form = page.split('class="impact-period"', 1)[1].split("</form>", 1)[1].split("</main>", 1)[0]
    assert re.sub(r"<[^>]+>", " ", after_form).split() == ["fewer", "than", "5", "people", "Figures", "are", "shown",
                                                           "once", "at", "least", "5", "people", "are", "counted."]
    assert {cell for row in rows[1:] for cell in row[4:]} == {FEWER}
    assert "<svg class=\"impact-chart" not in page and "Download these figures" not in page
    assert len(rows) == 2 and rows[1][4:] == [FEWER, FEWER]


def test_an_admin_sees_only_their_own_organisation(six, other_client, settings):  # type: ignore[no-untyped-def]
    make_user(settings, "cw-b", Role.CASEWORKER, organisation="Other Org")
    make_user(settings, "boss-b", Role.ADMIN, organisation="Other Org")
    sign_in(other_client, "boss-b")
    page = other_client.get("/admin/impact" + PERIOD).text
    assert "fewer than 5 people" in page and "People counted" not in page
    assert csv_of(other_client)[1][4:] == [FEWER, FEWER]
    # Even a survivor connected to both: B counts only what B has (one person), A still counts six.
    make_connection(settings, "person1", "cw-b")
    assert "fewer than 5 people" in other_client.get("/admin/impact" + PERIOD).text
    assert "People counted: 6" in six.get("/admin/impact" + PERIOD).text


def test_only_admins_and_only_good_periods(six, other_client, settings):  # type: ignore[no-untyped-def]
    assert six.get("/admin/impact").status_code == 200  # the last four quarters by default
    for bad in ("?from=2025-Q4&to=2025-Q1", "?from=2022-Q1&to=2025-Q2", "?from=2025-Q5&to=2025-Q4",
                "?from=yesterday", "?to=%3D1%2B1"):
        page = six.get("/admin/impact" + bad)
        assert page.status_code == 400 and "People counted" not in page.text and "error-summary" in page.text
        assert six.get("/admin/impact.csv" + bad).status_code == 400
    sign_in(other_client, "person1")
    assert other_client.get("/admin/impact").status_code == 404
    assert other_client.get("/admin/impact.csv").status_code == 404
    post_form(other_client, "/sign-out")
    sign_in(other_client, "cw-a")
    assert other_client.get("/admin/impact").status_code == 404
    assert other_client.get("/admin/impact.csv").status_code == 404


def test_the_csv_is_safe_and_says_what_the_page_says(six):  # type: ignore[no-untyped-def]
    response = six.get("/admin/impact.csv" + PERIOD)
    assert response.headers["content-disposition"] == 'attachment; filename="impact-2025-Q1-2025-Q4.csv"'
    rows = csv_of(six)
    assert rows[0] == ["section", "period", "area", "measure", "value", "people"]
    for row in rows:
        for value in row:
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    page = six.get("/admin/impact" + PERIOD).text
    names = {"goals set": "Goals set", "goals achieved": "Goals achieved"}
    for section, period, area, measure, value, _people in rows[2:]:
        if section == "goals":
            row = "All areas" if area == "all" else GOAL_AREAS[area]
            assert cell(page, names[measure], row, period) == value
        elif section == "check-ins":
            column = "Check-ins" if measure == "check-ins" else "Average feeling (1 to 5)"
            assert cell(page, "Check-ins and average feeling", period, column) == value
        else:
            column = "First rating, average" if measure.startswith("first") else "Latest rating, average"
            assert cell(page, "Life areas, first and latest rating", LIFE_AREAS[area], column) == value


def test_a_cell_that_looks_like_a_formula_is_disarmed():
    from portal.impact import safe_cell, suppressed, total_of

    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@A1", "\t1", "\r1", "12", "fewer than 5")] == \
        ["'=1+1", "'+1", "'-1", "'@A1", "'\t1", "'\r1", "12", "fewer than 5"]
    assert suppressed(3, 4).value is None and suppressed(3, 4).people is None
    assert suppressed(7, 5).value == 7 and suppressed(0, 0).value == 0
    assert total_of([suppressed(1, 1), suppressed(9, 9)], 10, 10).value is None
