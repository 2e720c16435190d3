"""mnemo.Memory: the engine in this process, on a data folder of its own."""

from __future__ import annotations

import atexit
import json
import os
import weakref
from typing import Any, Dict, Iterable, Optional

from . import _native
from ._surface import SyncMethods, _dumps
from .errors import InvalidArgument, from_answer

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
    False}``). One process at a time may open a folder; next to a running ``mnemo serve``
    use ``Client``. Safe to share between threads: engine calls release the GIL. Close it
    (or use ``with``) to save its indexes; it is closed at exit otherwise.
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
        status, engine = _native.NativeEngine.open(self.path, overrides, "python")
        if status != 0:
            raise from_answer(status, json.loads(engine))
        self._engine = engine
        _open.add(self)

    def _call(self, operation: str, args: Dict[str, Any]) -> Any:
        status, body = self._engine.call(operation, _dumps(args))
        answer = json.loads(body)
        if status != 0:
            raise from_answer(status, answer)
        return answer

    def close(self) -> None:
        """Saves the indexes and releases the data folder. Later calls raise Conflict."""
        self._engine.close()

    @property
    def closed(self) -> bool:
        return bool(self._engine.closed)

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc: Iterable[Any]) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Memory(path={self.path!r}, space={self.space!r})"


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
