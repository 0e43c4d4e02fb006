"""A small HTTP load generator: client processes on 127.0.0.1 that stop after a fixed time.

Each client keeps one http.client connection open (reopened when the server closes it, as
gunicorn's sync workers do after each response), posts JSON autosaves of its own items in turn,
and records each request's latency and status. Items are split between clients, and each client
sends back the version the server returned, like the browser script, so a 409 means a real race.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import re
import ssl
import statistics
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from benchmarks.timing import p

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                        r'type="hidden" name="csrf_token" value="([^"]+)"|'
                        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Target:
    """Where and what a client posts: path, session cookie, CSRF token and its items."""

    port: int
    path: str
    cookie: str = ""
    csrf: str = ""
    items: tuple[tuple[str, tuple[Any, ...]], ...] = (("item", ("a", "b")),)
    cafile: str = ""  # HTTPS, trusting this certificate, when set (the proxy bench)
    interval: float = 0.0  # seconds from one send to the next (a person's pace); 0: as fast as answered


def connect(port: int, cafile: str = "", timeout: float = 30) -> http.client.HTTPConnection:
    """Open a keep-alive connection to 127.0.0.1: HTTPS trusting `cafile` when given, else HTTP."""
    if cafile:
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=ssl.create_default_context(cafile=cafile))
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


@dataclass
class Result:
    """Latencies (s) of successful requests, errors by status, and the measured wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        """Return the number of successful requests."""
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        """Return the number of failed requests."""
        return sum(self.errors.values())

    def merge(self, other: Result) -> None:
        """Add another client's figures (wall time is the longest client's)."""
        self.latencies.extend(other.latencies)
        for key, n in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + n
        self.seconds = max(self.seconds, other.seconds)

    def summary(self) -> dict[str, float]:
        """Return requests/s and latency percentiles in ms."""
        rps = self.count / self.seconds if self.seconds else 0.0
        return {"rps": rps, "p50": p(self.latencies, 0.50), "p95": p(self.latencies, 0.95),
                "p99": p(self.latencies, 0.99), "errors": float(self.error_count)}


def combined(parts: list[Result]) -> Result:
    """Return slices of one side, taken at different times, as one result (their times add up)."""
    total = Result()
    for part in parts:
        total.latencies.extend(part.latencies)
        for key, n in part.errors.items():
            total.errors[key] = total.errors.get(key, 0) + n
        total.seconds += part.seconds
    return total


def median_ratio(a: list[Result], b: list[Result], key: str = "rps") -> float:
    """Return the median over slices taken in turn of a's figure over b's (requests/s, or "p50"…)."""
    pairs = [x.summary()[key] / y.summary()[key] for x, y in zip(a, b, strict=True) if y.summary()[key]]
    return statistics.median(pairs) if pairs else 0.0


@dataclass
class Sides:
    """Each side's slices (autosave, floor, …) in the order they ran, taken in turn."""

    slices: dict[str, list[Result]] = field(default_factory=dict)

    def total(self, name: str) -> Result:
        """Return one side's slices as one result."""
        return combined(self.slices[name])

    def ratio(self, a: str = "autosave", b: str = "floor", key: str = "rps") -> float:
        """Return the median over the pairs of a's figure over b's (requests/s, or a latency: "p50")."""
        return median_ratio(self.slices[a], self.slices[b], key)


def _headers(target: Target) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if target.cookie:
        headers["Cookie"] = target.cookie
    if target.csrf:
        headers["X-CSRFToken"] = target.csrf
    if target.cafile:  # Flask-WTF wants a same-origin Referer over HTTPS, as browsers send
        headers["Referer"] = f"https://127.0.0.1:{target.port}{target.path}"
    return headers


def run_client(target: Target, seconds: float, max_requests: int | None = None) -> Result:
    """Post autosaves for `seconds` (or `max_requests`); return what was measured."""
    conn = connect(target.port, target.cafile)
    headers, versions = _headers(target), dict[str, int | None]()
    result, n = Result(), 0
    start = sent = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline and (max_requests is None or n < max_requests):
        item_id, values = target.items[n % len(target.items)]
        body = {"item_id": item_id, "value": values[(n // len(target.items)) % len(values)],
                "request_id": uuid.uuid4().hex, "version": versions.get(item_id)}
        if target.interval:  # the first send at a random moment, so clients do not march in step
            wait = sent + target.interval - time.perf_counter() if n else random.uniform(0, target.interval)
            time.sleep(max(0.0, wait))
            if time.perf_counter() >= deadline:
                break
        sent = time.perf_counter()
        try:
            conn.request("POST", target.path, json.dumps(body), headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1
            n += 1
            continue
        if status == 200:
            result.latencies.append(time.perf_counter() - sent)
            versions[item_id] = json.loads(data).get("version")
        else:
            result.errors[str(status)] = result.errors.get(str(status), 0) + 1
        n += 1
    result.seconds = time.perf_counter() - start
    conn.close()
    return result


def _client_main(args: tuple[Target, float, int | None]) -> Result:
    return run_client(*args)


def run_load(targets: list[Target], seconds: float, max_requests: int | None = None) -> Result:
    """Run one client process per target at once; return the merged result."""
    # fork: clients start at once, without re-importing anything (Linux, no threads here).
    context = multiprocessing.get_context("fork")
    with context.Pool(len(targets)) as pool:
        results = pool.map(_client_main, [(t, seconds, max_requests) for t in targets])
    total = Result()
    for one in results:
        total.merge(one)
    return total


def vendor_targets(port: int, seeded: list[tuple[str, int]], items: list[tuple[str, list[Any]]],
                   pace: float, password: str, cafile: str = "") -> dict[str, list[Target]]:
    """Log every vendor in once; return the targets of both sides (autosave, floor), saturated and paced.

    `seeded` holds (login e-mail, assessment id) per vendor: each client saves its own assessment's
    items, on the same server for both sides (its app serves the autosave and the floor route).
    """
    owned = tuple((item, tuple(values)) for item, values in items)
    targets: dict[str, list[Target]] = {"autosave": [], "floor": [], "autosave paced": [], "floor paced": []}
    for email, assessment_id in seeded:
        page = f"/vendor/assessments/{assessment_id}/sections/contract"
        cookie, csrf = login(port, email, password, page, cafile)
        for name in targets:
            path = f"/vendor/assessments/{assessment_id}/{name.split()[0]}"
            interval = pace if name.endswith("paced") else 0.0
            targets[name].append(Target(port, path, cookie, csrf, owned, cafile, interval))
    return targets


# --- logging in as a browser would ----------------------------------------------------------


def _cookies(response: http.client.HTTPResponse, jar: SimpleCookie) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)


def _cookie_header(jar: SimpleCookie) -> str:
    return "; ".join(f"{k}={m.value}" for k, m in jar.items())


def _get(conn: http.client.HTTPConnection, path: str, jar: SimpleCookie) -> tuple[int, str]:
    conn.request("GET", path, headers={"Cookie": _cookie_header(jar)})
    response = conn.getresponse()
    text = response.read().decode()
    _cookies(response, jar)
    return response.status, text


def login(port: int, email: str, password: str, page: str, cafile: str = "") -> tuple[str, str]:
    """Log in through the login form; return (Cookie header, CSRF token read from `page`)."""
    conn = connect(port, cafile)
    jar: SimpleCookie = SimpleCookie()
    _status, text = _get(conn, "/auth/login", jar)
    match = CSRF_INPUT.search(text) or CSRF_META.search(text)
    if match is None:
        raise RuntimeError("no CSRF token on the login page")
    token = next(g for g in match.groups() if g)
    form = urlencode({"email": email, "password": password, "csrf_token": token})
    scheme = "https" if cafile else "http"
    conn.request("POST", "/auth/login", form, {"Content-Type": "application/x-www-form-urlencoded",
                                               "Cookie": _cookie_header(jar),
                                               "Referer": f"{scheme}://127.0.0.1:{port}/auth/login"})
    response = conn.getresponse()
    response.read()
    _cookies(response, jar)
    if response.status != 302:
        raise RuntimeError(f"login failed with status {response.status}")
    status, text = _get(conn, page, jar)
    meta = CSRF_META.search(text)
    conn.close()
    if status != 200 or meta is None:
        raise RuntimeError(f"no CSRF token on {page} (status {status})")
    return _cookie_header(jar), meta.group(1)
