"""`mnemo serve` as a process: startup rules, keys, limits, operations routes, shutdown.

Every test starts the real server on a free loopback port and talks HTTP to it
(server_harness.py). Route-by-route API behaviour is in api_test.py.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import ServerCase  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


class StartupTest(ServerCase):
    def test_serves_loopback_without_keys_and_says_so(self):
        s = self.start_server()
        health = s.request("GET", "/healthz").json()
        self.assertEqual(health["status"], "ok")
        # One version: the binary's --version and the server's /healthz.
        version = self.run_mnemo("--version", json_mode=False)
        self.assertEqual(version.rc, 0, version.describe())
        self.assertEqual(version.out.strip(), "mnemo " + health["version"])
        self.assertEqual(s.request("GET", "/readyz").json(), {"status": "ready"})
        self.assertEqual(s.request("POST", "/v1/spaces", {"name": "notes"}).status, 201)
        self.assertIn("without authentication", s.stderr())

    def test_refuses_a_public_address_without_keys(self):
        r = self.run_mnemo("serve", "--host", "0.0.0.0", "--port", "0", timeout=30)
        self.assertEqual(r.rc, 1, r.describe())
        self.assertIn("refusing to listen on 0.0.0.0", r.err)
        self.assertIn("keys create", r.err)

    def test_a_public_address_with_keys_requires_them(self):
        key = self.ok("keys", "create", "--name", "ops", "--grant", "*:admin")["key"]
        s = self.start_server("--host", "0.0.0.0")
        self.assertError(s.request("GET", "/v1/spaces"), 401, "unauthorized")
        self.assertEqual(s.request("GET", "/v1/spaces", key=key).status, 200)

    def test_bad_config_files_are_refused_with_the_reason(self):
        for config, needle in [("{\"port\": \"x\"}", "port"),
                               ("{\"limits\": {\"max_kk\": 1}}", "max_kk"),
                               ("{\"limits\": {\"max_k\": 0}}", "max_k"),
                               ("{not json", "byte 3"),
                               ("{\"color\": 1}", "color")]:
            path = self.write_file("bad.json", config)
            r = self.run_mnemo("serve", "--port", "0", "--config", path, timeout=30)
            self.assertEqual(r.rc, 1, r.describe())
            self.assertIn(needle, r.err, r.describe())
        r = self.run_mnemo("serve", "--port", "0", "--config", "/nonexistent.json", timeout=30)
        self.assertEqual(r.rc, 2, r.describe())

    def test_port_in_use_is_a_clear_error(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        self.addCleanup(blocker.close)
        r = self.run_mnemo("serve", "--port", str(blocker.getsockname()[1]), timeout=30)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn("cannot listen", r.err)


class KeysTest(ServerCase):
    def setUp(self):
        super().setUp()
        self.create_space("a")
        self.create_space("b")
        self.key_a = self.ok("keys", "create", "--name", "writer-a", "--grant", "a:write")
        self.key_b = self.ok("keys", "create", "--name", "reader-b", "--grant", "b:read")
        self.admin = self.ok("keys", "create", "--name", "ops", "--grant", "*:admin")["key"]
        self.server = self.start_server()

    def test_missing_and_unknown_keys_are_401(self):
        s = self.server
        r = s.request("GET", "/v1/spaces/a/memories")
        self.assertError(r, 401, "unauthorized")
        self.assertIn("Bearer", r.headers["www-authenticate"])
        self.assertError(s.request("GET", "/v1/spaces/a/memories", key="mnemo_00000000_" + "0" * 64),
                         401, "unauthorized")
        self.assertError(s.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "ping"}),
                         401, "unauthorized")
        # Operations routes stay open.
        self.assertEqual(s.request("GET", "/healthz").status, 200)

    def test_a_key_works_on_its_space_only(self):
        s, ka, kb = self.server, self.key_a["key"], self.key_b["key"]
        r = s.request("POST", "/v1/spaces/a/memories", {"user": "u", "text": "alpha fact"}, key=ka)
        self.assertEqual(r.status, 201, repr(r))
        self.assertError(s.request("POST", "/v1/spaces/b/memories", {"user": "u", "text": "x"},
                                   key=ka), 403, "forbidden")
        self.assertError(s.request("POST", "/v1/spaces/b/memories", {"user": "u", "text": "x"},
                                   key=kb), 403, "forbidden")
        self.assertEqual(s.request("GET", "/v1/spaces/b/memories", key=kb).status, 200)
        self.assertError(s.request("GET", "/v1/spaces/a/memories", key=kb), 403, "forbidden")
        # X-API-Key works too; listing spaces shows only the key's own.
        r = s.request("GET", "/v1/spaces", headers={"X-API-Key": ka})
        self.assertEqual([x["name"] for x in r.json()["spaces"]], ["a"])
        r = s.request("GET", "/v1/spaces/b/memories", key=self.admin)
        self.assertEqual(r.json()["memories"], [])

    def test_revocation_takes_effect_on_the_running_server(self):
        s, ka = self.server, self.key_a["key"]
        self.assertEqual(s.request("GET", "/v1/spaces/a/memories", key=ka).status, 200)
        self.ok("keys", "revoke", self.key_a["id"])
        deadline = time.time() + 5
        while time.time() < deadline:
            if s.request("GET", "/v1/spaces/a/memories", key=ka).status == 401:
                break
            time.sleep(0.2)
        self.assertError(s.request("GET", "/v1/spaces/a/memories", key=ka), 401, "unauthorized")

    def test_access_log_names_the_key_never_the_secret(self):
        s, ka = self.server, self.key_a["key"]
        s.request("GET", "/v1/spaces/a/memories?limit=5", key=ka)
        log = s.wait_access_log(len(s.access_log()) + 1)
        line = [l for l in log if l["path"] == "/v1/spaces/a/memories"][-1]
        self.assertEqual(line["key"], self.key_a["id"])
        self.assertEqual(line["route"], "/v1/spaces/{space}/memories")
        self.assertEqual(line["status"], 200)
        self.assertNotIn(ka, s.stderr())

    def test_metrics_need_a_key_for_every_space(self):
        s = self.server
        self.assertError(s.request("GET", "/metrics", key=self.key_a["key"]), 403, "forbidden")
        self.assertEqual(s.request("GET", "/metrics", key=self.admin).status, 200)


class LimitsTest(ServerCase):
    def test_rate_limit_per_key_answers_429_with_retry_after(self):
        self.create_space("a")
        key = self.ok("keys", "create", "--name", "k", "--grant", "a:read")["key"]
        other = self.ok("keys", "create", "--name", "k2", "--grant", "a:read")["key"]
        s = self.start_server(config={"limits": {"rate_limit_per_key": 0.5,
                                                 "rate_burst_per_key": 3}})
        statuses = [s.request("GET", "/v1/spaces/a/memories", key=key).status for _ in range(5)]
        self.assertEqual(statuses[:3], [200, 200, 200])
        r = s.request("GET", "/v1/spaces/a/memories", key=key)
        self.assertError(r, 429, "rate_limited")
        self.assertGreaterEqual(int(r.headers["retry-after"]), 1)
        # Another key has its own bucket.
        self.assertEqual(s.request("GET", "/v1/spaces/a/memories", key=other).status, 200)

    def test_body_over_the_limit_is_413_and_nothing_is_stored(self):
        self.create_space("a")
        s = self.start_server(config={"limits": {"max_body_bytes": 2048}})
        r = s.request("POST", "/v1/spaces/a/memories", {"user": "u", "text": "x" * 4000})
        self.assertError(r, 413, "too_large")
        self.assertEqual(s.request("GET", "/v1/spaces/a/memories").json()["memories"], [])

    def test_slow_request_is_cut_off_and_the_server_keeps_serving(self):
        s = self.start_server(config={"limits": {"request_timeout_ms": 300}})
        sock = socket.create_connection(("127.0.0.1", s.port))
        self.addCleanup(sock.close)
        sock.sendall(b"POST /v1/spaces HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"na")
        sock.settimeout(5)
        answer = sock.recv(4096).decode()
        self.assertTrue(answer.startswith("HTTP/1.1 408"), answer)
        self.assertEqual(s.request("GET", "/healthz").status, 200)


class OperationsTest(ServerCase):
    def test_openapi_document_is_served(self):
        s = self.start_server()
        r = s.request("GET", "/openapi.json")
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertEqual(doc["openapi"], "3.1.0")
        with open(os.path.join(ROOT, "docs", "openapi.json"), "rb") as f:
            self.assertEqual(r.body, f.read())

    def test_metrics_count_requests_by_route_and_memories_by_space(self):
        self.create_space("notes")
        s = self.start_server()
        for i in range(3):
            r = s.request("POST", "/v1/spaces/notes/memories", {"user": "u", "text": "m%d" % i})
            self.assertEqual(r.status, 201, repr(r))
        s.request("GET", "/v1/spaces/notes/memories/123456")
        r = s.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        text = r.text
        self.assertIn('mnemo_http_requests_total{route="/v1/spaces/{space}/memories",'
                      'method="POST",status="201"} 3', text)
        self.assertIn('mnemo_http_requests_total{route="/v1/spaces/{space}/memories/{id}",'
                      'method="GET",status="404"} 1', text)
        self.assertRegex(text, r'mnemo_http_request_duration_seconds_bucket\{route="/v1/spaces/'
                               r'\{space\}/memories",le="\+Inf"\} 3')
        self.assertIn('mnemo_space_memories{space="notes"} 3', text)
        self.assertIn("mnemo_http_queue_depth ", text)
        self.assertIn("mnemo_http_connections ", text)

    def test_one_access_log_line_per_request(self):
        s = self.start_server()
        for path in ["/healthz", "/nope", "/v1/spaces"]:
            s.request("GET", path)
        log = s.wait_access_log(3)
        self.assertEqual([l["path"] for l in log], ["/healthz", "/nope", "/v1/spaces"])
        self.assertEqual([l["status"] for l in log], [200, 404, 200])
        for line in log:
            for field in ["ts", "remote", "method", "route", "ms", "bytes_in", "bytes_out"]:
                self.assertIn(field, line)
        s.stop()
        s2 = self.start_server("--quiet")
        s2.request("GET", "/healthz")
        s2.stop()  # all of stderr has been read
        self.assertEqual(s2.access_log(), [])

    def test_sigterm_stops_gracefully_and_keeps_the_data(self):
        self.create_space("notes")
        s = self.start_server()
        conn = s.connection()
        r = s.request("POST", "/v1/spaces/notes/memories", {"user": "u", "text": "kept"},
                      conn=conn)
        self.assertEqual(r.status, 201)
        self.assertEqual(s.stop(signal.SIGTERM), 0)
        self.assertIn("stopped", s.stderr())
        self.assertEqual(self.texts("notes"), ["kept"])

    def test_kill_9_loses_no_acknowledged_write(self):
        self.create_space("notes")
        s = self.start_server()
        conn = s.connection()
        acked = []
        for i in range(40):
            r = s.request("POST", "/v1/spaces/notes/memories",
                          {"user": "u", "text": "durable note %d" % i}, conn=conn)
            self.assertEqual(r.status, 201)
            acked.append("durable note %d" % i)
        s.stop(signal.SIGKILL)
        self.assertEqual(self.texts("notes"), acked)
        s2 = self.start_server()
        r = s2.request("POST", "/v1/spaces/notes/search", {"user": "u", "query": "durable note 7"})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json()["results"][0]["text"], "durable note 7")


class BesideServerTest(ServerCase):
    """The CLI on a data directory a running server holds: its commands go through the
    server's Unix socket (DIR/mnemo.sock) and answer as they do without a server."""

    def test_cli_commands_go_through_the_running_server(self):
        s = self.start_server()
        sock = os.path.join(self.data, "mnemo.sock")
        self.assertEqual(os.stat(sock).st_mode & 0o777, 0o600)  # the owner's only
        self.assertEqual(self.ok("space", "create", "s"), {"space": "s", "created": True})
        self.assertIn({"name": "s", "memories": 0}, self.ok("space", "list")["spaces"])
        added = self.ok("add", "--space", "s", "--user", "maya", "--tag", "home",
                        "--meta", '{"n": 3}', "Maya lives in Lisbon")
        # The server holds the same store.
        got = s.request("GET", "/v1/spaces/s/memories/%d" % added["id"]).json()
        self.assertEqual(got["text"], "Maya lives in Lisbon")
        lines = "\n".join(json.dumps({"role": "user", "text": t}) for t in
                          ("I adopted a cat named Pixel", "Pixel loves tuna"))
        self.assertEqual(self.ok("ingest", "--space", "s", "--user", "maya", "-", stdin=lines),
                         {"added": 2})
        self.ok("add", "--space", "s", "--user", "tom", "Tom plays chess")
        listed = self.ok("list", "--space", "s", "--filters", '{"metadata.n": {"gte": 3}}')
        self.assertEqual([m["text"] for m in listed["memories"]], ["Maya lives in Lisbon"])
        self.assertIsNone(listed["next_cursor"])
        hits = self.ok("search", "--space", "s", "--user", "maya", "Pixel")["results"]
        self.assertIn("Pixel loves tuna", [h["text"] for h in hits])
        human = self.ok("search", "--space", "s", "--user", "maya", "Lisbon",
                        json_mode=False).out
        self.assertIn("Maya lives in Lisbon", human)
        mid = str(added["id"])
        self.assertEqual(self.ok("get", "--space", "s", mid)["tags"], ["home"])
        updated = self.ok("update", "--space", "s", mid, "Maya lives in Porto", "--reason", "moved")
        self.assertEqual(updated["version"], 2)
        history = self.ok("history", "--space", "s", mid)["history"]
        self.assertEqual([(h["op"], h["actor"]) for h in history], [("add", "api"), ("update", "cli")])
        self.assertEqual(self.ok("stats", "--space", "s")["space"], "s")
        profile = self.ok("profile", "--space", "s", "--user", "maya", "--edit", "city=Porto")
        self.assertIn(("city", "Porto"), [(e["key"], e["value"]) for e in profile["entries"]])
        ctx = self.ok("context", "--space", "s", "--user", "maya", "where does Maya live")
        self.assertIn("Porto", ctx["text"])
        self.fails(1, "context", "--space", "s", "--user", "maya", "--budget", "5", "x",
                   contains="--budget")
        export = self.run_mnemo("export", "--space", "s", json_mode=False)
        self.assertEqual(export.rc, 0, export.describe())
        self.assertIn("Maya lives in Porto", export.out)
        # Errors: the same exit codes and words as without a server.
        self.fails(2, "get", "--space", "s", "999999999")
        self.fails(2, "list", "--space", "nope")
        self.fails(1, "add", "--space", "s", "--user", "u", "--time", "yesterday", "x",
                   contains="--time")
        self.fails(1, "search", "--space", "s", "chess", contains=("2 users", "--all-users"))
        self.fails(1, "list", "--space", "s", "--filters", '{"n": 3}', contains="metadata.n")
        self.assertIn("pending", self.ok("jobs", "stats", "--space", "s"))
        self.assertIsInstance(self.ok("jobs", "list", "--space", "s")["jobs"], list)
        self.fails(1, "jobs", "list", "--space", "s", "--state", "sleeping", contains="--state")
        # What needs the directory itself says so.
        self.fails(1, "jobs", "run", "--space", "s", contains="stop the server")
        # Import and provenance go through it too: a clash is refused whole, a new space
        # takes the export, and a memory's provenance reads as without a server.
        exported = self.write_file("e.jsonl", export.out)
        self.fails(1, "import", "--space", "s", exported, contains="already exists")
        imported = self.ok("import", "--space", "copy", exported)
        # Every memory of the export (the server's pipeline may derive more after it).
        exported_memories = sum(1 for line in export.out.splitlines()
                                if '"memory"' in line and "memory" in json.loads(line))
        self.assertEqual(imported["memories"], exported_memories)
        self.assertGreater(imported["history"], 0)
        self.assertEqual(self.ok("get", "--space", "copy", mid)["text"], "Maya lives in Porto")
        steps = self.ok("get", "--space", "copy", mid, "--provenance")
        self.assertEqual(steps["id"], int(mid))
        self.assertEqual([(p["id"], p["depth"]) for p in steps["provenance"]], [(int(mid), 0)])
        self.assertEqual(self.ok("delete", "--space", "s", mid, "--purge"),
                         {"id": int(mid), "deleted": True, "purged": True,
                          "erased": [int(mid)]})
        # Without the server (its socket removed) the same commands open the directory.
        s.stop()
        self.assertFalse(os.path.exists(sock))
        listed = self.ok("list", "--space", "s", "--user", "maya", "--kind", "episode")
        self.assertEqual([m["text"] for m in listed["memories"]],
                         ["I adopted a cat named Pixel", "Pixel loves tuna"])

    def test_stdio_mcp_goes_through_the_running_server(self):
        s = self.start_server()
        self.ok("space", "create", "notes")
        msgs = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "t", "version": "1"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call",  # no space: --space's
             "params": {"name": "add_memory",
                        "arguments": {"text": "Maya drinks green tea", "user": "maya"}}},
            {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
             "params": {"name": "search_memory", "arguments": {"query": "tea"}}},
        ]
        stdin = "\n".join(json.dumps(m) for m in msgs) + "\n{not json\n"
        proc = subprocess.run([self.bin, "--data", self.data, "mcp", "--space", "notes"],
                              input=stdin.encode(), capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        answers = [json.loads(line) for line in proc.stdout.decode().splitlines()]
        self.assertEqual([a.get("id") for a in answers], [1, 2, 3, 4, None])  # none for the
        self.assertEqual(answers[0]["result"]["serverInfo"]["name"], "mnemo")  # notification
        self.assertIn("add_memory", [t["name"] for t in answers[1]["result"]["tools"]])
        self.assertFalse(answers[2]["result"].get("isError"), answers[2])
        self.assertIn("Maya drinks green tea", answers[3]["result"]["content"][0]["text"])
        self.assertEqual(answers[4]["error"]["code"], -32700)  # the bad line: a parse error
        listed = s.request("GET", "/v1/spaces/notes/memories").json()["memories"]
        self.assertEqual([m["text"] for m in listed], ["Maya drinks green tea"])
        bad = subprocess.run([self.bin, "--data", self.data, "mcp", "--space", "nope"],
                             input=b"", capture_output=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertEqual(bad.stdout, b"")  # stdout is the protocol's only
        self.assertEqual(bad.stderr.decode().count("does not exist"), 1, bad.stderr)

    def test_a_stale_socket_is_not_a_server(self):
        s = self.start_server()
        s.stop(signal.SIGKILL)  # no clean-up: the socket file stays behind, unanswered
        self.ok("space", "create", "s")  # the lock went with the process: direct access
        s2 = self.start_server()  # replaces the stale file
        self.assertEqual(self.ok("space", "list")["spaces"], [{"name": "s", "memories": 0}])
        s2.stop()


class ReadmeTest(ServerCase):
    INIT = False

    def test_the_readme_curl_example_works_as_shown(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        block = re.search(r"<!-- curl-example -->\s*```sh\n(.*?)```", readme, re.S)
        self.assertIsNotNone(block, "README has no curl example block")
        s = self.start_server()
        script = block.group(1).replace("localhost:8420", "127.0.0.1:%d" % s.port)
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        # The search (last command) finds the memory the example added.
        last = out.stdout.strip().splitlines()[-1]
        self.assertIn("peanut", last)


if __name__ == "__main__":
    unittest.main(verbosity=2)
