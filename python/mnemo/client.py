"""mnemo.Client and mnemo.AsyncClient: a running ``mnemo serve`` over HTTP.

Both call the server's operations by name (``POST /v1/ops/{op}``, docs/api.md), the
same operations the embedded Memory runs, so all three answer alike. Standard library
only: http.client for Client, asyncio streams for AsyncClient; connections are kept
alive and reused.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

from ._surface import AsyncMethods, SyncMethods, _dumps
from .errors import InvalidArgument, MnemoError, Unavailable, from_answer

DEFAULT_URL = "http://127.0.0.1:8420"
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
          ConnectionAbortedError)


def _target(base_url: str) -> Tuple[str, int, str]:
    """(host, port, path prefix) of an http:// base URL."""
    if not isinstance(base_url, str):
        raise InvalidArgument(f"base_url must be a string such as {DEFAULT_URL!r}; got "
                              f"{type(base_url).__name__}", field="base_url")
    try:
        url = urllib.parse.urlsplit(base_url)
        url.port  # noqa: B018 - parses the port, which raises for "http://h:x"
    except ValueError as e:
        raise InvalidArgument(f"base_url {base_url!r} is not a URL: {e}",
                              field="base_url") from None
    if url.scheme != "http" or not url.hostname:
        raise InvalidArgument(f"base_url must be an http:// URL; got {base_url!r} (serve TLS "
                              "through a reverse proxy and reach mnemo over http on it)",
                              field="base_url")
    return url.hostname, url.port or 80, url.path.rstrip("/")


def _headers(api_key: Optional[str], host: str, length: int) -> Dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "Content-Length": str(length), "Host": host}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def _answer(status: int, body: bytes) -> Any:
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        raise MnemoError(f"the server answered {status} with a body that is not JSON: "
                         f"{body[:200]!r}", code="internal", status=status) from None
    if status >= 400:
        raise from_answer(status, answer)
    return answer


class _Http:
    """Where a client sends its calls."""

    def __init__(self, base_url: str = DEFAULT_URL, api_key: Optional[str] = None,
                 space: str = "default", timeout: float = 30.0) -> None:
        self._host, self._port, self._prefix = _target(base_url)
        if api_key is not None and not isinstance(api_key, str):
            raise InvalidArgument("api_key must be a string or None", field="api_key")
        if not isinstance(space, str):
            raise InvalidArgument("space must be a string", field="space")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise InvalidArgument(f"timeout must be a positive number of seconds; got {timeout!r}",
                                  field="timeout")
        self.base_url = base_url
        self.space = space
        self.timeout = float(timeout)
        self._api_key = api_key

    def _request(self, operation: str, args: Dict[str, Any]) -> Tuple[str, bytes, Dict[str, str]]:
        """(path, body, headers) of one call."""
        body = _dumps(args).encode()
        return (f"{self._prefix}/v1/ops/{operation}", body,
                _headers(self._api_key, f"{self._host}:{self._port}", len(body)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, space={self.space!r})"


class Client(_Http, SyncMethods):
    """Memory on a ``mnemo serve`` server: ``Client("http://127.0.0.1:8420", api_key=...)``.

    Same methods and results as ``Memory``. The space is created on first use when the key
    may (admin role on it). Safe to share between threads (one connection per thread).
    """

    def __init__(self, base_url: str = DEFAULT_URL, api_key: Optional[str] = None,
                 space: str = "default", timeout: float = 30.0) -> None:
        super().__init__(base_url, api_key, space, timeout)
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _call(self, operation: str, args: Dict[str, Any]) -> Any:
        path, body, headers = self._request(operation, args)
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except _STALE as e:
                conn.close()
                self._local.conn = None
                if reused and attempt == 1:
                    continue  # the server closed an idle connection: send it once more
                raise Unavailable(f"mnemo server at {self.base_url}: {e}") from None
            except OSError as e:
                conn.close()
                self._local.conn = None
                raise Unavailable(f"cannot reach the mnemo server at {self.base_url}: "
                                  f"{e}") from None
            if resp.will_close:
                conn.close()
                self._local.conn = None
            return _answer(resp.status, data)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Closes this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()



class AsyncClient(_Http, AsyncMethods):
    """``Client`` for asyncio: the same methods, each a coroutine.

    Keeps a small pool of keep-alive connections (one per concurrent call); close it with
    ``await client.aclose()`` or ``async with``.
    """

    def __init__(self, base_url: str = DEFAULT_URL, api_key: Optional[str] = None,
                 space: str = "default", timeout: float = 30.0) -> None:
        super().__init__(base_url, api_key, space, timeout)
        self._idle: List[Tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _acall(self, operation: str, args: Dict[str, Any]) -> Any:
        path, body, headers = self._request(operation, args)
        head = f"POST {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        request = head.encode() + body
        for attempt in (1, 2):
            reused = bool(self._idle)
            try:
                if reused:
                    reader, writer = self._idle.pop()
                else:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(self._host, self._port), self.timeout)
            except (OSError, asyncio.TimeoutError) as e:
                raise Unavailable(f"cannot reach the mnemo server at {self.base_url}: "
                                  f"{e!r}") from None
            try:
                writer.write(request)
                await writer.drain()
                status, keep, data = await asyncio.wait_for(_read_response(reader), self.timeout)
            except (OSError, asyncio.IncompleteReadError, EOFError) as e:
                writer.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle connection: send it once more
                raise Unavailable(f"mnemo server at {self.base_url}: {e!r}") from None
            except asyncio.TimeoutError:
                writer.close()
                raise Unavailable(f"mnemo server at {self.base_url} did not answer within "
                                  f"{self.timeout} s") from None
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return _answer(status, data)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Closes the idle connections."""
        while self._idle:
            _, writer = self._idle.pop()
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()



async def _read_response(reader: asyncio.StreamReader) -> Tuple[int, bool, bytes]:
    """(status, keep-alive, body) of one HTTP/1.1 response with a Content-Length."""
    status_line = await reader.readline()
    if not status_line:
        raise EOFError("the server closed the connection")
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise MnemoError(f"not an HTTP response: {status_line[:100]!r}", code="internal")
    status = int(parts[1])
    length, keep = 0, parts[0] == "HTTP/1.1"
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            keep = value.lower() != "close"
    return status, keep, await reader.readexactly(length)
