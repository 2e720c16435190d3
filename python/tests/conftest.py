"""Fixtures of the Python package's tests: a real `mnemo serve` over loopback and the
three faces (embedded Memory, Client, AsyncClient) behind one blocking interface.

Run by ctest (python/CMakeLists.txt) with PYTHONPATH at the build's package folder and
MNEMO_BIN at the build's mnemo binary.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterator, List

import pytest

import mnemo


def mnemo_bin() -> str:
    path = os.environ.get("MNEMO_BIN") or shutil.which("mnemo")
    if not path:
        pytest.exit("set MNEMO_BIN to the mnemo binary (ctest does)", returncode=2)
    return path


def cli(data: Path, *args: str) -> Any:
    out = subprocess.run([mnemo_bin(), "--data", str(data), "--json", *args], check=True,
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


class Server:
    """`mnemo serve --port 0` on a data folder; stops with SIGTERM."""

    def __init__(self, data: Path, *args: str, port: int = 0) -> None:
        self.data = data
        argv = [mnemo_bin(), "--data", str(data), "serve", "--port", str(port), *args]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.log: List[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on http://"):
            self.proc.kill()
            raise RuntimeError(f"mnemo serve did not start: {line!r} {self.log}")
        self.url = line.split()[-1]

    def _drain(self) -> None:
        for raw in self.proc.stderr:
            self.log.append(raw.decode("utf-8", "replace"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "served")
    yield s
    s.stop()


class Blocking:
    """An AsyncClient driven from blocking code: each call runs on one event loop, so the
    tests below exercise all three faces with the same code."""

    def __init__(self, client: mnemo.AsyncClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if not callable(attr):
            return attr
        return lambda *a, **kw: self.loop.run_until_complete(attr(*a, **kw))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(params=["embedded", "client", "async"])
def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh space through each face in turn."""
    if request.param == "embedded":
        m = mnemo.Memory(tmp_path / "embedded", space="notes")
        yield m
        m.close()
        return
    s = Server(tmp_path / "served")
    if request.param == "client":
        c = mnemo.Client(s.url, space="notes")
        yield c
        c.close()
    else:
        b = Blocking(mnemo.AsyncClient(s.url, space="notes"))
        yield b
        b.close()
    s.stop()
