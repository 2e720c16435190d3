#!/usr/bin/env python3
"""`mnemo profile` and `mnemo context` from the CLI: the profile the rules maintain, edits
that supersede with history, and the prompt-ready block within its token budget. Then the
lifecycle: expiry, recalls saved by `mnemo maintain`, tiers and the archive filter."""
import datetime
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnemo_harness import EXIT_BAD_INPUT, EXIT_NOT_FOUND, MnemoCase, require_binary_or_exit  # noqa: E402

CONVERSATION = [
    {"session": "s1", "role": "user", "speaker": "Maya", "time": "2023-05-10T10:00:00Z",
     "text": "I moved to Lisbon. I love surfing."},
    {"session": "s1", "role": "assistant", "time": "2023-05-10T10:00:05Z",
     "text": "Lovely! Any plans?"},
    {"session": "s2", "role": "user", "speaker": "Maya", "time": "2023-05-17T09:00:00Z",
     "text": "I booked a surf lesson for Saturday. I am allergic to peanuts."},
    {"session": "s3", "role": "user", "speaker": "Maya", "time": "2023-06-20T09:00:00Z",
     "text": "The surf lesson was cancelled because of the storm."},
]


class ContextCli(MnemoCase):
    def setUp(self):
        super().setUp()
        self.create_space("s")
        self.ingest("s", "maya", CONVERSATION)  # the rules derive before it returns

    def profile(self, *args):
        return self.ok("profile", "--space", "s", "--user", "maya", *args)

    def test_profile_and_edits(self):
        p = self.profile()
        self.assertEqual(p["user"], "maya")
        by_key = {e["key"]: e for e in p["entries"]}
        self.assertEqual(by_key["home_city"]["value"], "lisbon")
        self.assertEqual(by_key["home_city"]["since"], "2023-05-10T10:00:00Z")
        self.assertIn("allergy:peanuts", by_key)
        self.assertEqual(by_key["likes:surfing"]["kind"], "preference")
        self.assertFalse(by_key["home_city"]["edited"])
        lisbon = by_key["home_city"]["memory_id"]

        p = self.profile("--edit", "home_city=Porto", "--unset", "allergy:peanuts",
                         "--reason", "she moved")
        by_key = {e["key"]: e for e in p["entries"]}
        self.assertEqual((by_key["home_city"]["value"], by_key["home_city"]["edited"]),
                         ("Porto", True))
        self.assertNotIn("allergy:peanuts", by_key)
        old = self.ok("get", "--space", "s", lisbon)
        self.assertEqual(old["state"], "retired")
        self.assertIsNotNone(old["valid_to"])
        history = self.ok("history", "--space", "s", lisbon)["history"]
        self.assertIn("she moved", history[-1]["reason"])
        self.assertEqual(len(self.profile("--limit", "1")["entries"]), 1)

        self.fails(EXIT_BAD_INPUT, "profile", "--space", "s", "--user", "maya", "--edit", "x",
                   contains="KEY=VALUE")
        self.fails(EXIT_BAD_INPUT, "profile", "--space", "s", "--user", "maya", "--edit",
                   "bad\x01key=1", contains="invalid profile key")
        self.fails(EXIT_NOT_FOUND, "profile", "--space", "s", "--user", "maya", "--unset",
                   "diet", contains="no profile entry")
        self.fails(EXIT_BAD_INPUT, "profile", "--space", "s", "--user", "maya", "--reason",
                   "why", contains="--edit or --unset")
        self.fails(EXIT_NOT_FOUND, "profile", "--space", "nope", "--user", "maya")

    def test_context_block(self):
        c = self.ok("context", "--space", "s", "--user", "maya", "--budget", "400",
                    "surf", "lesson")
        text = c["text"]
        self.assertTrue(text.startswith("# Memory of maya (now: "), text)
        self.assertIn("## Profile\n", text)
        self.assertIn("- Maya moved to Lisbon (since 2023-05-10)", text)
        self.assertLess(text.index("### Session s2 (2023-05-17)"),
                        text.index("### Session s3 (2023-06-20)"))
        self.assertIn("- [2023-06-20 09:00] Maya: The surf lesson was cancelled because of "
                      "the storm.", text)
        self.assertLessEqual(c["tokens"], 400)
        self.assertEqual(c["tokens"], (len(text.encode()) + 3) // 4)
        self.assertTrue(c["memories"])
        self.assertEqual(c["omitted"], 0)

        then = self.ok("context", "--space", "s", "--user", "maya", "--now",
                       "2023-06-01T00:00:00Z", "surf lesson")
        self.assertIn("(now: 2023-06-01 00:00 UTC)", then["text"])
        self.assertNotIn("cancelled", then["text"])

        tight = self.ok("context", "--space", "s", "--user", "maya", "--budget", "60",
                        "surf lesson")
        self.assertLessEqual(tight["tokens"], 60)
        self.assertGreater(tight["omitted"], 0)

        r = self.run_mnemo("context", "--space", "s", "--user", "maya", "surf", json_mode=False)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIn("## Relevant memories", r.out)

        self.fails(EXIT_BAD_INPUT, "context", "--space", "s", "--user", "maya", "--budget", "5",
                   "surf", contains="budget")
        self.fails(EXIT_BAD_INPUT, "context", "--space", "s", "--user", "maya", "--now", "soon",
                   "surf", contains="--now")

    def test_time_views(self):
        texts = lambda *a: [m["text"] for m in self.ok(
            "list", "--space", "s", "--user", "maya", "--kind", "fact", *a)["memories"]]
        self.ok("profile", "--space", "s", "--user", "maya", "--edit", "home_city=Porto")
        current = texts()
        self.assertIn("maya's home city: Porto", current)
        self.assertNotIn("Maya moved to Lisbon", current)
        history = texts("--include-history")
        self.assertIn("Maya moved to Lisbon", history)
        # True on 2023-06-01: Lisbon (superseded since), not the edit made today.
        then = texts("--valid-at", "2023-06-01T00:00:00Z")
        self.assertIn("Maya moved to Lisbon", then)
        self.assertNotIn("maya's home city: Porto", then)
        # Known before the edit: Lisbon; mnemo knew nothing in 2020.
        lisbon = [m for m in self.ok("list", "--space", "s", "--user", "maya",
                                     "--include-history")["memories"]
                  if m["text"] == "Maya moved to Lisbon"][0]
        known = texts("--as-of", lisbon["created_at"])
        self.assertIn("Maya moved to Lisbon", known)
        self.assertNotIn("maya's home city: Porto", known)
        self.assertEqual(texts("--as-of", "2020-01-01"), [])
        hits = self.ok("search", "--space", "s", "--user", "maya", "--valid-at",
                       "2023-06-01", "where", "does", "maya", "live")["results"]
        self.assertIn("Maya moved to Lisbon", [h["text"] for h in hits])
        self.fails(EXIT_BAD_INPUT, "list", "--space", "s", "--as-of", "yesterday",
                   contains="--as-of")



class LifecycleCli(MnemoCase):
    def setUp(self):
        super().setUp()
        self.create_space("s")

    def ids(self, *args):
        return [h["id"] for h in self.ok("search", "--space", "s", "--user", "u", *args)["results"]]

    def test_ttl_expiry_recalls_and_tiers(self):
        # The TTL leaves room for the commands before the first search even when each one is
        # slow (sanitizer builds); the wait after it runs to the expiry the engine recorded.
        temp = self.add("s", "u", "the alarm code is 9912 this week", "--ttl", "6s")
        keep = self.add("s", "u", "the alarm panel is by the back door")
        turn = self.add("s", "u", "hello from a conversation", "--session", "c1")
        got = self.ok("get", "--space", "s", temp)
        self.assertIsNotNone(got["expires_at"])
        self.assertEqual(self.ok("get", "--space", "s", turn)["tier"], "working")
        self.assertIn(temp, self.ids("alarm", "code"))
        expires = datetime.datetime.fromisoformat(got["expires_at"].replace("Z", "+00:00"))
        time.sleep(max(0.0, expires.timestamp() + 0.1 - time.time()))
        self.assertNotIn(temp, self.ids("alarm", "code"))  # expired: gone from every read
        self.assertEqual(self.ok("get", "--space", "s", temp)["state"], "retired")
        history = [m["id"] for m in self.ok("list", "--space", "s", "--user", "u",
                                            "--include-history")["memories"]]
        self.assertIn(temp, history)
        # The searches above were recalls, saved when each command closed the space.
        self.assertGreaterEqual(self.ok("get", "--space", "s", keep)["access_count"], 1)
        report = self.ok("maintain", "--space", "s")
        self.assertEqual(set(report), {"recalls", "expired", "purged", "to_short_term",
                                       "to_long_term", "archived", "unarchived"})
        stats = self.ok("stats", "--space", "s")
        self.assertEqual(stats["by_tier"].get("working"), 1)
        # The archive filter is accepted by list and search (nothing is archived here).
        self.assertEqual(len(self.ok("list", "--space", "s", "--user", "u",
                                     "--include-archived")["memories"]), 2)
        # A capacity of 1 per user archives the colder of the two short-term memories (the
        # never recalled one); the conversation turn's working set does not count.
        cold = self.add("s", "u", "an unrelated note about gardening")
        report = self.ok("--set", "lifecycle.user_capacity=1", "maintain", "--space", "s")
        self.assertEqual(report["archived"], 1)
        self.assertEqual(self.ok("get", "--space", "s", cold)["tier"], "archived")
        listed = self.ok("list", "--space", "s", "--user", "u")["memories"]
        self.assertEqual(sorted(m["id"] for m in listed), sorted([keep, turn]))
        self.assertEqual(len(self.ok("list", "--space", "s", "--user", "u",
                                     "--include-archived")["memories"]), 3)

    def test_bad_lifecycle_input(self):
        self.fails(EXIT_BAD_INPUT, "add", "--space", "s", "--user", "u", "--ttl", "soon", "x",
                   contains="--ttl")
        self.fails(EXIT_BAD_INPUT, "add", "--space", "s", "--user", "u", "--expires",
                   "2001-01-01T00:00:00Z", "x", contains="not in the future")
        self.fails(EXIT_BAD_INPUT, "add", "--space", "s", "--user", "u", "--ttl", "1d",
                   "--expires", "2099-01-01T00:00:00Z", "x", contains="not both")
        self.fails(EXIT_BAD_INPUT, "search", "--space", "s", "--user", "u",
                   "--retention-weight", "2", "x", contains="retention_weight")
        self.fails(EXIT_BAD_INPUT, "--set", "lifecycle.half_life_days=0", "maintain", "--space",
                   "s", contains="half_life_days")
        self.assertEqual(self.ok("stats", "--space", "s")["memories_active"], 0)


if __name__ == "__main__":
    require_binary_or_exit()
    unittest.main(verbosity=2)
