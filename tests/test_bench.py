"""`python -m bench` for about a second a page on a tiny seed, with each load client: every page has its figures,
its share of the bare page, and no wrong answer. wrk (Debian package) is needed for the wrk run: without it the
run is skipped and says so; under CI=true a missing wrk is a failure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench import server, wrk
from bench.__main__ import BARS, DOWNLOAD, HELLO, main
from bench.client import Browser
from bench.load import Page

ROOT = Path(__file__).resolve().parent.parent
PAGES = [HELLO, "survivor home  /home", "list  /goals", "list  /appointments", "list  /check-ins", "list  /documents",
         "caseworker's shared list", "check-in save (POST)", "static file (the style sheet)", DOWNLOAD]
ROW = re.compile(r"^(?P<name>.{34}) +(?P<rate>\d+) +(?P<p50>[\d.]+) +(?P<p95>[\d.]+) +(?P<p99>[\d.]+) +(?P<count>\d+)"
                 r"   wrong: (?P<wrong>.*)$")


def need_wrk() -> str:
    found = wrk.find()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk not found: CI must run the wrk benchmark test (apt-get install wrk)")
        pytest.skip("wrk benchmark skipped: wrk is not installed (apt-get install wrk)")
    return found


@pytest.mark.parametrize("client", ["python", "wrk"])
def test_a_short_run_has_figures_for_every_page_and_no_wrong_answer(client: str) -> None:
    if client == "wrk":
        need_wrk()
    command = [sys.executable, "-m", "bench", "--client", client, "--seconds", "1", "--concurrency", "3",
               "--survivors", "5", "--items", "2"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    print(run.stdout)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"client: {'python' if client == 'python' else 'wrk'}" in run.stdout
    rows = {m["name"].strip(): m for line in run.stdout.splitlines() if (m := ROW.match(line))}
    assert list(rows) == PAGES
    for name, row in rows.items():
        assert int(row["count"]) > 0 and int(row["rate"]) > 0, name
        assert float(row["p50"]) <= float(row["p95"]) <= float(row["p99"]), name
        assert row["wrong"] == "none", name
    for name in PAGES[1:]:
        share = re.search(rf"^  {re.escape(name)} +[\d.]+% of bare(?P<bar>.*)$", run.stdout, re.MULTILINE)
        assert share, f"no share of bare for {name}"
        assert ("bar: at least" in share["bar"]) == (name in BARS)


def test_wrk_counts_every_unexpected_status_and_stops_at_the_limit() -> None:
    program = need_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare = server.start("bench.bare:create_app", {}, folder / "bare.log")
        try:
            bare.wait_until_up()
            browsers = [Browser("127.0.0.1", bare.port) for _ in range(2)]
            missing = wrk.drive(program, bare.url, Page("missing", "/nope", browsers), seconds=1, folder=folder)
            assert missing.count > 0 and missing.wrong == {"404": missing.count}
            # A 200 where a POST's 303 is expected is wrong too (wrk itself counts only 4xx and 5xx).
            redirect = wrk.drive(program, bare.url, Page("limited", "/", browsers, ok=(303,), limit=50),
                                 seconds=1, folder=folder)
            assert redirect.count == 50 and redirect.wrong == {"200": 50}
        finally:
            bare.stop()


def test_wrk_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(wrk, "find", lambda: None)
    assert main(["--client", "wrk"]) == 2
    assert "apt-get install wrk" in capsys.readouterr().err


def test_pages_in_process_has_a_time_for_every_page_and_the_collection_pause() -> None:
    command = [sys.executable, "-m", "bench", "pages", "--rounds", "2", "--requests", "3", "--survivors", "3",
               "--items", "2"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = re.findall(r"^(.{48}) +([\d.]+) +([\d.]+)$", run.stdout, re.MULTILINE)
    assert [name.strip() for name, _fastest, _median in rows] == [
        "survivor home", "goals", "appointments", "check-ins", "documents", "sharing", "settings",
        "a signed-in page that reads nothing (/healthz)", "caseworker's shared goals"]
    assert all(0 < float(fastest) <= float(median) for _name, fastest, median in rows)
    assert re.search(r"^a full garbage collection now: [\d.]+ ms \([\d,]+ objects looked at, [\d,]+ set aside",
                     run.stdout, re.MULTILINE)
    assert "HTTP Request" not in run.stdout + run.stderr
