#!/usr/bin/env python3
"""The background pipeline from the CLI: rules without a model, `mnemo config show`,
`mnemo jobs`, provenance, and a chat model behind the fake OpenAI server
(mnemo-fake-openai, $MNEMO_FAKE_OPENAI) over loopback HTTP."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnemo_harness import MnemoCase, require_binary_or_exit  # noqa: E402

CONVERSATION = [
    {"session": "s1", "role": "user", "speaker": "Maya", "time": "2023-05-10T10:00:00Z",
     "text": "I moved to Lisbon last month. I love surfing."},
    {"session": "s1", "role": "assistant", "time": "2023-05-10T10:00:05Z",
     "text": "Lovely! How is the water?"},
    {"session": "s1", "role": "user", "speaker": "Maya", "time": "2023-05-10T10:01:00Z",
     "text": "Cold. I went to the vet yesterday with my cat."},
    {"session": "s2", "role": "user", "speaker": "Maya", "time": "2023-08-01T09:00:00Z",
     "text": "I moved to Porto."},
]


class FakeOpenAi:
    def __init__(self, chat_contents, tmp):
        path = os.path.join(tmp, "chat.json")
        with open(path, "w") as f:
            json.dump(chat_contents, f)
        self.log = os.path.join(tmp, "fake.log")
        self.proc = subprocess.Popen(
            [os.environ["MNEMO_FAKE_OPENAI"], "--port", "0", "--dim", "32",
             "--chat-file", path, "--log", self.log],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://"), line
        self.url = line.split("listening on ", 1)[1] + "/v1"

    def requests(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        self.proc.terminate()
        self.proc.communicate(timeout=10)


class PipelineCli(MnemoCase):
    def test_rules_derive_preferences_facts_and_dates_and_a_contradiction_supersedes(self):
        self.create_space("s")
        self.ingest("s", "maya", CONVERSATION)
        derived = self.list_all("s", "--kind", "fact", "--kind", "preference")
        texts = [m["text"] for m in derived]
        self.assertIn("Maya loves surfing", texts)
        self.assertIn("Maya moved to Porto", texts)
        self.assertNotIn("Maya moved to Lisbon", texts)  # superseded
        vet = [m for m in derived if "vet yesterday" in m["text"]]
        self.assertEqual(len(vet), 1, texts)
        self.assertIn("(2023-05-09)", vet[0]["text"])
        self.assertEqual(vet[0]["time"], "2023-05-09T00:00:00Z")
        retired = self.list_all("s", "--kind", "fact", "--include-retired")
        lisbon = [m for m in retired if m["text"] == "Maya moved to Lisbon"]
        self.assertEqual(len(lisbon), 1)
        self.assertEqual(lisbon[0]["state"], "retired")
        self.assertEqual(lisbon[0]["valid_to"], "2023-08-01T09:00:00Z")
        history = self.ok("history", "--space", "s", lisbon[0]["id"])["history"]
        self.assertIn("superseded by memory", history[-1]["reason"])
        porto = [m for m in derived if m["text"] == "Maya moved to Porto"][0]
        chain = self.ok("get", "--space", "s", porto["id"], "--provenance")["provenance"]
        self.assertEqual([c["depth"] for c in chain], [0, 1])
        self.assertEqual(chain[1]["kind"], "episode")
        self.assertEqual(chain[1]["text"], "I moved to Porto.")
        stats = self.ok("jobs", "stats", "--space", "s")
        # Only the sessions' summaries wait (for the sessions to be quiet).
        self.assertEqual((stats["pending"] - stats["summaries_pending"], stats["dead"], stats["turns"]),
                         (0, 0, 4))
        self.assertGreaterEqual(stats["summaries_pending"], 1)
        self.assertEqual(stats["extractor"], "rules")
        self.assertEqual(stats["chat_calls"], 0)
        jobs = self.ok("jobs", "list", "--space", "s", "--state", "done")["jobs"]
        self.assertEqual(sum(len(j["memories"]) for j in jobs), 4)
        self.fails(1, "jobs", "list", "--space", "s", "--state", "stuck", contains="job state")
        self.fails(1, "jobs", "retry", "--space", "s", "x", contains="invalid job id")
        self.fails(2, "jobs", "retry", "--space", "s", "12345", contains="does not exist")

    def test_config_show_applies_precedence_and_masks_secrets(self):
        with open(os.path.join(self.data, "config.json"), "w") as f:
            json.dump({"chat": {"base_url": "http://127.0.0.1:9/v1", "model": "file",
                                "api_key_env": "TEST_CHAT_KEY"},
                       "pipeline": {"window_turns": 12}}, f)
        env = dict(os.environ, TEST_CHAT_KEY="sk-do-not-print", MNEMO_CHAT_MODEL="from-env")
        argv = [self.bin, "--data", self.data, "--json", "--set", "pipeline.window_turns=7",
                "config", "show"]
        r = subprocess.run(argv, env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("sk-do-not-print", r.stdout + r.stderr)
        shown = json.loads(r.stdout)
        self.assertEqual(shown["chat"]["model"], "from-env")
        self.assertEqual(shown["chat"]["api_key"], "set (hidden)")
        self.assertEqual(shown["pipeline"]["window_turns"], 7)
        self.fails(1, "--set", "pipeline.window_turns=zero", "config", "show",
                   contains="pipeline.window_turns")
        self.fails(1, "--set", "chat.temprature=1", "config", "show",
                   contains="unknown configuration key")

    def test_a_chat_model_behind_an_openai_compatible_server(self):
        memory = {"kind": "preference", "text": "Maya loves surfing", "subject": "maya",
                  "slot": "likes:surfing", "value": "", "polarity": 1, "event_date": None,
                  "time_text": "", "entities": ["Maya"], "sources": [1], "supersedes": None,
                  "same_as": None}
        fake = FakeOpenAi(["not json at all", "still not json",
                           json.dumps({"memories": [memory]})], self.tmp)
        self.addCleanup(fake.stop)
        # Summaries would ask the model too; summaries_test.cc covers them.
        model = ["--set", "chat.base_url=" + fake.url, "--set", "chat.model=fake-chat",
                 "--set", "pipeline.max_attempts=1", "--set", "pipeline.summaries=false"]
        self.create_space("s")
        self.ok(*model, "ingest", "--space", "s", "--user", "maya", "-",
                stdin="".join(json.dumps(m) + "\n" for m in CONVERSATION))
        # With a model, the CLI leaves derivation to the server or `jobs run`.
        self.assertEqual(self.ok(*model, "jobs", "stats", "--space", "s")["pending"], 2)
        stats = self.ok(*model, "jobs", "run", "--space", "s")
        # The first answer is garbage, so is its repair: that job is dead, with the reason.
        self.assertEqual(stats["dead"], 1, stats)
        dead = self.ok(*model, "jobs", "list", "--space", "s", "--state", "dead")["jobs"]
        self.assertIn("corruption", dead[0]["last_error"])
        self.assertEqual(self.ok("jobs", "retry", "--space", "s", "all")["retried"], 1)
        stats = self.ok(*model, "jobs", "run", "--space", "s")
        self.assertEqual((stats["pending"], stats["dead"], stats["done"]), (0, 0, 2), stats)
        self.assertEqual(stats["chat_calls"], len(fake.requests()))
        self.assertGreater(stats["prompt_tokens"], 0)
        self.assertEqual(stats["extractor"], "openai-compatible:fake-chat")
        texts = [m["text"] for m in self.list_all("s", "--kind", "preference")]
        self.assertEqual(texts, ["Maya loves surfing"])


if __name__ == "__main__":
    require_binary_or_exit()
    unittest.main(verbosity=2)
