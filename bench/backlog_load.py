#!/usr/bin/env python3
"""Writes during a derivation backlog, and SIGTERM during one (see docs/benchmarks.md).

  bench/backlog_load.py [--mnemo build/mnemo] [--turns 8000] [--adds 50] [--dir DIR]
  bench/backlog_load.py --turns 20000 --write-jsonl FILE   (the same turns for `mnemo ingest`)

Starts `mnemo serve` on a fresh data directory (builtin embedder, pipeline on, no keys),
POSTs --turns rule-triggering conversation turns of one user (moves, jobs, likes,
allergies, dated events, assistant filler) to /ingest, 1,000 per request, then times --adds single
POST /memories of another user while the pipeline derives from the ingest. Baseline: the
same adds into an idle space, in the same run. Then sends SIGTERM while jobs are still
pending, times the exit, restarts and checks that the pending jobs resume and finish.
Prints markdown rows on stdout, progress on stderr.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

PLACES = ["Berlin", "Munich", "Lisbon", "Porto", "Oslo", "Madrid", "Kyoto", "Austin"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]
JOBS = ["data engineer", "nurse", "teacher", "product manager", "chef", "designer"]
THINGS = ["hiking", "jazz", "sushi", "chess", "gardening", "climbing", "opera", "tea"]
ALLERGENS = ["peanuts", "shellfish", "pollen", "gluten", "cats"]
EVENTS = ["the dentist", "a wedding", "the conference", "a concert", "my sister's party"]
FILLER = ["That's great to hear! Let me know if there is anything else I can help with.",
          "Sounds lovely. Is there anything you would like me to remember about it?",
          "Thanks for sharing that with me!"]


def turn(rng, i):
    kind = i % 6
    if kind == 0:
        return "user", f"I moved to {rng.choice(PLACES)} last month"
    if kind == 1:
        return "user", (f"I started a new job at {rng.choice(COMPANIES)} as a "
                        f"{rng.choice(JOBS)}")
    if kind == 2:
        return "user", f"I really love {rng.choice(THINGS)}"
    if kind == 3:
        return "user", f"I'm allergic to {rng.choice(ALLERGENS)}"
    if kind == 4:
        day = 1 + i % 28
        return "user", f"On 2024-03-{day:02d} I went to {rng.choice(EVENTS)}"
    return "assistant", rng.choice(FILLER)


class Server:
    def __init__(self, mnemo, data):
        self.proc = subprocess.Popen([mnemo, "--data", data, "serve", "--port", "0", "--quiet"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise SystemExit(f"mnemo serve did not start: {line!r}")
        self.url = line.split("listening on", 1)[1].strip().rstrip("/")

    def call(self, method, path, body=None, timeout=600):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")

    def pending(self):
        """Jobs that can run now or soon (summaries wait for their session to go quiet)."""
        stats = self.call("GET", "/v1/spaces/s/jobs/stats")
        return stats["pending"] - stats["summaries_pending"]

    def stop(self):
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed after 120 s"
        return time.monotonic() - t0, rc


def time_adds(server, n, user):
    ms = []
    for i in range(n):
        t0 = time.monotonic()
        server.call("POST", "/v1/spaces/s/memories",
                    {"user": user, "text": f"note {i}: the parcel arrives on Tuesday"})
        ms.append((time.monotonic() - t0) * 1000)
    ms.sort()
    return ms


def describe(ms):
    return (f"p50 {statistics.median(ms):.1f} ms, p99 {ms[int(len(ms) * 0.99) - 1]:.1f} ms, "
            f"max {ms[-1]:.1f} ms ({len(ms)} adds)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnemo", default="build/mnemo")
    ap.add_argument("--turns", type=int, default=8000)
    ap.add_argument("--adds", type=int, default=50)
    ap.add_argument("--dir", default="/tmp/mnemo-backlog-bench")
    ap.add_argument("--write-jsonl", metavar="PATH",
                    help="only write --turns turns as `mnemo ingest` JSONL to PATH")
    a = ap.parse_args()
    if a.write_jsonl:
        rng = random.Random(7)
        with open(a.write_jsonl, "w") as out:
            for i in range(a.turns):
                role, text = turn(rng, i)
                out.write(json.dumps({"session": f"s{i // 200}", "role": role, "text": text}) + "\n")
        return
    shutil.rmtree(a.dir, ignore_errors=True)
    subprocess.run([a.mnemo, "--data", a.dir, "init"], check=True, stdout=subprocess.DEVNULL)
    server = Server(a.mnemo, a.dir)
    server.call("POST", "/v1/spaces", {"name": "s"})
    idle = time_adds(server, a.adds, "carol")

    rng = random.Random(7)
    messages = []
    for i in range(a.turns):
        role, text = turn(rng, i)
        messages.append({"session": f"s{i // 200}", "role": role, "text": text})
    print(f"ingesting {a.turns} turns...", file=sys.stderr)
    t0 = time.monotonic()
    for start in range(0, len(messages), 1000):  # the server's default max_batch
        server.call("POST", "/v1/spaces/s/ingest",
                    {"user": "alice", "messages": messages[start:start + 1000]})
    ingest_s = time.monotonic() - t0
    before = server.pending()
    busy = time_adds(server, a.adds, "bob")
    after = server.pending()
    print("| figure | measured | baseline (same run) |\n|---|---|---|")
    print(f"| POST /ingest of {a.turns} rule-triggering turns (one user, 1,000 per request) | "
          f"{ingest_s:.2f} s "
          f"({a.turns / ingest_s:.0f} turns/s), {before} jobs pending after it | — |")
    print(f"| single POST /memories of another user during the backlog | {describe(busy)}; "
          f"jobs pending {before} -> {after} | idle space: {describe(idle)} |")

    pending = server.pending()
    took, rc = server.stop()
    print(f"| SIGTERM with {pending} jobs pending | exited in {took:.2f} s (exit {rc}) | "
          f"target 10 s |")
    server = Server(a.mnemo, a.dir)
    resumed = server.pending()
    t0 = time.monotonic()
    while server.pending() > 0 and time.monotonic() - t0 < 600:
        time.sleep(0.5)
    left = server.pending()
    stats = server.call("GET", "/v1/spaces/s/jobs/stats")
    server.stop()
    print(f"| restart after SIGTERM | {resumed} jobs pending at start, {left} after "
          f"{time.monotonic() - t0:.1f} s; {stats.get('done', '?')} done, "
          f"{stats.get('dead', '?')} dead | — |")


if __name__ == "__main__":
    main()
