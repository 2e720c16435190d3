"""Runs the real `mnemo serve` process and talks to it over loopback HTTP.

ServerCase (a MnemoCase: own data directory, CLI helpers) starts `mnemo serve --port 0`
and reads the port from its first stdout line ("listening on http://127.0.0.1:PORT");
the server's stderr (access log, messages) is collected in the background. Requests use
http.client, a real HTTP/1.1 client with keep-alive.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenario"))
from mnemo_harness import MnemoCase, mnemo_bin  # noqa: E402


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "HTTP %d %s %s" % (self.status, self.headers, self.text[:2000])


class ServerProcess:
    def __init__(self, data, *args, env=None):
        argv = [mnemo_bin(), "--data", data, "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env)
        self.stderr_lines = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on http://"):
            self.proc.wait(timeout=10)
            raise RuntimeError("server did not start: %r\nstderr: %s" % (line, self.stderr()))
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def _read_stderr(self):
        for raw in self.proc.stderr:
            with self._lock:
                self.stderr_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def stderr(self):
        with self._lock:
            return "\n".join(self.stderr_lines)

    def access_log(self):
        """The JSON access-log lines so far."""
        out = []
        with self._lock:
            lines = list(self.stderr_lines)
        for line in lines:
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def wait_access_log(self, count, timeout=10):
        """The access log once it has at least `count` lines (lines are written after the
        answer is sent, and read from the pipe by a thread): polls up to `timeout` s."""
        deadline = time.time() + timeout
        while True:
            log = self.access_log()
            if len(log) >= count or time.time() > deadline:
                return log
            time.sleep(0.05)

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, key=None, conn=None, raw=False):
        """One request; `body` (dict/list) is sent as JSON, bytes (or anything with raw=True)
        as they are."""
        headers = dict(headers or {})
        if body is not None and not raw and not isinstance(body, bytes):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if key:
            headers["Authorization"] = "Bearer " + key
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            if own:
                conn.close()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        self._reader.join(timeout=5)
        return self.proc.returncode


class ServerCase(MnemoCase):
    """A MnemoCase with helpers to start servers on its data directory."""

    def start_server(self, *args, config=None, env=None):
        if config is not None:
            args = ("--config", self.write_file("server-%d.json" % time.monotonic_ns(),
                                                json.dumps(config))) + tuple(args)
        server = ServerProcess(self.data, *args, env=env)
        self.addCleanup(self._stop_quietly, server)
        return server

    @staticmethod
    def _stop_quietly(server):
        try:
            server.stop(signal.SIGKILL)
        except Exception:  # noqa: BLE001 - cleanup must not mask the test's failure
            pass

    def assertError(self, resp, status, code, field=None):
        """An error answer: status, {"error": {"code", "message"[, "field"]}}."""
        self.assertEqual(resp.status, status, repr(resp))
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/json"),
                        repr(resp))
        body = resp.json()
        self.assertEqual(body["error"]["code"], code, repr(resp))
        self.assertTrue(body["error"]["message"], repr(resp))
        if field is not None:
            self.assertEqual(body["error"].get("field"), field, repr(resp))
        return body["error"]
