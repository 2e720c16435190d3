#!/usr/bin/env python3
"""Scenario tests of `mnemo keys create|list|revoke`: the real binary, via subprocess.

Usage: MNEMO_BIN=/path/to/mnemo python3 tests/scenario/keys_test.py [-v] [Class.test]

The contract checked here: the secret is printed once and never stored (keys.json holds
its SHA-256, mode 0600), list never shows secrets or hashes, errors exit 1 (bad input)
or 2 (unknown key), and the commands work while another process holds the engine's
directory lock (a running server).
"""

import fcntl
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnemo_harness import (EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_NOT_FOUND,  # noqa: E402
                           EXIT_OK, MnemoCase, require_binary_or_exit)

KEY_RE = re.compile(r"^mnemo_([0-9a-f]{8})_[0-9a-f]{64}$")
ID_RE = re.compile(r"^[0-9a-f]{8}$")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
LIST_FIELDS = {"id", "name", "created_at", "revoked_at", "grants", "user", "deny_labels"}


class KeysCase(MnemoCase):

    def keys_path(self):
        return os.path.join(self.data, "keys.json")

    def create(self, name="bot", *grants):
        args = ["keys", "create", "--name", name]
        for g in grants or ("notes:write",):
            args += ["--grant", g]
        out = self.ok(*args)
        self.assertEqual(set(out), {"id", "name", "key", "grants", "user", "deny_labels"}, out)
        return out

    def listed(self):
        out = self.ok("keys", "list")
        self.assertEqual(set(out), {"keys"}, out)
        for k in out["keys"]:
            self.assertEqual(set(k), LIST_FIELDS, k)
        return out["keys"]


class CreateListRevokeTest(KeysCase):

    def test_create_prints_the_key_once_with_its_grants(self):
        out = self.create("ci bot", "notes:write", "*:read")
        m = KEY_RE.match(out["key"])
        self.assertTrue(m, out)
        self.assertEqual(m.group(1), out["id"])
        self.assertEqual(out["name"], "ci bot")
        self.assertEqual(out["grants"], {"notes": "write", "*": "read"})

        keys = self.listed()
        self.assertEqual(len(keys), 1)
        k = keys[0]
        self.assertEqual(k["id"], out["id"])
        self.assertEqual(k["name"], "ci bot")
        self.assertRegex(k["created_at"], ISO_UTC)
        self.assertIsNone(k["revoked_at"])
        self.assertEqual(k["grants"], {"notes": "write", "*": "read"})

    def test_list_never_shows_secrets_or_hashes(self):
        out = self.create("a", "s:read")
        secret = out["key"]
        digest = hashlib.sha256(secret.encode()).hexdigest()
        for json_mode in (True, False):
            r = self.run_mnemo("keys", "list", json_mode=json_mode)
            self.assertEqual(r.rc, EXIT_OK, r.describe())
            self.assertNotIn(secret, r.out)
            self.assertNotIn(secret[15:], r.out)
            self.assertNotIn(digest, r.out)
            self.assertNotIn("hash", r.out)

    def test_several_keys_listed_in_creation_order(self):
        ids = [self.create("k%d" % i, "s%d:read" % i)["id"] for i in range(3)]
        self.assertEqual(len(set(ids)), 3)
        keys = self.listed()
        self.assertEqual([k["id"] for k in keys], ids)
        self.assertEqual([k["name"] for k in keys], ["k0", "k1", "k2"])
        self.assertEqual([k["grants"] for k in keys],
                         [{"s0": "read"}, {"s1": "read"}, {"s2": "read"}])

    def test_revoke(self):
        a = self.create("a")
        b = self.create("b")
        out = self.ok("keys", "revoke", a["id"])
        self.assertEqual(set(out), {"id", "name", "revoked", "revoked_at", "active_keys"}, out)
        self.assertIs(out["active_keys"], True)
        self.assertEqual(out["id"], a["id"])
        self.assertEqual(out["name"], "a")
        self.assertIs(out["revoked"], True)
        self.assertRegex(out["revoked_at"], ISO_UTC)
        keys = {k["id"]: k for k in self.listed()}
        self.assertEqual(keys[a["id"]]["revoked_at"], out["revoked_at"])
        self.assertIsNone(keys[b["id"]]["revoked_at"])
        # Revoking again succeeds and keeps the first time.
        again = self.ok("keys", "revoke", a["id"])
        self.assertEqual(again["revoked_at"], out["revoked_at"])

    def test_revoking_the_last_key_says_how_to_go_on_and_reset_does_it(self):
        a = self.create("a")
        self.fails(EXIT_BAD_INPUT, "keys", "reset", contains=(a["id"], "still active"))
        out = self.run_mnemo("keys", "revoke", a["id"], json_mode=False)
        self.assertEqual(out.rc, EXIT_OK, out.describe())
        self.assertIn("no active API key remains", out.out)
        self.assertIn("mnemo keys reset", out.out)
        self.assertEqual(self.ok("keys", "reset"), {"forgotten": 1})
        self.assertEqual(self.listed(), [])
        self.assertEqual(self.ok("keys", "reset"), {"forgotten": 0})

    def test_a_key_bound_to_an_end_user(self):
        out = self.ok("keys", "create", "--name", "alice app", "--grant", "notes:write",
                      "--user", "alice")
        self.assertEqual(out["user"], "alice")
        self.assertEqual(self.listed()[0]["user"], "alice")
        human = self.run_mnemo("keys", "list", json_mode=False)
        self.assertIn("user=alice", human.out)
        for bad in ("", "x" * 257, "a\tb"):
            with self.subTest(user=bad):
                self.fails(EXIT_BAD_INPUT, "keys", "create", "--name", "b", "--grant",
                           "notes:read", "--user", bad, contains=("--user",))
        self.assertEqual(len(self.listed()), 1)

    def test_a_key_denied_sensitivity_labels(self):
        out = self.ok("keys", "create", "--name", "coach", "--grant", "notes:read",
                      "--deny-labels", "health,religion")
        self.assertEqual(out["deny_labels"], ["health", "religion"])
        self.assertEqual(self.listed()[0]["deny_labels"], ["health", "religion"])
        human = self.run_mnemo("keys", "list", json_mode=False)
        self.assertIn("deny=health,religion", human.out)
        stored = json.loads(self.read_bytes(self.keys_path()))
        self.assertEqual(stored["keys"][0]["deny_labels"], ["health", "religion"])
        for bad in ("medical", "health,", ""):
            with self.subTest(labels=bad):
                self.fails(EXIT_BAD_INPUT, "keys", "create", "--name", "b", "--grant",
                           "notes:read", "--deny-labels", bad, contains=("--deny-labels",))
        self.assertEqual(len(self.listed()), 1)

    def test_revoke_by_the_key_itself(self):
        a = self.create("leaked")
        out = self.ok("keys", "revoke", a["key"])
        self.assertEqual(out["id"], a["id"])
        self.assertIsNotNone(self.listed()[0]["revoked_at"])

    def test_revoke_unknown_id_is_not_found(self):
        self.create("a")
        before = self.read_bytes(self.keys_path())
        self.fails(EXIT_NOT_FOUND, "keys", "revoke", "deadbeef", contains="deadbeef")
        self.fails(EXIT_NOT_FOUND, "keys", "revoke", "nope", contains="nope")
        self.assertEqual(self.read_bytes(self.keys_path()), before)

    def test_empty_list(self):
        self.assertEqual(self.listed(), [])
        r = self.ok("keys", "list", json_mode=False)
        self.assertIn("no API keys", r.out)
        self.assertFalse(os.path.exists(self.keys_path()), "list must not create the file")

    def test_human_output(self):
        r = self.ok("keys", "create", "--name", "laptop", "--grant", "notes:admin",
                    json_mode=False)
        m = re.search(r"mnemo_[0-9a-f]{8}_[0-9a-f]{64}", r.out)
        self.assertTrue(m, r.describe())
        key_id = m.group(0)[6:14]
        self.assertIn(key_id, r.out)
        self.assertIn("once", r.out.lower())
        self.assertIn("notes:admin", r.out)
        listing = self.ok("keys", "list", json_mode=False).out
        self.assertIn(key_id, listing)
        self.assertIn("laptop", listing)
        self.assertIn("active", listing)
        self.assertNotIn(m.group(0), listing)
        rev = self.ok("keys", "revoke", key_id, json_mode=False).out
        self.assertIn("revoked", rev)
        self.assertIn(key_id, rev)
        self.assertIn("revoked", self.ok("keys", "list", json_mode=False).out)


class StorageTest(KeysCase):

    def test_only_the_hash_is_stored_with_private_mode(self):
        out = self.create("a", "notes:write")
        text = self.read_bytes(self.keys_path()).decode()
        self.assertNotIn(out["key"], text)
        self.assertNotIn(out["key"][15:], text)
        doc = json.loads(text)
        self.assertEqual(doc["format"], "mnemo-keys")
        self.assertEqual(doc["version"], 1)
        [rec] = doc["keys"]
        self.assertEqual(rec["id"], out["id"])
        self.assertEqual(rec["hash"], hashlib.sha256(out["key"].encode()).hexdigest())
        self.assertEqual(rec["grants"], {"notes": "write"})
        self.assertIsNone(rec["revoked_at"])
        mode = stat.S_IMODE(os.stat(self.keys_path()).st_mode)
        self.assertEqual(mode, 0o600, oct(mode))
        self.assertFalse(os.path.exists(self.keys_path() + ".tmp"))

    def test_keys_live_outside_every_space(self):
        self.create("a", "*:admin")
        self.assertEqual(self.ok("space", "list"), {"spaces": []})
        self.assertEqual(os.listdir(os.path.join(self.data, "spaces")), [])

    def test_works_while_a_server_holds_the_directory_lock(self):
        lock = open(os.path.join(self.data, "LOCK"), "a+")
        self.addCleanup(lock.close)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # The engine is locked out (as by a running server) ...
        self.fails(EXIT_BAD_INPUT, "space", "list", contains="in use")
        # ... the keys commands are not.
        out = self.create("while-serving")
        self.assertEqual([k["id"] for k in self.listed()], [out["id"]])
        self.ok("keys", "revoke", out["id"])

    def test_corrupt_file_is_an_error_and_left_alone(self):
        self.create("a")
        good = json.loads(self.read_bytes(self.keys_path()))
        good["keys"][0]["id"] = "ZZ"
        bad = json.dumps(good).encode()
        self.write_file(os.path.join(self.data, "keys.json"), bad)
        for args in (["keys", "list"], ["keys", "create", "--name", "b", "--grant", "s:read"],
                     ["keys", "revoke", "00000000"]):
            with self.subTest(args=args):
                self.fails(EXIT_INTERNAL, *args, contains=("keys.json", "key 1", '"id"'))
        self.assertEqual(self.read_bytes(self.keys_path()), bad)

    def test_concurrent_creates_lose_no_key(self):
        procs = [subprocess.Popen(
            [self.bin, "--data", self.data, "--json", "keys", "create", "--name", "p%d" % i,
             "--grant", "s:read"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for i in range(8)]
        ids = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err.decode())
            ids.append(json.loads(out)["id"])
        listed = self.listed()
        self.assertEqual(sorted(k["id"] for k in listed), sorted(ids))
        self.assertEqual(sorted(k["name"] for k in listed), sorted("p%d" % i for i in range(8)))


class BadInputTest(KeysCase):

    def test_bad_grants_are_rejected(self):
        cases = [
            (["notes"], "SPACE:ROLE"),
            (["notes:"], "role"),
            (["notes:owner"], "owner"),
            (["notes:READ"], "READ"),
            ([":read"], "space name"),
            (["../x:read"], "../x"),
            ([".hidden:read"], ".hidden"),
            (["has space:read"], "has space"),
            (["x" * 65 + ":read"], "space name"),
            (["notes:read", "notes:write"], "twice"),
        ]
        for grants, needle in cases:
            args = ["keys", "create", "--name", "k"]
            for g in grants:
                args += ["--grant", g]
            with self.subTest(grants=grants):
                self.fails(EXIT_BAD_INPUT, *args, contains=needle)
        self.assertFalse(os.path.exists(self.keys_path()), "rejected creates write nothing")

    def test_valid_grant_edge_cases(self):
        out = self.create("edge", "*:admin", "x" * 64 + ":read", "A-b_c.9:write")
        self.assertEqual(out["grants"],
                         {"*": "admin", "x" * 64: "read", "A-b_c.9": "write"})

    def test_missing_options_are_usage_errors(self):
        self.fails(EXIT_BAD_INPUT, "keys", "create", "--name", "k", contains="grant")
        self.fails(EXIT_BAD_INPUT, "keys", "create", "--grant", "s:read", contains="name")
        self.fails(EXIT_BAD_INPUT, "keys", "revoke")
        self.fails(EXIT_BAD_INPUT, "keys")

    def test_bad_names_are_rejected(self):
        for name in ["", "n" * 101, "tab\there"]:
            with self.subTest(name=name):
                self.fails(EXIT_BAD_INPUT, "keys", "create", "--name", name, "--grant",
                           "s:read", contains="name")
        self.assertFalse(os.path.exists(self.keys_path()))


class UninitialisedTest(KeysCase):
    INIT = False

    def test_keys_need_an_initialised_data_directory(self):
        for args in (["keys", "list"], ["keys", "create", "--name", "k", "--grant", "s:read"],
                     ["keys", "revoke", "deadbeef"]):
            with self.subTest(args=args):
                self.fails(EXIT_BAD_INPUT, *args, contains=("init", self.data))
        self.assertFalse(os.path.exists(self.data), "a failed command must not create it")

    def test_text_mode_error_on_stderr_only(self):
        r = self.fails(EXIT_BAD_INPUT, "keys", "list", json_mode=False, contains="init")
        self.assertEqual(r.out, "")


if __name__ == "__main__":
    require_binary_or_exit()
    unittest.main()
