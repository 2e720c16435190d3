"""mnemo.Memory: the engine in this process, on a data folder of its own."""

from __future__ import annotations

import atexit
import http.client
import json
import os
import socket
import weakref
from typing import Any, Dict, Iterable, Optional

from . import _native
from ._surface import SyncMethods, _dumps
from .client import Client
from .errors import Conflict, InvalidArgument, from_answer

_open: "weakref.WeakSet[Memory]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # The engine's threads stop before the interpreter tears down (mnemo/engine.h).
    for memory in list(_open):
        memory.close()


class Memory(SyncMethods):
    """Long-term memory in-process: ``Memory(path="./memories", space="default")``.

    The data folder is created when missing and configured as for the ``mnemo`` command
    (``config.json`` in it, ``MNEMO_*`` variables, then ``settings``: ``{"pipeline.enabled":
    False}``). One process at a time opens a folder: while ``mnemo serve`` holds it, the
    calls go to that server through its socket in the folder (``mnemo.sock``, owner-only)
    and answer the same, as the ``mnemo`` command's do (``settings`` are then refused: the
    server's apply). Safe to share between threads: engine calls release the GIL. Close
    it (or use ``with``) to save its indexes; it is closed at exit otherwise.
    """

    def __init__(self, path: "str | os.PathLike[str]" = "mnemo-data", space: str = "default",
                 settings: Optional[Dict[str, Any]] = None) -> None:
        try:
            self.path = os.fspath(path)
        except TypeError:
            raise InvalidArgument(f"path must be a str or os.PathLike; got {type(path).__name__}",
                                  field="path") from None
        if not isinstance(self.path, str):
            raise InvalidArgument("path must be a text path, not bytes", field="path")
        if not isinstance(space, str):
            raise InvalidArgument("space must be a string", field="space")
        if settings is not None and not isinstance(settings, dict):
            raise InvalidArgument("settings must be a dict of key: value", field="settings")
        self.space = space
        overrides = [f"{k}={_setting(v)}" for k, v in (settings or {}).items()]
        self._server: Optional[_ServerNextDoor] = None
        status, engine = _native.NativeEngine.open(self.path, overrides, "python")
        if status != 0:
            # Held by a running server (or unusable): its socket, when one answers.
            self._server = _ServerNextDoor.reach(self.path, space)
            if self._server is None:
                raise from_answer(status, json.loads(engine))
            if settings:
                self._server.close()
                raise InvalidArgument("settings cannot apply: a running mnemo serve holds "
                                      f"{self.path} and its own settings apply (stop it, or "
                                      "drop settings=)", field="settings")
            return
        self._engine = engine
        _open.add(self)

    def _call(self, operation: str, args: Dict[str, Any]) -> Any:
        if self._server is not None:
            return self._server.call(operation, args)
        status, body = self._engine.call(operation, _dumps(args))
        answer = json.loads(body)
        if status != 0:
            raise from_answer(status, answer)
        return answer

    def close(self) -> None:
        """Saves the indexes and releases the data folder. Later calls raise Conflict."""
        if self._server is not None:
            self._server.close()
        else:
            self._engine.close()

    @property
    def closed(self) -> bool:
        if self._server is not None:
            return self._server.closed
        return bool(self._engine.closed)

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc: Iterable[Any]) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Memory(path={self.path!r}, space={self.space!r})"


class _UnixConnection(http.client.HTTPConnection):
    """HTTP on the server's Unix socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _ServerNextDoor(Client):
    """The operations of the ``mnemo serve`` that holds the folder, over its socket: the
    caller owns the folder, so no key is needed (server/local_socket.h)."""

    def __init__(self, sock_path: str, dir_fd: Optional[int], space: str) -> None:
        super().__init__("http://localhost", None, space, timeout=600.0)
        self._sock_path, self._dir_fd, self.closed = sock_path, dir_fd, False

    @classmethod
    def reach(cls, folder: str, space: str) -> "Optional[_ServerNextDoor]":
        if not os.path.exists(os.path.join(folder, "mnemo.sock")):
            return None
        # A socket path is at most ~107 bytes: reach a longer one through the folder's fd.
        dir_fd = os.open(folder, os.O_RDONLY) if len(os.path.abspath(folder)) > 90 else None
        path = (f"/proc/self/fd/{dir_fd}/mnemo.sock" if dir_fd is not None
                else os.path.join(os.path.abspath(folder), "mnemo.sock"))
        server = cls(path, dir_fd, space)
        try:
            server._connection().connect()  # a stale socket (no server) refuses
        except OSError:
            server.close()
            return None
        return server

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _UnixConnection(self._sock_path, self.timeout)
            self._local.conn = conn
        return conn

    def call(self, operation: str, args: Dict[str, Any]) -> Any:
        if self.closed:
            raise Conflict("this Memory is closed")
        return self._call(operation, args)

    def close(self) -> None:
        super().close()
        if not self.closed and self._dir_fd is not None:
            os.close(self._dir_fd)
        self.closed = True


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
