"""Drive the same pages with wrk (Debian package `wrk`) instead of the Python client: a load generator in C
takes far less of the two cores it shares with the server it measures.

One wrk thread (-t 1): one thread of C on an event loop sends far more than the fastest page here answers (the
bare page, about 13,000 req/s), and a second thread would only take more of the two cores the server needs.
The browsers are signed in by the Python client as usual (bench/common.py); their cookies and CSRF tokens go into
a Lua script, one session per connection as the Python client has one browser per connection. wrk's Lua has no
hook per connection, so `request()` hands the sessions out in turn: each of the N sessions sends 1/N of the
requests. A Lua `response()` counts every status a page should not answer (wrk itself counts only 4xx and 5xx)
and stops the thread at the page's limit (timed on a monotonic clock: wrk's own duration would still be the
whole -d); `done()` prints the figures as one line of JSON, read back into a `load.Result`.
Only loopback is driven, for at most -d seconds, under a subprocess timeout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

from bench.client import LOOPBACK
from bench.load import NUMBER, Page, Result

INSTALL = "wrk is not installed: apt-get install wrk (Debian package wrk)"
THREADS = 1
MARK = "WRK-JSON "


def find() -> str | None:
    return shutil.which("wrk")


def version(wrk: str) -> str:
    answer = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    return (answer.stdout or answer.stderr).split("Copyright")[0].strip() or "wrk"


def _lua(value: str) -> str:
    """A Lua string literal: printable ASCII as is, anything else as a decimal escape."""
    out = []
    for char in value.encode("utf-8"):
        if 32 <= char < 127 and char not in (ord('"'), ord("\\")):
            out.append(chr(char))
        else:
            out.append(f"\\{char:03d}")
    return '"' + "".join(out) + '"'


def _table(headers: dict[str, str]) -> str:
    return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()) + "}"


def script(page: Page) -> str:
    """The Lua script for one page."""
    if not page.sessions:
        raise ValueError(f"{page.name}: wrk needs at least one browser (one connection each)")
    sessions = []
    for browser in page.sessions:
        headers = {"User-Agent": "waypoint-bench", "Accept": "text/html"}
        if browser.compressed:
            headers["Accept-Encoding"] = "br, gzip"
        if browser.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        before = after = ""
        if page.form is not None:
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": browser.token})
            before, _, after = urlencode({**page.form, "_csrf_token": browser.token}).partition(NUMBER)
        headers.update(page.headers)
        sessions.append(f"  {{headers = {_table(headers)}, before = {_lua(before)}, after = {_lua(after)}}},")
    ok = ", ".join(f"[{status}] = true" for status in page.ok)
    method = "POST" if page.form is not None else "GET"
    return f"""-- {page.name}: written by bench/wrk.py for one run
local sessions = {{
{chr(10).join(sessions)}
}}
local method, path = {_lua(method)}, {_lua(page.path)}
local post = {"true" if page.form is not None else "false"}
local ok = {{{ok}}}
local limit = {-(-page.limit // THREADS)}  -- each thread's share
local ready = {{}}
local turn, sent = 0, 0
wrong, answered, stopped_us = {{}}, 0, nil
local threads = {{}}
-- A monotonic clock: wrk's own duration is the whole -d even when the limit stops a thread before.
local ffi = require("ffi")
ffi.cdef[[ typedef struct {{ long tv_sec; long tv_nsec; }} bench_timespec;
           int clock_gettime(int, bench_timespec *); ]]
local clock = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end
local started_us

function setup(thread)
  table.insert(threads, thread)
end

local function copy(headers)
  local fresh = {{}}
  for k, v in pairs(headers) do fresh[k] = v end
  return fresh
end

function init(args)
  started_us = now_us()
  for i, session in ipairs(sessions) do
    ready[i] = wrk.format(method, path, copy(session.headers))
  end
end

function request()
  turn = turn % #sessions + 1
  if not post then return ready[turn] end
  sent = sent + 1
  local session = sessions[turn]
  return wrk.format(method, path, copy(session.headers), session.before .. sent .. session.after)
end

function response(status, headers, body)
  answered = answered + 1
  if not ok[status] then
    local key = tostring(status)
    wrong[key] = (wrong[key] or 0) + 1
  end
  if answered == limit then
    stopped_us = now_us() - started_us
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local counted, stopped, longest = {{}}, 0, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("wrong") or {{}}) do counted[status] = (counted[status] or 0) + n end
    local at = thread:get("stopped_us")
    if at then stopped, longest = stopped + 1, math.max(longest, at) end
  end
  local duration = summary.duration
  if stopped == #threads then duration = longest end  -- every thread stopped at its limit
  local statuses = {{}}
  for status, n in pairs(counted) do table.insert(statuses, string.format('"%s": %d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    '{MARK}{{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"errors": {{"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}, "wrong": {{%s}}}}\\n',
    summary.requests, duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect, e.read, e.write, e.timeout, e.status, table.concat(statuses, ", ")))
end
"""


def drive(wrk: str, url: str, page: Page, *, seconds: float, folder: Path) -> Result:
    """Run wrk against one page of the loopback server at `url` and read its figures into a Result."""
    host = url.split("//", 1)[1].rsplit(":", 1)[0]
    if host not in LOOPBACK:
        raise ValueError(f"only loopback is ever a target, not {host}")
    lua = folder / "wrk-page.lua"
    lua.write_text(script(page))
    connections = max(len(page.sessions), THREADS)
    duration = max(1, round(seconds))
    command = [wrk, "-t", str(THREADS), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "--latency", "-s", str(lua), url + page.path]
    # wrk on a loopback URL built here, an argument list and no shell; bounded by -d and by this timeout.
    answer = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)  # noqa: S603
    line = next((line for line in answer.stdout.splitlines() if line.startswith(MARK)), None)
    if answer.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed on {page.path} (exit {answer.returncode}): {answer.stderr[-2000:]}"
                           f"{answer.stdout[-2000:]}")
    figures = json.loads(line[len(MARK):])
    result = Result(page.name, seconds=figures["duration_us"] / 1e6, received=figures["bytes"],
                    answered=figures["requests"],
                    fixed={p: figures[f"p{p}_us"] / 1000 for p in (50, 95, 99)})
    result.wrong = {status: n for status, n in figures["wrong"].items() if n}
    for kind in ("connect", "read", "write", "timeout"):
        if figures["errors"][kind]:
            result.wrong[f"dropped ({kind})"] = figures["errors"][kind]
    return result
