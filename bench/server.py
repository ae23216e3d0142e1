"""Start the portal (or the bare reference app) as it is deployed: uvicorn, one or several worker
processes, on a loopback port; wait until it answers; read the memory its processes have used.
Shared by the benchmark and by the tests that need real worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_up(self, path: str = "/healthz", seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped (exit {self.process.returncode}): "
                                   f"{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}{path}", timeout=2) as answer:  # noqa: S310 - loopback only
                    if answer.status == 200:
                        return
            except OSError as exc:  # not listening yet
                last = exc
            time.sleep(0.2)
        raise RuntimeError(f"{self.url} did not answer within {seconds} s ({last!r}): {self.log.read_text()[-3000:]}")

    def workers(self) -> list[int]:
        """The worker processes' ids (with one worker, uvicorn serves from the process itself)."""
        return children(self.process.pid) or [self.process.pid]

    def wait_for_workers(self, count: int, seconds: float = 60) -> list[int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pids = [pid for pid in self.workers() if _listening_ready(pid)]
            if len(pids) >= count:
                return pids
            time.sleep(0.2)
        raise RuntimeError(f"fewer than {count} workers after {seconds} s: {self.log.read_text()[-3000:]}")

    def peak_memory_mib(self) -> dict[int, float]:
        """Each process's peak resident memory (VmHWM), in MiB: the master and every live worker."""
        return {pid: peak for pid in [self.process.pid, *children(self.process.pid)]
                if (peak := _peak_mib(pid)) is not None}

    def resident_mib(self) -> dict[int, float]:
        return {pid: rss for pid in self.workers() if (rss := _status_mib(pid, "VmRSS")) is not None}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    # uvicorn's multiprocess manager starts a resource tracker too: keep only processes running the server.
    return [child for child in found if "multiprocessing.resource_tracker" not in _cmdline(child)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _status_mib(pid: int, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _peak_mib(pid: int) -> float | None:
    return _status_mib(pid, "VmHWM")


def _listening_ready(pid: int) -> bool:
    return _status_mib(pid, "VmRSS") is not None


def start(target: str, env: dict[str, str], log: Path, *, workers: int = 1, port: int | None = None) -> Server:
    """Start `target` (an app factory, "module:function") under uvicorn as deployed: httptools, no access log."""
    port = port or free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1", "--port", str(port),
               "--no-access-log", "--log-level", "warning", "--http", "httptools", "--loop", "uvloop"]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as output:  # the child keeps its own copy of the file
        # Our own interpreter running uvicorn on 127.0.0.1, with an argument list and no shell.
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},  # noqa: S603
                                   stdout=output, stderr=subprocess.STDOUT)
    return Server(process, port, log)
