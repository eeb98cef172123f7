"""Hostile template inputs shared by the untrusted-input tests (and a bystander timer)."""

from __future__ import annotations

import statistics
import threading
import time

from datadive_platform import service_process  # noqa: F401  (re-exported for the tests)

#: 300-odd bytes of nested aliases: 9**7 (4.8 million) strings once expanded
ALIAS_BOMB = """id: bomb
version: 1.0.0
title: &a ["x","x","x","x","x","x","x","x","x"]
description: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
category: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
tags: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
language: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
inputs: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
code: [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


def big_template(size: int = 1 << 20, tid: str = "big") -> str:
    """A valid template of about ``size`` bytes: a code body with one placeholder per line."""
    head = (
        f"id: {tid}\nversion: 1.0.0\ntitle: Big\nlanguage: python\n"
        "inputs:\n  - {name: n, type: integer, default: 1}\ncode: |\n"
    )
    lines, total, i = [], len(head), 0
    while total < size:
        line = f"  x{i} = {{{{ n }}}} + {i}\n"
        lines.append(line)
        total += len(line)
        i += 1
    return head + "".join(lines)


class Bystander:
    """Times another user's request (``probe()``) while an attack runs in a thread, and watches
    the service's memory; a service growing past ``rss_limit`` bytes is killed (it is the test's
    own) so that a regression cannot take the machine down."""

    def __init__(self, probe, service, rss_limit: int = 1 << 30):
        self.probe = probe
        self.service = service
        self.rss_limit = rss_limit

    def _time(self) -> float:
        t = time.perf_counter()
        try:
            self.probe()
        except Exception:  # noqa: BLE001 - a timeout or refused connection is "very slow"
            return float("inf")
        return time.perf_counter() - t

    def baseline(self, n: int = 7) -> float:
        return statistics.median(self._time() for _ in range(n))

    def during(self, attack):
        """Run ``attack()``; returns (its result, seconds it took, bystander latencies, growth of
        the service's RSS in bytes at its peak, whether the service had to be killed)."""
        out: dict = {}
        watch = {"peak": self.service.memory_info().rss, "killed": False}
        start_rss = watch["peak"]
        done = threading.Event()

        def run():
            t = time.perf_counter()
            try:
                out["result"] = attack()
            except Exception as e:  # noqa: BLE001 - reported by the caller's asserts
                out["result"] = e
            out["seconds"] = time.perf_counter() - t
            done.set()

        def memory():
            while not done.is_set():
                try:
                    watch["peak"] = max(watch["peak"], self.service.memory_info().rss)
                except Exception:  # noqa: BLE001 - the service is gone
                    watch["killed"] = True
                    return
                if watch["peak"] - start_rss > self.rss_limit:
                    self.service.kill()
                    watch["killed"] = True
                    return
                time.sleep(0.05)

        threads = [threading.Thread(target=f, daemon=True) for f in (run, memory)]
        for th in threads:
            th.start()
        latencies: list[float] = []
        while not done.is_set() or len(latencies) < 3:
            if watch["killed"]:
                break
            latencies.append(self._time())
            time.sleep(0.05)
        done.wait(130)
        done.set()
        return (
            out.get("result"),
            out.get("seconds"),
            latencies,
            watch["peak"] - start_rss,
            (watch["killed"]),
        )
