#!/usr/bin/env python3
"""Scenario tests of `mnemo ingest --format` and `mnemo eval`: the real binary on small
synthetic benchmark files written here, plus a format check on the real LongMemEval
sample when the bench directory is present.

Usage: MNEMO_BIN=/path/to/mnemo python3 tests/scenario/eval_test.py [-v]
The bench directory is $MNEMO_BENCH_DIR, else ../shared/bench next to the repository.

Exact metric values are asserted on BM25-only runs (--vector-weight 0), whose rankings
can be worked out by hand; the hybrid default is checked for shape and ranges.
"""

import json
import os
import sys
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnemo_harness import (EXIT_BAD_INPUT, MnemoCase,  # noqa: E402
                           require_binary_or_exit)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.environ.get("MNEMO_BENCH_DIR") or os.path.join(REPO, "..", "shared", "bench")


def turn(speaker, dia_id, text, **extra):
    return dict(speaker=speaker, dia_id=dia_id, text=text, **extra)


def qa(question, evidence, category, answer="x"):
    q = dict(question=question, evidence=evidence, category=category)
    if category == 5:
        q["adversarial_answer"] = answer
    else:
        q["answer"] = answer
    return q


def locomo_fixture():
    """Two conversations; see the test for the rankings they produce."""
    conv_a = {
        "speaker_a": "Ana", "speaker_b": "Ben",
        "session_2_date_time": "9:05 am on 3 June, 2023",
        "session_2": [turn("Ana", "D2:1", "Back from the lake, exhausted."),
                      turn("Ben", "D2:2", "Look at this!", blip_caption="a red kayak on the shore",
                           img_url="http://example.invalid/k.jpg")],
        "session_1_date_time": "12:30 pm on 1 June, 2023",
        "session_1": [turn("Ana", "D1:1", "I bought a kayak yesterday."),
                      turn("Ben", "D1:2", "Nice! Where will you paddle?"),
                      turn("Ana", "D1:3", "At the reservoir near my town.")],
        "session_3_date_time": "1:00 pm on 9 June, 2023",  # no session_3: ignored
    }
    conv_b = {
        "speaker_a": "Cy", "speaker_b": "Dee",
        "session_1_date_time": "8:00 pm on 2 July, 2023",
        "session_1": [turn("Cy", "D1:1", "My sister sold her kayak."),
                      turn("Dee", "D1:2", "Reservoir paddle trips are fun.")],
    }
    return [
        {"sample_id": "conv-a", "conversation": conv_a, "qa": [
            qa("Who bought a kayak?", ["D1:1"], 4),           # q1: D1:1 first
            qa("kayak", ["D1:1; D2:2"], 2, answer=2023),     # q2: the only two matches
            qa("reservoir paddle", ["D1:2", "D1:3"], 1),      # q3: the only two matches
            qa("Where is the kayak stored?", ["D1:3"], 4),    # q4: D1:3 never matches
            qa("Did Ben sell a boat?", [], 5, answer="no"),   # adversarial: skipped
            qa("Where is the lake?", ["D"], 3),               # no valid evidence: skipped
        ]},
        {"sample_id": "conv-b", "conversation": conv_b, "qa": [
            qa("Who sold a kayak?", ["D1:1"], 4),             # q5: D1:1 first
        ]},
    ]


def lme_record(qid, qtype, question, sessions, answer_ids):
    """sessions: list of (session id, [(role, content, has_answer or None)])."""
    hs = [[dict(role=r, content=c, **({} if h is None else {"has_answer": h}))
           for r, c, h in turns] for _, turns in sessions]
    return {
        "question_id": qid, "question_type": qtype, "question": question, "answer": "x",
        "question_date": "2023/06/01 (Thu) 10:00",
        "haystack_session_ids": [sid for sid, _ in sessions],
        "haystack_dates": ["2023/05/%02d (Sat) 09:30" % (i + 1) for i in range(len(sessions))],
        "haystack_sessions": hs,
        "answer_session_ids": answer_ids,
    }


def lme_fixture():
    return [
        lme_record("q1", "single-session-user", "How old is my dog Rex?", [
            ("filler_1", [("user", "Any tips for growing basil indoors?", None),
                          ("assistant", "Basil needs sun.", None)]),
            ("answer_1", [("user", "My dog Rex turned five today.", True),
                          ("assistant", "Happy birthday to Rex!", False)]),
        ], ["answer_1"]),
        lme_record("q2_abs", "single-session-user", "How old is my cat?", [
            ("filler_2", [("user", "I have no cat.", None)]),
        ], []),
        lme_record("q3", "multi-session", "Which cities did I visit?", [
            ("s_a", [("user", "I like tea.", None)]),
            ("answer_2", [("user", "I visited Porto in May.", True)]),
            ("answer_3", [("user", "Then I visited Lyon.", True)]),
        ], ["answer_2", "answer_3"]),
        lme_record("q4", "single-session-preference", "What is my favourite colour?", [
            ("s_x", [("user", "I drive a blue car.", None)]),
            ("answer_4", [("user", "I love teal.", True)]),
        ], ["answer_4"]),
    ]


class EvalCase(MnemoCase):
    def setUp(self):
        super().setUp()
        # eval builds its data directory under $TMPDIR: point it into this test's
        # folder to check that nothing is left behind.
        self.scratch = os.path.join(self.tmp, "scratch")
        os.mkdir(self.scratch)
        old = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = self.scratch
        self.addCleanup(self._restore_tmpdir, old)

    @staticmethod
    def _restore_tmpdir(old):
        if old is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old

    def write_json(self, name, doc):
        return self.write_file(name, json.dumps(doc))

    def eval_json(self, dataset, path, *opts):
        out = self.ok("eval", dataset, path, *opts)
        self.assertEqual(os.listdir(self.scratch), [], "eval left its data directory behind")
        return out

    def assert_metrics(self, got, expected):
        for key, value in expected.items():
            self.assertIn(key, got)
            self.assertAlmostEqual(got[key], value, places=9, msg=key)


class IngestFormatTest(EvalCase):
    def test_locomo_ingest_one_user_per_sample(self):
        self.create_space("b")
        path = self.write_json("locomo.json", locomo_fixture())
        out = self.ok("ingest", "--space", "b", "--format", "locomo", path)
        self.assertEqual(out, {"added": 7, "users": 2, "skipped": 0})
        mems = self.list_all("b", "--user", "conv-a", "--kind", "episode")
        self.assertEqual([m["meta"]["dia_id"] for m in mems],
                         ["D1:1", "D1:2", "D1:3", "D2:1", "D2:2"])
        first = mems[0]
        self.assertEqual(first["session"], "session_1")
        self.assertEqual(first["speaker"], "Ana")
        self.assertEqual(first["role"], "")
        self.assertEqual(first["time"], "2023-06-01T12:30:00Z")
        self.assertEqual(mems[1]["time"], "2023-06-01T12:30:01Z")
        self.assertEqual(mems[4]["text"], "Look at this! [image: a red kayak on the shore]")
        self.assertEqual(mems[4]["meta"],
                         {"dia_id": "D2:2", "blip_caption": "a red kayak on the shore"})
        self.assertEqual(len(self.list_all("b", "--user", "conv-b", "--kind", "episode")), 2)

    def test_malformed_turn_fails_with_position_or_is_skipped(self):
        self.create_space("b")
        data = locomo_fixture()
        del data[1]["conversation"]["session_1"][1]["text"]
        path = self.write_json("bad.json", data)
        self.fails(EXIT_BAD_INPUT, "ingest", "--space", "b", "--format", "locomo", path,
                   contains='sample 2 (conv-b): session_1 turn 2: missing "text"')
        self.assertEqual(self.list_all("b"), [], "a rejected file must write nothing")
        r = self.run_mnemo("ingest", "--space", "b", "--format", "locomo", "--skip-bad", path)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.json(), {"added": 6, "users": 2, "skipped": 1})
        self.assertIn("session_1 turn 2", r.err)  # the skipped record is named

    def test_longmemeval_ingest(self):
        self.create_space("b")
        path = self.write_json("lme.json", lme_fixture())
        out = self.ok("ingest", "--space", "b", "--format", "longmemeval", path)
        self.assertEqual(out, {"added": 10, "users": 4, "skipped": 0})
        mems = self.list_all("b", "--user", "q1", "--kind", "episode")
        self.assertEqual([m["role"] for m in mems], ["user", "assistant", "user", "assistant"])
        self.assertEqual(mems[2]["meta"], {"session_id": "answer_1", "turn": 0, "has_answer": True})
        self.assertEqual(mems[2]["session"], "answer_1")
        self.assertEqual(mems[2]["time"], "2023-05-02T09:30:00Z")
        # Without a chat model the rules ran before the command returned.
        prefs = self.list_all("b", "--user", "q4", "--kind", "preference")
        self.assertEqual([m["text"] for m in prefs], ["q4 loves teal"])

    def test_usage_errors(self):
        self.create_space("b")
        path = self.write_json("locomo.json", locomo_fixture())
        self.fails(EXIT_BAD_INPUT, "ingest", "--space", "b", "--format", "locomo", "--user", "u",
                   path, contains="--user")
        self.fails(EXIT_BAD_INPUT, "ingest", "--space", "b", "--format", "csv", path,
                   contains="--format")
        self.fails(EXIT_BAD_INPUT, "ingest", "--space", "b", "-", contains="--user")
        self.fails(EXIT_BAD_INPUT, "ingest", "--space", "b", "--format", "longmemeval", path,
                   contains="record 1")


class EvalLocomoTest(EvalCase):
    def test_bm25_only_scores_by_hand(self):
        path = self.write_json("locomo.json", locomo_fixture())
        out = self.eval_json("locomo", path, "--k", "1,5", "--vector-weight", "0")
        self.assertEqual(out["dataset"], "locomo")
        self.assertEqual(out["questions"], 5)
        self.assertEqual(out["skipped"], 2)
        # q1, q5: gold first. q2, q3: two gold ids, the only two matches. q4: gold never
        # matches; D1:1 (shorter than D2:2) leads, so its session is still first.
        self.assert_metrics(out["overall"], {
            "recall_any@1": 0.8, "recall_all@1": 0.4, "ndcg@1": 0.8,
            "recall_any@5": 0.8, "recall_all@5": 0.8, "ndcg@5": 0.8,
            "session_recall_any@1": 1.0, "session_recall_any@5": 1.0,
        })
        cats = out["by_category"]
        self.assertEqual(set(cats), {"single-hop", "temporal", "multi-hop"})
        self.assertEqual(cats["single-hop"]["questions"], 3)
        self.assert_metrics(cats["single-hop"], {"recall_any@1": 2 / 3, "recall_all@1": 2 / 3})
        self.assert_metrics(cats["temporal"], {"recall_any@1": 1.0, "recall_all@1": 0.0,
                                               "recall_all@5": 1.0, "ndcg@5": 1.0})
        self.assert_metrics(cats["multi-hop"], {"recall_all@1": 0.0, "ndcg@1": 1.0})
        self.assertEqual(out["config"]["vector_weight"], 0.0)
        self.assertEqual(out["config"]["k"], [1, 5])
        self.assertEqual(out["data"]["memories"], 7)
        self.assertEqual(out["data"]["evidence_dropped"], 1)
        self.assertEqual(set(out["latency_ms"]), {"mean", "p99"})
        self.assertGreaterEqual(out["latency_ms"]["mean"], 0.0)
        self.assertGreaterEqual(out["latency_ms"]["p99"], 0.0)

    def test_default_config_shape(self):
        path = self.write_json("locomo.json", locomo_fixture())
        out = self.eval_json("locomo", path)
        self.assertEqual(out["questions"], 5)
        self.assertEqual(out["config"]["k"], [1, 5, 10, 25, 50])
        self.assertEqual(out["config"]["fusion"], "rrf")
        keys = {"%s@%d" % (m, k) for m in ("recall_any", "recall_all", "ndcg", "session_recall_any")
                for k in (1, 5, 10, 25, 50)}
        self.assertEqual(set(out["overall"]), keys)
        for cat in out["by_category"].values():
            self.assertEqual(set(cat), keys | {"questions"})
        for v in out["overall"].values():
            self.assertTrue(0.0 <= v <= 1.0)

    def test_table_output_and_bad_flags(self):
        path = self.write_json("locomo.json", locomo_fixture())
        r = self.ok("eval", "locomo", path, "--k", "1", json_mode=False)
        self.assertIn("recall_any@1", r.out)
        self.assertIn("single-hop", r.out)
        self.assertIn("latency", r.out)
        self.fails(EXIT_BAD_INPUT, "eval", "locomo", path, "--fusion", "max", contains="--fusion")
        self.fails(EXIT_BAD_INPUT, "eval", "locomo", path, "--k", "0", contains="--k")
        self.fails(2, "eval", "locomo", os.path.join(self.tmp, "missing.json"))


class EvalLongMemEvalTest(EvalCase):
    def test_bm25_only_scores_by_hand(self):
        path = self.write_json("lme.json", lme_fixture())
        out = self.eval_json("longmemeval", path, "--vector-weight", "0")
        self.assertEqual(out["questions"], 3)
        self.assertEqual(out["skipped"], 1)  # the abstention question
        # q1 and q3 find every gold turn and session at the top; q4 finds nothing.
        third = 1 / 3
        self.assert_metrics(out["overall"], {
            "session_recall_any@5": 2 * third, "session_recall_all@10": 2 * third,
            "session_ndcg_any@5": 2 * third,
            "recall_any@5": 2 * third, "recall_all@50": 2 * third, "ndcg_any@10": 2 * third,
        })
        self.assertEqual(set(out["by_category"]),
                         {"single-session-user", "multi-session", "single-session-preference"})
        self.assert_metrics(out["by_category"]["multi-session"],
                            {"session_recall_all@5": 1.0, "recall_all@5": 1.0})
        self.assertEqual(out["config"]["session_k"], [5, 10])
        self.assertEqual(out["config"]["k"], [5, 10, 50])


class EvalIntegrityTest(EvalCase):
    """mnemo eval integrity: derived facts against a labelled set, through the real
    pipeline of a throwaway data directory."""

    SET = [
        {"id": "a-1", "user": "sam", "turns": [
            {"role": "user", "time": "2024-03-01T10:00:00Z", "text": "I moved to Lisbon.",
             "tags": ["move"], "facts": [{"slot": "home_city", "value": "lisbon"}]},
            {"role": "assistant", "text": "You could try Madrid too!",
             "tags": ["assistant", "suggestion"]},
            {"role": "user", "text": "Scratch that, I meant Porto, not Lisbon.",
             "tags": ["correction", "update"], "facts": [{"slot": "home_city", "value": "porto"}]},
            {"role": "user", "text": "Do you think I should go vegan?", "tags": ["question"]}],
         "profile": {"home_city": "porto"}},
        {"id": "b-1", "user": "u-9", "speaker": "Ana", "turns": [
            {"role": "user", "text": "I hate cilantro. Call me Ana.",
             "tags": ["dislike", "name"],
             "facts": [{"slot": "likes:cilantro", "value": "no"},
                       {"slot": "name", "value": "ana"}]}],
         "profile": {"likes:cilantro": "no", "name": "ana"}},
    ]

    def write_set(self):
        return self.write_file("set.jsonl", "".join(json.dumps(c) + "\n" for c in self.SET))

    def test_scores_and_lists_the_differences(self):
        out = self.eval_json("integrity", self.write_set())
        self.assertEqual(out["extractor"], "rules")
        self.assertEqual(out["conversations"], 2)
        # 4 facts expected; Lisbon, Porto and cilantro derived, "call me Ana" not.
        self.assertEqual((out["overall"]["expected"], out["overall"]["found"],
                          out["overall"]["derived"], out["overall"]["right"]), (4, 3, 3, 3))
        self.assertEqual(out["precision"], 1.0)
        self.assertEqual(out["recall"], 0.75)
        self.assertEqual((out["updates"], out["updates_right"], out["update_accuracy"]), (1, 1, 1.0))
        self.assertEqual((out["trap_turns"], out["trap_facts"]), (2, 0))
        self.assertEqual(out["misses"], [{"conversation": "b-1", "turn": 1, "kind": "missed",
                                          "fact": "name=ana",
                                          "text": "I hate cilantro. Call me Ana."}])
        table = self.ok("eval", "integrity", self.write_set(), "--misses", json_mode=False).out
        self.assertIn("precision 1.000  recall 0.750  update accuracy 1.000 (1/1)", table)
        self.assertIn("missed  b-1 turn 1  name=ana", table)

    def test_the_development_set_keeps_its_floor(self):
        # A regression guard on the shipped development set (docs/benchmarks.md has the
        # figures): no fact from a trap turn, precision and recall not below what they were.
        path = os.path.join(os.path.dirname(__file__), "..", "data", "integrity",
                            "integrity.jsonl")
        out = self.eval_json("integrity", path)
        self.assertEqual(out["conversations"], 176)
        self.assertEqual(out["trap_facts"], 0)
        self.assertGreaterEqual(out["precision"], 0.95)
        self.assertGreaterEqual(out["recall"], 0.64)
        self.assertGreaterEqual(out["update_accuracy"], 0.68)

    def test_a_labelling_error_or_a_missing_model_is_refused(self):
        bad = dict(self.SET[0], profile={"home_city": "lisbon"})
        path = self.write_file("bad.jsonl", json.dumps(self.SET[1]) + "\n" + json.dumps(bad) + "\n")
        self.fails(EXIT_BAD_INPUT, "eval", "integrity", path,
                   contains=("line 2", "not what the turns' facts leave"))
        self.fails(EXIT_BAD_INPUT, "eval", "integrity", self.write_set(), "--model",
                   contains="chat.base_url")
        self.fails(2, "eval", "integrity", os.path.join(self.tmp, "missing.jsonl"))
        self.assertEqual(os.listdir(self.scratch), [])


@unittest.skipUnless(os.path.isfile(os.path.join(BENCH, "longmemeval-s-sample2.json")),
                     "bench directory absent (set MNEMO_BENCH_DIR)")
class RealSampleTest(EvalCase):
    def test_longmemeval_sample_format(self):
        path = os.path.join(BENCH, "longmemeval-s-sample2.json")
        out = self.eval_json("longmemeval", path)
        self.assertEqual(out["dataset"], "longmemeval")
        self.assertEqual(out["questions"], 2)
        expected = {"session_%s@%d" % (m, k) for m in ("recall_any", "recall_all", "ndcg_any")
                    for k in (5, 10)}
        expected |= {"%s@%d" % (m, k) for m in ("recall_any", "recall_all", "ndcg_any")
                     for k in (5, 10, 50)}
        self.assertEqual(set(out["overall"]), expected)
        for v in out["overall"].values():
            self.assertTrue(0.0 <= v <= 1.0, out["overall"])
        for key in ("mean", "p99"):
            self.assertGreaterEqual(out["latency_ms"][key], 0.0)

    def test_longmemeval_sample_ingests(self):
        # Its turns include one over the default 64 KiB text limit.
        self.create_space("b")
        out = self.ok("ingest", "--space", "b", "--format", "longmemeval",
                      os.path.join(BENCH, "longmemeval-s-sample2.json"))
        self.assertEqual(out["users"], 2)
        self.assertEqual(out["skipped"], 0)
        self.assertGreater(out["added"], 0)


if __name__ == "__main__":
    require_binary_or_exit()
    unittest.main()
