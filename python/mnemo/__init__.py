"""mnemo: long-term memory for LLM agents.

Three ways in, with the same methods and results:

* ``Memory(path=..., space="default")`` runs the engine in this process (no server);
* ``Client(base_url, api_key=None, space="default")`` talks to a running ``mnemo serve``;
* ``AsyncClient(...)`` is Client for asyncio.

Mem0's calls work as they do in Mem0 (``add``, ``search``, ``get``, ``get_all``,
``update``, ``delete``, ``delete_all``, ``history``, ``reset``), so switching is a change
of import; mnemo's own calls (``add_memory``, ``context``, ``profile``, ``edit_profile``,
``list_spaces``, ``export``, and ``op`` for any operation of docs/api.md) sit beside them.
Errors are typed: ``InvalidArgument`` (with ``.field``), ``NotFound``, ``Conflict``,
``PermissionDenied``, ``Unavailable``, all ``MnemoError``.
"""

from .client import AsyncClient, Client
from .embedded import Memory
from .errors import (Conflict, InvalidArgument, MnemoError, NotFound, PermissionDenied,
                     Unavailable)
from ._native import __version__

__all__ = ["Memory", "Client", "AsyncClient", "MnemoError", "InvalidArgument", "NotFound",
           "Conflict", "PermissionDenied", "Unavailable", "__version__"]
