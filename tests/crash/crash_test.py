#!/usr/bin/env python3
"""Crash tests: mnemo processes are killed with SIGKILL in the middle of writing, and what
was acknowledged must survive, what was not must be all-or-nothing, and the next open must
work (no stale lock, the vector index replayed from the durable log).

Usage: MNEMO_BIN=/path/to/mnemo python3 tests/crash/crash_test.py [-v]
"""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(HERE, "..", "scenario"))
from mnemo_harness import EXIT_BAD_INPUT, EXIT_OK, MnemoCase, require_binary_or_exit  # noqa: E402

BIG_INGEST = 20000

# The child: adds memories one `mnemo add` at a time and acknowledges each committed one
# on stdout ("ACK <n> <id>") only after mnemo exited 0 and printed the id.
ADD_DRIVER = r"""
import json, subprocess, sys
binary, data, space, prefix, start = sys.argv[1:6]
n = int(start)
while True:
    text = "%s %d zebra%d" % (prefix, n, n)
    p = subprocess.run([binary, "--data", data, "--json", "add", "--space", space,
                        "--user", "writer", "--session", "loop", text],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.stdout.write("FAIL %d %d %s\n" % (n, p.returncode, p.stderr.decode(errors="replace").strip()))
        sys.stdout.flush()
        sys.exit(1)
    sys.stdout.write("ACK %d %d\n" % (n, json.loads(p.stdout)["id"]))
    sys.stdout.flush()
    n += 1
"""


def ingest_text(tag, i):
    # Ends with a word no other memory has: "<tag>x<i>".
    return "%s message %d about subject %d %sx%d" % (tag, i, i % 101, tag, i)


def big_ingest_input(tag, n=BIG_INGEST):
    return "".join(
        json.dumps({"session": "%s-%d" % (tag, i // 500), "role": "user",
                    "text": ingest_text(tag, i)}) + "\n"
        for i in range(n)).encode()


def flock_holders(path):
    """PIDs holding a flock on `path`, from /proc/locks (read-only: never takes the lock)."""
    inode = os.stat(path).st_ino
    pids = set()
    with open("/proc/locks") as f:
        for line in f:
            parts = line.split()
            if "->" in parts:
                continue  # a waiter, not a holder
            if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].split(":")[-1] == str(inode):
                pids.add(int(parts[4]))
    return pids


class CrashCase(MnemoCase):

    def setUp(self):
        super().setUp()
        self.create_space("c")
        self.lock_path = os.path.join(self.data, "LOCK")
        self.db_path = os.path.join(self.data, "spaces", "c", "space.db")

    def start(self, *args, stdin_bytes=None):
        argv = [self.bin, "--data", self.data, "--json", *args]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.addCleanup(self._reap, p)
        if stdin_bytes is not None:
            threading.Thread(target=self._feed, args=(p, stdin_bytes), daemon=True).start()
        return p

    @staticmethod
    def _feed(p, data):
        try:
            p.stdin.write(data)
            p.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    @staticmethod
    def _reap(p):
        if p.poll() is None:
            p.kill()
        p.wait()
        for stream in (p.stdin, p.stdout, p.stderr):
            if stream:
                stream.close()

    def committed_count(self):
        """Memories visible to a reader of the space's database (documented in engine.h as
        DIR/spaces/NAME/space.db, SQLite in WAL mode); used only to time the kill."""
        try:
            con = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=0.05)
            try:
                return con.execute("SELECT count(*) FROM memories").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return None

    def check_consistent(self, space="c"):
        """Reopens twice: counts agree, every memory has exactly one vector."""
        st1 = self.stats(space)
        st2 = self.stats(space)
        for st in (st1, st2):
            self.assertEqual(st["vectors_indexed"] + st["vectors_pending"],
                             st["memories_active"] + st["memories_retired"], st)
        self.assertEqual(st1["memories_active"], st2["memories_active"])
        return st2

    def assert_last_memory_searchable(self, space="c", user="writer"):
        """The newest memory is found by its unique last word (lexical index intact) and
        by vector search alone on its text (which, after a crash, needs the vector index
        to have been replayed from the durable log)."""
        last = self.ok("list", "--space", space, "--desc", "--limit", "1", "--user", user)
        last = last["memories"][0]
        token = last["text"].split()[-1]
        hits = self.search(space, token, "--user", user, "--k", "5", "--explain")
        self.assertIn(last["id"], [h["id"] for h in hits], hits)
        hit = [h for h in hits if h["id"] == last["id"]][0]
        lexical = [e for e in hit["explain"] if e["signal"] == "lexical"][0]
        self.assertEqual(lexical["rank"], 1, "the unique word %r is not indexed" % token)
        hits = self.search(space, last["text"], "--user", user, "--k", "3",
                           "--lexical-weight", "0")
        self.assertTrue(hits, "vector search found nothing")
        self.assertEqual(hits[0]["id"], last["id"],
                         "vector search misses the last memory: the index was not replayed")
        return last


class AckedWritesSurviveTest(CrashCase):

    def run_add_loop_and_kill(self, start, prefix, min_acks):
        drv = subprocess.Popen([sys.executable, "-c", ADD_DRIVER, self.bin, self.data, "c",
                                prefix, str(start)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
        self.addCleanup(self._reap, drv)
        acks = []
        reader_done = threading.Event()

        def read():
            for raw in drv.stdout:
                line = raw.decode()
                if line.endswith("\n"):
                    acks.append(line.split())
            reader_done.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.time() + 30
        while len([a for a in acks if a[0] == "ACK"]) < min_acks and drv.poll() is None:
            self.assertLess(time.time(), deadline, "the add loop made no progress")
            time.sleep(0.005)
        # Land the kill at a random point of an add in flight.
        time.sleep(random.uniform(0, 0.05))
        os.killpg(drv.pid, signal.SIGKILL)
        drv.wait()
        # The killed `mnemo add` (a grandchild) may still be dying: its flock goes away
        # when the kernel has closed its files.
        deadline = time.time() + 10
        while flock_holders(self.lock_path):
            self.assertLess(time.time(), deadline, "a killed process never released the lock")
            time.sleep(0.002)
        reader_done.wait(10)
        failures = [a for a in acks if a[0] != "ACK"]
        self.assertEqual(failures, [], "an add failed before the kill")
        return {int(a[1]): int(a[2]) for a in acks}

    def test_acknowledged_adds_survive_sigkill_of_the_writer(self):
        acked = {}  # n -> id
        next_n = 0
        for round_no in range(4):
            got = self.run_add_loop_and_kill(next_n, "acked memory", min_acks=3 + round_no)
            self.assertTrue(got, "no add was acknowledged")
            self.assertEqual(sorted(got), list(range(next_n, next_n + len(got))))
            acked.update(got)
            in_flight = next_n + len(got)  # the add that was running when the kill landed

            # Every acknowledged write is there, with its id.
            mems = self.list_all("c")
            by_text = {m["text"]: m["id"] for m in mems}
            for n, mid in acked.items():
                self.assertEqual(by_text.get("acked memory %d zebra%d" % (n, n)), mid,
                                 "acknowledged memory %d lost after SIGKILL" % n)
            # Nothing else but, possibly, the one in flight (committed, not acknowledged).
            extra = set(by_text) - {"acked memory %d zebra%d" % (n, n) for n in acked}
            self.assertLessEqual(extra, {"acked memory %d zebra%d" % (in_flight, in_flight)},
                                 "unexpected memories after the crash")
            next_n = in_flight + (1 if extra else 0)
            if extra:
                acked[in_flight] = by_text.pop(extra.pop())
            st = self.check_consistent()
            self.assertEqual(st["memories_active"], len(acked))
            self.assertEqual(st["history_entries"], len(acked))

        for n in sorted(acked)[-3:] + [min(acked)]:
            got = self.ok("get", "--space", "c", str(acked[n]))
            self.assertEqual(got["text"], "acked memory %d zebra%d" % (n, n))
        last_n = max(acked)
        hits = self.search("c", "zebra%d" % last_n)
        self.assertEqual(hits[0]["id"], acked[last_n])
        self.assert_last_memory_searchable()


class IngestKillTest(CrashCase):

    def test_ingest_killed_mid_transaction_is_all_or_nothing(self):
        base_ids = [self.add("c", "writer", "before the crash %d" % i) for i in range(3)]
        wal = self.db_path + "-wal"
        outcome = None
        for attempt in range(3):
            p = self.start("ingest", "--space", "c", "--user", "writer", "-",
                           stdin_bytes=big_ingest_input("bulk%d" % attempt))
            # Wait until the ingest holds the data directory and its transaction is being
            # written to the WAL, then kill it.
            killed_mid_write = False
            held_lock = False
            while p.poll() is None:
                if os.path.exists(self.lock_path) and p.pid in flock_holders(self.lock_path):
                    held_lock = True
                try:
                    size = os.path.getsize(wal)
                except OSError:
                    size = 0
                if held_lock and size > 32:
                    p.send_signal(signal.SIGKILL)
                    killed_mid_write = True
                    break
                time.sleep(0.0005)
            p.wait()
            if killed_mid_write and p.returncode == -signal.SIGKILL:
                outcome = attempt
                break
            # The ingest finished before the kill landed: undo nothing, try again.
        self.assertIsNotNone(outcome, "could not kill the ingest while it was writing")
        # The killed process held the lock; it died with it.
        self.assertEqual(flock_holders(self.lock_path) & {p.pid}, set())

        st = self.check_consistent()
        texts = self.texts("c", "--user", "writer")
        tag = "bulk%d " % outcome
        ingested = sum(1 for t in texts if t.startswith(tag))
        completed = sum(1 for t in texts if t.startswith("bulk") and not t.startswith(tag))
        self.assertIn(ingested, (0, BIG_INGEST), "a killed ingest must be all or nothing")
        self.assertEqual(st["memories_active"], 3 + completed + ingested)
        for mid in base_ids:
            self.assertEqual(self.ok("get", "--space", "c", str(mid))["user"], "writer")
        # The store still takes writes and finds them.
        fresh = self.add("c", "writer", "written after the crash quokka")
        self.assertEqual(self.search("c", "quokka")[0]["id"], fresh)
        self.assert_last_memory_searchable()

    def test_ingest_killed_after_commit_is_complete_and_index_replayed(self):
        n = 4000
        # Kill as soon as the commit is visible to a reader, before the process snapshots
        # its vector index and closes cleanly: reopening must then replay the index log.
        # (Retried in a new space if the kill came too late to leave the snapshot stale.)
        for attempt in range(3):
            space = "late%d" % attempt
            self.create_space(space)
            self.db_path = os.path.join(self.data, "spaces", space, "space.db")
            self.add(space, "writer", "before the crash")
            idx = os.path.join(self.data, "spaces", space, "vectors.idx")
            snapshot_before = os.stat(idx).st_mtime_ns if os.path.exists(idx) else None
            p = self.start("ingest", "--space", space, "--user", "writer", "-",
                           stdin_bytes=big_ingest_input("late", n))
            deadline = time.time() + 60
            while p.poll() is None and time.time() < deadline:
                if self.committed_count() == n + 1:
                    p.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.001)
            p.wait()
            snapshot_after = os.stat(idx).st_mtime_ns if os.path.exists(idx) else None
            if p.returncode == -signal.SIGKILL and snapshot_after == snapshot_before:
                break
        else:
            self.fail("could not kill the ingest between its commit and its snapshot")

        st = self.check_consistent(space)
        self.assertEqual(st["memories_active"], n + 1, "a committed ingest must survive")
        self.assertEqual(st["links"], n - n // 500, "session links lost")
        last = self.assert_last_memory_searchable(space)
        self.assertEqual(last["text"], ingest_text("late", n - 1))
        # Every vector of the ingest is in the index: vector-only search finds a sample.
        for i in (0, n // 2, n - 2):
            text = ingest_text("late", i)
            hits = self.search(space, text, "--user", "writer", "--lexical-weight", "0", "--k", "5")
            self.assertIn(text, [h["text"] for h in hits], "vector of %r missing" % text)


class StaleLockTest(CrashCase):

    def test_kill_while_holding_the_data_dir_leaves_no_stale_lock(self):
        self.add("c", "writer", "kept across the crash")
        p = self.start("ingest", "--space", "c", "--user", "writer", "-",
                       stdin_bytes=big_ingest_input("held"))
        deadline = time.time() + 30
        while p.poll() is None and p.pid not in flock_holders(self.lock_path):
            self.assertLess(time.time(), deadline, "the ingest never took the lock")
            time.sleep(0.001)
        self.assertIsNone(p.poll(), "the ingest finished before it could be observed")
        # While it holds the directory, another process is refused with a clear message.
        r = self.run_mnemo("stats", "--space", "c")
        if p.poll() is None:
            self.assertEqual(r.rc, EXIT_BAD_INPUT, r.describe())
            self.assertIn("in use", r.err, r.describe())
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertEqual(p.returncode, -signal.SIGKILL)
        self.assertTrue(os.path.exists(self.lock_path), "the lock file stays; only the flock dies")
        self.assertEqual(flock_holders(self.lock_path), set())
        # The next open succeeds at once.
        st = self.check_consistent()
        self.assertIn(st["memories_active"], (1, 1 + BIG_INGEST))
        self.assertEqual(self.texts("c", "--user", "writer")[0], "kept across the crash")
        self.add("c", "writer", "after the crash")


if __name__ == "__main__":
    require_binary_or_exit()
    unittest.main()
