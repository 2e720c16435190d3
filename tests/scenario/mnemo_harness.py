"""Shared helpers for the mnemo scenario and crash tests.

Every test drives the real `mnemo` binary (path in the MNEMO_BIN environment variable)
through subprocess, in a fresh temporary data directory.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_NOT_FOUND = 2
EXIT_INTERNAL = 3


def mnemo_bin():
    """The binary under test; fails loudly when MNEMO_BIN is unset or wrong."""
    path = os.environ.get("MNEMO_BIN", "")
    if not path:
        raise RuntimeError(
            "MNEMO_BIN is not set: point it at the mnemo binary, e.g. "
            "MNEMO_BIN=build/mnemo python3 tests/scenario/cli_test.py")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError("MNEMO_BIN=%r is not an executable file" % path)
    return path


def require_binary_or_exit():
    try:
        mnemo_bin()
    except RuntimeError as e:
        sys.stderr.write("error: %s\n" % e)
        sys.exit(2)


def _arg(a):
    return a if isinstance(a, bytes) else str(a)


class Run:
    """The outcome of one mnemo invocation."""

    def __init__(self, argv, proc):
        self.argv = argv
        self.rc = proc.returncode
        self.out_bytes = proc.stdout
        self.err_bytes = proc.stderr
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")

    def describe(self):
        shown = [a.decode("utf-8", "backslashreplace") if isinstance(a, bytes) else a
                 for a in self.argv]
        return "command: %s\nexit code: %s\nstdout: %s\nstderr: %s" % (
            " ".join(repr(a) if " " in a else a for a in shown), self.rc,
            self.out[:3000], self.err[:3000])

    def json(self):
        """stdout as one JSON document."""
        return json.loads(self.out)

    def json_lines(self):
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


class MnemoCase(unittest.TestCase):
    """A test with its own data directory (initialised unless INIT is False)."""

    INIT = True
    maxDiff = None

    def setUp(self):
        self.bin = mnemo_bin()
        self.tmp = tempfile.mkdtemp(prefix="mnemo-scn-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.data = os.path.join(self.tmp, "data")
        if self.INIT:
            self.ok("init")

    # -- running ---------------------------------------------------------------

    def run_mnemo(self, *args, stdin=None, json_mode=True, data=None, timeout=120):
        argv = [self.bin, "--data", data or self.data]
        if json_mode:
            argv.append("--json")
        argv += [_arg(a) for a in args]
        if isinstance(stdin, str):
            stdin = stdin.encode("utf-8")
        proc = subprocess.run(argv, input=stdin if stdin is not None else b"",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return Run(argv, proc)

    def ok(self, *args, **kw):
        """Runs a command that must succeed; returns its JSON output."""
        r = self.run_mnemo(*args, **kw)
        self.assertEqual(r.rc, EXIT_OK, "expected success\n" + r.describe())
        if kw.get("json_mode", True) is False:
            return r
        try:
            return r.json()
        except ValueError:
            self.fail("stdout is not one JSON document\n" + r.describe())

    def fails(self, rc, *args, contains=(), **kw):
        """Runs a command that must fail with exit code `rc`. In JSON mode the error is
        {"error":{"code","message"}} on stdout and the message is repeated on stderr.
        Each string of `contains` must appear in the message (case-insensitive)."""
        r = self.run_mnemo(*args, **kw)
        self.assertEqual(r.rc, rc, "expected exit code %d\n%s" % (rc, r.describe()))
        self.assertTrue(r.err.strip(), "no message on stderr\n" + r.describe())
        message = r.err
        if kw.get("json_mode", True):
            try:
                body = r.json()
            except ValueError:
                self.fail("error output is not one JSON document\n" + r.describe())
            self.assertIn("error", body, r.describe())
            self.assertIsInstance(body["error"].get("code"), str, r.describe())
            self.assertTrue(body["error"]["code"], r.describe())
            self.assertIsInstance(body["error"].get("message"), str, r.describe())
            message = body["error"]["message"]
            self.assertIn(message, r.err, "stderr does not carry the message\n" + r.describe())
        if isinstance(contains, str):
            contains = (contains,)
        for needle in contains:
            self.assertIn(needle.lower(), message.lower(),
                          "error message lacks %r\n%s" % (needle, r.describe()))
        return r

    # -- shortcuts -------------------------------------------------------------

    def create_space(self, name="s"):
        self.assertEqual(self.ok("space", "create", name), {"space": name, "created": True})
        return name

    def add(self, space, user, text, *opts):
        out = self.ok("add", "--space", space, "--user", user, *opts, text)
        self.assertEqual(set(out), {"id"}, out)
        self.assertIsInstance(out["id"], int)
        self.assertGreater(out["id"], 0)
        return out["id"]

    def ingest(self, space, user, lines, via_stdin=True):
        """Ingests JSONL (a list of dicts or raw strings); returns the JSON output."""
        text = "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)
        if via_stdin:
            return self.ok("ingest", "--space", space, "--user", user, "-", stdin=text)
        path = self.write_file("ingest.jsonl", text)
        return self.ok("ingest", "--space", space, "--user", user, path)

    def list_all(self, space, *filters):
        """Every memory matching the filters, over all pages (page size 1000)."""
        out, cursor = [], None
        for _ in range(1000):
            args = ["list", "--space", space, "--limit", "1000", *filters]
            if cursor:
                args += ["--cursor", cursor]
            page = self.ok(*args)
            out += page["memories"]
            cursor = page["next_cursor"]
            if cursor is None:
                return out
        self.fail("list never ended")

    def texts(self, space, *filters):
        return [m["text"] for m in self.list_all(space, *filters)]

    def search(self, space, query, *opts):
        # QUERY goes first: a repeatable option (--tag, --kind, --meta-eq) directly before
        # the query is a separate, dedicated test (SearchTest.test_repeatable_filter_...).
        out = self.ok("search", "--space", space, query, *opts)
        self.assertEqual(set(out), {"results"}, out)
        return out["results"]

    def stats(self, space):
        return self.ok("stats", "--space", space)

    def store_state(self, space):
        """What must not change when a command is rejected: stats (without the file
        sizes, which SQLite may change by merely opening the database) and every memory
        including retired ones."""
        st = self.stats(space)
        st.pop("db_bytes", None)
        st.pop("index_bytes", None)
        # vectors move from pending to indexed in the background: compare the sum.
        vectors = st.pop("vectors_indexed") + st.pop("vectors_pending")
        st["vectors_total"] = vectors
        return st, self.list_all(space, "--include-retired")

    def write_file(self, name, content):
        path = os.path.join(self.tmp, name)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)
        return path

    def read_bytes(self, path):
        with open(path, "rb") as f:
            return f.read()

    def all_data_files(self):
        """(path, bytes) of every regular file under the data directory."""
        out = []
        for root, _dirs, files in os.walk(self.data):
            for name in files:
                p = os.path.join(root, name)
                if os.path.isfile(p):
                    out.append((p, self.read_bytes(p)))
        return out
