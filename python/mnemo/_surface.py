"""The methods of Memory, Client and AsyncClient, written once.

Each method is a generator: it yields ``(operation, arguments)`` requests for the api
layer (the operations of docs/api.md, "by name") and receives each answer, or has the
error thrown into it. ``_Sync`` runs those generators for the embedded engine and the
blocking client, ``_Async`` awaits them for AsyncClient; so every face answers alike.

The Mem0-compatible calls (add, search, get, get_all, update, delete, delete_all,
history, reset) return Mem0's shapes; mnemo's own calls return the api's JSON as is.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Generator, Iterable, List, Mapping, Optional, Tuple, Union

from .errors import Conflict, InvalidArgument, MnemoError, NotFound, PermissionDenied

Request = Tuple[str, Dict[str, Any]]
Plan = Generator[Request, Any, Any]
Messages = Union[str, Mapping[str, Any], Iterable[Mapping[str, Any]]]
MemoryIdLike = Union[int, str]

# Mem0's names for the scope fields -> the api's.
_SCOPE = {"user_id": "user", "agent_id": "agent", "run_id": "session"}
# Filter keys that are api arguments of their own rather than conditions.
_FILTER_ARGS = {"kinds": "kinds", "since": "since", "until": "until", "as_of": "as_of",
                "valid_at": "valid_at"}
# The fields of the api's filter language (docs/api.md, "Filter expressions"); as in Mem0,
# any other key of a filter is a metadata key (metadata.KEY in the api's language).
_EXPRESSION_FIELDS = frozenset({
    "id", "user", "user_id", "agent", "agent_id", "session", "session_id", "run_id", "role",
    "speaker", "text", "memory", "kind", "time", "event_time", "created_at", "updated_at",
    "importance", "tags"})
_HISTORY_EVENTS = {"add": "ADD", "update": "UPDATE", "remove": "DELETE", "purge": "DELETE"}


def _memory_id(memory_id: MemoryIdLike) -> int:
    """A memory id as the api takes it: an int, or the decimal string Mem0 shapes carry."""
    if isinstance(memory_id, bool):
        raise InvalidArgument("memory_id must be an int or a decimal string", field="memory_id")
    if isinstance(memory_id, int):
        return memory_id
    if isinstance(memory_id, str) and memory_id.isascii() and memory_id.isdigit():
        return int(memory_id)
    raise InvalidArgument(f"memory_id must be an int or a decimal string; got {memory_id!r}",
                          field="memory_id")


def _dumps(args: Mapping[str, Any]) -> str:
    """The arguments as JSON; values JSON cannot hold (NaN, sets, objects) are an error."""
    try:
        # ASCII escapes: a lone surrogate reaches the JSON parser, which names it, rather
        # than failing to encode here.
        return json.dumps(args, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"an argument cannot be sent as JSON: {e}") from None


def _scope(args: Dict[str, Any], user_id: Optional[str], agent_id: Optional[str],
           run_id: Optional[str]) -> Dict[str, Any]:
    for name, value in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)):
        if value is not None:
            args[_SCOPE[name]] = value
    return args


def _expression(expr: Any) -> Any:
    """A Mem0 filter expression in the api's language: bare keys that name no field become
    metadata.KEY, inside AND / OR / NOT too. Anything malformed goes as it is, for the api
    to name."""
    if not isinstance(expr, Mapping):
        return expr
    out: Dict[str, Any] = {}
    for key, value in expr.items():
        if key in ("AND", "OR", "NOT") and isinstance(value, (list, tuple)):
            out[key] = [_expression(e) for e in value]
        elif key == "NOT":
            out[key] = _expression(value)
        elif (not isinstance(key, str) or key in _EXPRESSION_FIELDS
              or key.startswith(("metadata.", "meta."))):
            out[key] = value
        else:
            out["metadata." + key] = value
    return out


def _filters(args: Dict[str, Any], filters: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Mem0's ``filters``: a filter expression (fields, metadata keys, operators, AND / OR /
    NOT) plus mnemo's view arguments (kinds, since, until, as_of, valid_at) by name."""
    if filters is None:
        return args
    if not isinstance(filters, Mapping):
        raise InvalidArgument("filters must be a dict", field="filters")
    expression = {}
    for key, value in filters.items():
        field = _FILTER_ARGS.get(key)
        if field is None:
            expression[key] = value
            continue
        if field == "kinds" and isinstance(value, str):
            value = [value]
        if field in args and args[field] != value:
            raise InvalidArgument(f"filters[{key!r}] contradicts the {key} argument",
                                  field=f"filters.{key}")
        args[field] = value
    if expression:
        args["filters"] = _expression(expression)
    return args


def _messages(messages: Messages) -> List[Dict[str, Any]]:
    """Mem0's messages (a string, one {"role", "content"} dict or a list of them) as the
    api's messages ({"role", "speaker", "text"})."""
    if isinstance(messages, str):
        return [{"role": "user", "text": messages}]
    if isinstance(messages, Mapping):
        messages = [messages]
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping):
            raise InvalidArgument(f"messages[{i}] must be a dict with role and content",
                                  field=f"messages[{i}]")
        msg = {k: v for k, v in m.items() if k not in ("content", "name")}
        if "content" in m:
            msg["text"] = m["content"]
        if "name" in m:
            msg["speaker"] = m["name"]
        out.append(msg)
    return out


# The api's field names -> the Mem0 calls' argument names, for the errors those calls raise.
_MEM0_NAMES = {"k": "limit", "min_score": "threshold", "user": "user_id", "agent": "agent_id",
               "session": "run_id", "id": "memory_id", "meta": "metadata", "text": "data"}
_MEM0_ITEM_NAMES = {"text": "content", "speaker": "name", "meta": "metadata",
                    "session": "run_id", "agent": "agent_id"}


def _mem0_field(field: Optional[str]) -> Optional[str]:
    if not field:
        return field
    item = re.fullmatch(r"(?:memories|messages)\[(\d+)\](?:\.(\w+))?", field)
    if item:
        name = item.group(2)
        return f"messages[{item.group(1)}]" + (
            f".{_MEM0_ITEM_NAMES.get(name, name)}" if name else "")
    if field.startswith("meta."):
        return "metadata." + field[5:]
    if field.startswith("filters"):  # metadata keys as the filter named them
        return re.sub(r"(?<=\.)metadata\.", "", field)
    return _MEM0_NAMES.get(field, field)


def _mem0_call(operation: str, args: Dict[str, Any]) -> Plan:
    """One request of a Mem0 call: its errors name the call's arguments (limit, not k)."""
    try:
        return (yield operation, args)
    except MnemoError as e:
        e.field = _mem0_field(e.field)
        raise


def _mem0_item(m: Mapping[str, Any]) -> Dict[str, Any]:
    """A memory (or search hit) of the api in Mem0's shape."""
    item = {
        "id": str(m["id"]),
        "memory": m["text"],
        "metadata": m.get("meta") or None,
        "created_at": m.get("created_at"),
        "updated_at": m.get("updated_at"),
        "user_id": m.get("user") or None,
        "agent_id": m.get("agent") or None,
        "run_id": m.get("session") or None,
        "role": m.get("role") or None,
        "kind": m.get("kind"),
        "tags": m.get("tags", []),
        "origin": m.get("origin"),
        "trust": m.get("trust"),
        "quarantined": m.get("quarantined", False),
        "labels": m.get("labels", []),
    }
    if m.get("quarantined"):
        item["quarantine_reason"] = m.get("quarantine_reason")
    if "score" in m:
        item["score"] = m["score"]
    if "explain" in m:
        item["explain"] = m["explain"]
    return item


class _Surface:
    """The calls; subclasses run the plans (``_run``) over a transport (``_call``)."""

    space: str

    # --- Mem0-compatible ------------------------------------------------------------

    def _add(self, messages: Messages, user_id: Optional[str] = None,
             agent_id: Optional[str] = None, run_id: Optional[str] = None,
             metadata: Optional[Mapping[str, Any]] = None, infer: bool = True) -> Plan:
        msgs = _messages(messages)
        if infer:
            # A conversation: stored as episodes, facts derived in the background.
            for m in msgs:
                if agent_id is not None:
                    m.setdefault("agent", agent_id)
                if run_id is not None:
                    m.setdefault("session", run_id)
                if metadata is not None:
                    m.setdefault("meta", dict(metadata))
            args = {"space": self.space, "messages": msgs}
            if user_id is not None:
                args["user"] = user_id
            answer = yield from _mem0_call("ingest", args)
        else:
            items = []
            for m in msgs:
                item = _scope({"text": m.get("text")}, user_id, agent_id, run_id)
                for key in ("role", "speaker", "time", "kind", "tags"):
                    if key in m:
                        item[key] = m[key]
                if metadata is not None or "meta" in m:
                    item["meta"] = dict(m.get("meta") or metadata or {})
                items.append(item)
            answer = yield from _mem0_call("add_memories", {"space": self.space, "memories": items})
        return {"results": [{"id": str(i), "memory": m.get("text"), "event": "ADD"}
                            for i, m in zip(answer["ids"], msgs)]}

    def _search(self, query: str, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                run_id: Optional[str] = None, limit: Optional[int] = None,
                filters: Optional[Mapping[str, Any]] = None, threshold: Optional[float] = None,
                **options: Any) -> Plan:
        args = _scope({"space": self.space, "query": query}, user_id, agent_id, run_id)
        _filters(args, filters)
        if limit is not None:
            args["k"] = limit
        if threshold is not None:
            args["min_score"] = threshold
        args.update(options)
        answer = yield from _mem0_call("search", args)
        return {"results": [_mem0_item(h) for h in answer["results"]]}

    def _get(self, memory_id: MemoryIdLike) -> Plan:
        m = yield from _mem0_call("get_memory", {"space": self.space, "id": _memory_id(memory_id)})
        return _mem0_item(m)

    def _get_all(self, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                 run_id: Optional[str] = None, filters: Optional[Mapping[str, Any]] = None,
                 limit: int = 100, quarantined: Optional[str] = None,
                 labels: Optional[Iterable[str]] = None,
                 exclude_labels: Optional[Iterable[str]] = None) -> Plan:
        args = _filters(_scope({"space": self.space}, user_id, agent_id, run_id), filters)
        if quarantined is not None:
            args["quarantined"] = quarantined
        if labels is not None:
            args["labels"] = list(labels)
        if exclude_labels is not None:
            args["exclude_labels"] = list(exclude_labels)
        # Newest first, as Mem0 lists; pages of the api's size until `limit`.
        args["descending"] = True
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidArgument(f"limit must be an int; got {limit!r}", field="limit")
        results: List[Dict[str, Any]] = []
        while True:  # the first page also when limit < 1: the api names the bad limit
            args["limit"] = min(limit - len(results), 1000)
            page = yield from _mem0_call("list_memories", args)
            results += [_mem0_item(m) for m in page["memories"]]
            if not page["next_cursor"] or len(results) >= limit:
                break
            args["cursor"] = page["next_cursor"]
        return {"results": results}

    def _update(self, memory_id: MemoryIdLike, data: str) -> Plan:
        yield from _mem0_call("update_memory", {"space": self.space, "id": _memory_id(memory_id),
                                                "text": data})
        return {"message": "Memory updated successfully!"}

    def _delete(self, memory_id: MemoryIdLike) -> Plan:
        yield from _mem0_call("delete_memory", {"space": self.space, "id": _memory_id(memory_id)})
        return {"message": "Memory deleted successfully!"}

    def _delete_all(self, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                    run_id: Optional[str] = None) -> Plan:
        answer = yield from _mem0_call(
            "delete_memories", _scope({"space": self.space}, user_id, agent_id, run_id))
        return {"message": "Memories deleted successfully!", "deleted": answer["deleted"]}

    def _history(self, memory_id: MemoryIdLike) -> Plan:
        answer = yield from _mem0_call("memory_history",
                                       {"space": self.space, "id": _memory_id(memory_id)})
        out = []
        for h in answer["history"]:
            before, after = h.get("before") or {}, h.get("after") or {}
            out.append({
                "id": f'{h["memory_id"]}:{h["version"]}:{h["op"]}',
                "memory_id": str(h["memory_id"]),
                "old_memory": before.get("text"),
                "new_memory": after.get("text"),
                "event": _HISTORY_EVENTS.get(h["op"], h["op"].upper()),
                "created_at": h["time"],
                "is_deleted": h["op"] in ("remove", "purge"),
                "actor_id": h.get("actor") or None,
                "reason": h.get("reason") or None,
            })
        return out

    def _reset(self) -> Plan:
        """Drops this space with every memory in it and creates it empty."""
        try:
            yield "drop_space", {"space": self.space}
        except NotFound:
            pass
        yield "create_space", {"name": self.space}
        return {"message": "Memory reset successfully!"}

    # --- mnemo's own ----------------------------------------------------------------

    def _op(self, operation: str, **args: Any) -> Plan:
        """Any operation of the api by name, ``space`` defaulting to this one's."""
        if operation not in ("list_spaces", "create_space"):
            args.setdefault("space", self.space)
        return (yield operation, args)

    def _add_memory(self, text: str, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                    run_id: Optional[str] = None, **fields: Any) -> Plan:
        args = _scope({"space": self.space, "text": text}, user_id, agent_id, run_id)
        args.update(fields)
        return (yield "add_memory", args)

    def _list_spaces(self) -> Plan:
        answer = yield "list_spaces", {}
        return answer["spaces"]

    def _users(self, limit: Optional[int], cursor: Optional[str]) -> Plan:
        args: Dict[str, Any] = {"space": self.space}
        if limit is not None:
            args["limit"] = limit
        if cursor:
            args["cursor"] = cursor
        return (yield "list_users", args)

    def _context(self, query: str, user_id: str, **options: Any) -> Plan:
        return (yield "build_context", {"space": self.space, "query": query, "user": user_id,
                                        **options})

    def _profile(self, user_id: str, limit: Optional[int] = None) -> Plan:
        args: Dict[str, Any] = {"space": self.space, "user": user_id}
        if limit is not None:
            args["limit"] = limit
        return (yield "get_profile", args)

    def _edit_profile(self, user_id: str, set: Optional[Mapping[str, str]] = None,  # noqa: A002
                      unset: Optional[Iterable[str]] = None, reason: Optional[str] = None) -> Plan:
        args: Dict[str, Any] = {"space": self.space, "user": user_id}
        if set is not None:
            args["set"] = dict(set)
        if unset is not None:
            args["unset"] = list(unset)
        if reason is not None:
            args["reason"] = reason
        return (yield "edit_profile", args)

    def _export(self, user_id: Optional[str] = None) -> Plan:
        args: Dict[str, Any] = {"space": self.space}
        if user_id is not None:
            args["user"] = user_id
        return (yield "export", args)

    def _erase_user(self, user_id: str, reason: Optional[str] = None) -> Plan:
        args: Dict[str, Any] = {"space": self.space, "user": user_id}
        if reason is not None:
            args["reason"] = reason
        return (yield "erase_user", args)

    def _set_quarantined(self, memory_id: MemoryIdLike, quarantined: bool,
                         reason: Optional[str] = None) -> Plan:
        args: Dict[str, Any] = {"space": self.space, "id": _memory_id(memory_id),
                                "quarantined": quarantined}
        if reason is not None:
            args["reason"] = reason
        return (yield "update_memory", args)

    def _import(self, export: str) -> Plan:
        if not isinstance(export, str):
            raise InvalidArgument("export must be the text of an export (a str)", field="export")
        return (yield "import", {"space": self.space, "export": export})

    def _provenance(self, memory_id: MemoryIdLike) -> Plan:
        answer = yield "memory_provenance", {"space": self.space, "id": _memory_id(memory_id)}
        return answer["provenance"]


def _advance(plan: Plan, answer: Any, error: Optional[MnemoError]) -> Tuple[bool, Any]:
    """(True, result) when the plan is done, else (False, its next request)."""
    try:
        return False, (plan.throw(error) if error is not None else plan.send(answer))
    except StopIteration as done:
        return True, done.value


class _Runner(_Surface):
    """Creates the space on first use (when the key may) around any plan."""

    _auto_create = True

    def _creating_space(self, plan: Plan) -> Plan:
        answer: Any = None
        error: Optional[MnemoError] = None
        while True:
            done, request = _advance(plan, answer, error)
            if done:
                return request
            answer, error = None, None
            try:
                answer = yield request
            except NotFound as e:
                if not self._creates_space(e, *request):
                    error = e
                    continue
                try:
                    yield "create_space", {"name": self.space}
                except Conflict:
                    pass  # created meanwhile
                except PermissionDenied:
                    error = e  # the key may not create it: the plain answer
                    continue
                try:
                    answer = yield request
                except MnemoError as again:
                    error = again
            except MnemoError as e:
                error = e

    def _creates_space(self, e: MnemoError, operation: str, args: Mapping[str, Any]) -> bool:
        return (self._auto_create and e.field == "space" and args.get("space") == self.space
                and operation not in ("drop_space", "get_space", "create_space"))


class _Sync(_Runner):
    """Runs the plans with a blocking ``_call(operation, args) -> answer``."""

    def _call(self, operation: str, args: Dict[str, Any]) -> Any:
        raise NotImplementedError

    def _run(self, plan: Plan) -> Any:
        plan, answer, error = self._creating_space(plan), None, None
        while True:
            done, request = _advance(plan, answer, error)
            if done:
                return request
            try:
                answer, error = self._call(*request), None
            except MnemoError as e:
                answer, error = None, e


class _Async(_Runner):
    """Runs the plans with an awaitable ``_acall(operation, args) -> answer``."""

    async def _acall(self, operation: str, args: Dict[str, Any]) -> Any:
        raise NotImplementedError

    async def _run(self, plan: Plan) -> Any:
        plan, answer, error = self._creating_space(plan), None, None
        while True:
            done, request = _advance(plan, answer, error)
            if done:
                return request
            try:
                answer, error = await self._acall(*request), None
            except MnemoError as e:
                answer, error = None, e


# --- the public methods, each once for blocking and once for asyncio callers ---------


class SyncMethods(_Sync):
    """The calls of Memory and Client."""

    def add(self, messages: Messages, *, user_id: Optional[str] = None,
            agent_id: Optional[str] = None, run_id: Optional[str] = None,
            metadata: Optional[Mapping[str, Any]] = None, infer: bool = True) -> Dict[str, Any]:
        """Stores messages: a string, one ``{"role", "content"}`` dict or a list of them.

        With ``infer=True`` (the default) they are a conversation of ``user_id``: stored as
        episodes, with facts, preferences and events derived from them in the background.
        With ``infer=False`` each is stored as one memory as is. Returns
        ``{"results": [{"id", "memory", "event": "ADD"}]}``."""
        return self._run(self._add(messages, user_id, agent_id, run_id, metadata, infer))

    def search(self, query: str, *, user_id: Optional[str] = None, agent_id: Optional[str] = None,
               run_id: Optional[str] = None, limit: Optional[int] = None,
               filters: Optional[Mapping[str, Any]] = None, threshold: Optional[float] = None,
               **options: Any) -> Dict[str, Any]:
        """Hybrid search (lexical, vector, time, entities), best first.

        ``limit`` is the number of hits (default 10), ``threshold`` the lowest score kept.
        ``filters`` is a Mem0 filter: fields (user_id, run_id, kind, created_at, tags,
        ...) and metadata keys, each equal to a value or compared by operators (eq, ne,
        gt, gte, lt, lte, in, nin, contains, icontains, "*"), combined with AND / OR /
        NOT; also kinds, since, until, as_of and valid_at by name. Other
        keyword ``options`` (explain=True, fusion weights, ...) go to the api as is.
        Returns ``{"results": [{"id", "memory", "score", "metadata", "user_id", ...}]}``."""
        return self._run(self._search(
            query, user_id, agent_id, run_id, limit, filters, threshold, **options))

    def get(self, memory_id: MemoryIdLike) -> Dict[str, Any]:
        """One memory in Mem0's shape; NotFound when it does not exist."""
        return self._run(self._get(memory_id))

    def get_all(self, *, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                run_id: Optional[str] = None, filters: Optional[Mapping[str, Any]] = None,
                limit: int = 100, quarantined: Optional[str] = None,
                labels: Optional[Iterable[str]] = None,
                exclude_labels: Optional[Iterable[str]] = None) -> Dict[str, Any]:
        """Active memories, newest first, up to ``limit``: ``{"results": [...]}``.
        ``quarantined``: "include" or "only" to show quarantined memories too, or only them
        (by default they are left out). ``labels`` / ``exclude_labels``: only memories with
        any / none of these sensitivity labels ("health", "finance", ...)."""
        return self._run(self._get_all(user_id, agent_id, run_id, filters, limit, quarantined,
                                       labels, exclude_labels))

    def update(self, memory_id: MemoryIdLike, data: str) -> Dict[str, Any]:
        """Replaces a memory's text; the old text stays in its history."""
        return self._run(self._update(memory_id, data))

    def delete(self, memory_id: MemoryIdLike) -> Dict[str, Any]:
        """Deletes a memory (soft: it stays in history and exports)."""
        return self._run(self._delete(memory_id))

    def delete_all(self, *, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                   run_id: Optional[str] = None) -> Dict[str, Any]:
        """Deletes every active memory of a user, agent or run (one of them is required).
        Returns ``{"message", "deleted": count}``."""
        return self._run(self._delete_all(user_id, agent_id, run_id))

    def history(self, memory_id: MemoryIdLike) -> List[Dict[str, Any]]:
        """A memory's changes, oldest first: ``[{"event", "old_memory", "new_memory", ...}]``."""
        return self._run(self._history(memory_id))

    def reset(self) -> Dict[str, Any]:
        """Drops this space with every memory in it, and creates it empty."""
        return self._run(self._reset())

    def add_memory(self, text: str, *, user_id: Optional[str] = None,
                   agent_id: Optional[str] = None, run_id: Optional[str] = None,
                   **fields: Any) -> Dict[str, Any]:
        """Adds one memory with mnemo's fields (kind, tags, importance, time, ttl, meta, ...);
        returns it as the api does (int ids, mnemo's field names)."""
        return self._run(self._add_memory(text, user_id, agent_id, run_id, **fields))

    def list_spaces(self) -> List[Dict[str, Any]]:
        """Every space: ``[{"name", "memories"}]``."""
        return self._run(self._list_spaces())

    def users(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Dict[str, Any]:
        """The users of this space, by id: ``{"users": [{"user", "memories", "first_time",
        "last_time"}], "next_cursor"}`` (pass ``next_cursor`` as ``cursor`` for the next page)."""
        return self._run(self._users(limit, cursor))

    def context(self, query: str, *, user_id: str, **options: Any) -> Dict[str, Any]:
        """A prompt-ready, token-budgeted context block for ``query`` and ``user_id``
        (options: budget, k, now, profile_entries). Returns ``{"text", "tokens", ...}``."""
        return self._run(self._context(query, user_id, **options))

    def profile(self, user_id: str, *, limit: Optional[int] = None) -> Dict[str, Any]:
        """A user's profile (core memory): ``{"user", "entries": [...]}``."""
        return self._run(self._profile(user_id, limit))

    def edit_profile(self, user_id: str, *, set: Optional[Mapping[str, str]] = None,
                     unset: Optional[Iterable[str]] = None,
                     reason: Optional[str] = None) -> Dict[str, Any]:
        """Sets and unsets profile entries; returns the profile."""
        return self._run(self._edit_profile(user_id, set, unset, reason))

    def export(self, *, user_id: Optional[str] = None) -> str:
        """The space as lossless JSONL (``mnemo import`` reads it); with ``user_id`` only that
        user's memories, history and links (a data-subject export)."""
        return self._run(self._export(user_id))

    def erase_user(self, user_id: str, *, reason: Optional[str] = None) -> Dict[str, Any]:
        """Erases every memory, history row, index entry and job of ``user_id``,
        irreversibly (a data-subject erasure; admin). Returns ``{"user", "erased",
        "memories", "jobs"}``."""
        return self._run(self._erase_user(user_id, reason))

    def quarantine(self, memory_id: MemoryIdLike, *, reason: Optional[str] = None) -> Dict[str, Any]:
        """Keeps a memory out of context, default lists and searches, and derivation (it
        stays, flagged). Text from a tool or the web that reads as instructions to the agent
        is quarantined at write; list it with ``list_memories(quarantined="only")``."""
        return self._run(self._set_quarantined(memory_id, True, reason))

    def release(self, memory_id: MemoryIdLike, *, reason: Optional[str] = None) -> Dict[str, Any]:
        """Releases a memory from quarantine (admin)."""
        return self._run(self._set_quarantined(memory_id, False, reason))

    def import_(self, export: str) -> Dict[str, int]:
        """Reads an export (``export()``'s text) into this space, created if missing, in one
        transaction; ids and history are kept. Returns ``{"memories", "history", "links"}``.
        An id that exists already raises ``Conflict`` and nothing is imported."""
        return self._run(self._import(export))

    def provenance(self, memory_id: MemoryIdLike) -> List[Dict[str, Any]]:
        """The memory and, breadth first, what it was derived from, down to the episodes:
        mnemo's memory fields plus ``depth`` and (below the top) ``derived_into``."""
        return self._run(self._provenance(memory_id))

    def op(self, operation: str, **args: Any) -> Any:
        """Runs any operation of the api by name (docs/api.md, "by name") with its arguments;
        ``space`` defaults to this one's."""
        return self._run(self._op(operation, **args))


class AsyncMethods(_Async):
    """The calls of AsyncClient (each a coroutine)."""

    async def add(self, messages: Messages, *, user_id: Optional[str] = None,
                  agent_id: Optional[str] = None, run_id: Optional[str] = None,
                  metadata: Optional[Mapping[str, Any]] = None,
                  infer: bool = True) -> Dict[str, Any]:
        """Stores messages: a string, one ``{"role", "content"}`` dict or a list of them.

        With ``infer=True`` (the default) they are a conversation of ``user_id``: stored as
        episodes, with facts, preferences and events derived from them in the background.
        With ``infer=False`` each is stored as one memory as is. Returns
        ``{"results": [{"id", "memory", "event": "ADD"}]}``."""
        return await self._run(self._add(messages, user_id, agent_id, run_id, metadata, infer))

    async def search(self, query: str, *, user_id: Optional[str] = None,
                     agent_id: Optional[str] = None, run_id: Optional[str] = None,
                     limit: Optional[int] = None, filters: Optional[Mapping[str, Any]] = None,
                     threshold: Optional[float] = None, **options: Any) -> Dict[str, Any]:
        """Hybrid search (lexical, vector, time, entities), best first.

        ``limit`` is the number of hits (default 10), ``threshold`` the lowest score kept.
        ``filters`` is a Mem0 filter: fields (user_id, run_id, kind, created_at, tags,
        ...) and metadata keys, each equal to a value or compared by operators (eq, ne,
        gt, gte, lt, lte, in, nin, contains, icontains, "*"), combined with AND / OR /
        NOT; also kinds, since, until, as_of and valid_at by name. Other
        keyword ``options`` (explain=True, fusion weights, ...) go to the api as is.
        Returns ``{"results": [{"id", "memory", "score", "metadata", "user_id", ...}]}``."""
        return await self._run(self._search(
            query, user_id, agent_id, run_id, limit, filters, threshold, **options))

    async def get(self, memory_id: MemoryIdLike) -> Dict[str, Any]:
        """One memory in Mem0's shape; NotFound when it does not exist."""
        return await self._run(self._get(memory_id))

    async def get_all(self, *, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                      run_id: Optional[str] = None, filters: Optional[Mapping[str, Any]] = None,
                      limit: int = 100, quarantined: Optional[str] = None,
                      labels: Optional[Iterable[str]] = None,
                      exclude_labels: Optional[Iterable[str]] = None) -> Dict[str, Any]:
        """Active memories, newest first; see the synchronous ``get_all``."""
        return await self._run(self._get_all(user_id, agent_id, run_id, filters, limit,
                                             quarantined, labels, exclude_labels))

    async def update(self, memory_id: MemoryIdLike, data: str) -> Dict[str, Any]:
        """Replaces a memory's text; the old text stays in its history."""
        return await self._run(self._update(memory_id, data))

    async def delete(self, memory_id: MemoryIdLike) -> Dict[str, Any]:
        """Deletes a memory (soft: it stays in history and exports)."""
        return await self._run(self._delete(memory_id))

    async def delete_all(self, *, user_id: Optional[str] = None, agent_id: Optional[str] = None,
                         run_id: Optional[str] = None) -> Dict[str, Any]:
        """Deletes every active memory of a user, agent or run (one of them is required).
        Returns ``{"message", "deleted": count}``."""
        return await self._run(self._delete_all(user_id, agent_id, run_id))

    async def history(self, memory_id: MemoryIdLike) -> List[Dict[str, Any]]:
        """A memory's changes, oldest first: ``[{"event", "old_memory", "new_memory", ...}]``."""
        return await self._run(self._history(memory_id))

    async def reset(self) -> Dict[str, Any]:
        """Drops this space with every memory in it, and creates it empty."""
        return await self._run(self._reset())

    async def add_memory(self, text: str, *, user_id: Optional[str] = None,
                         agent_id: Optional[str] = None, run_id: Optional[str] = None,
                         **fields: Any) -> Dict[str, Any]:
        """Adds one memory with mnemo's fields (kind, tags, importance, time, ttl, meta, ...);
        returns it as the api does (int ids, mnemo's field names)."""
        return await self._run(self._add_memory(text, user_id, agent_id, run_id, **fields))

    async def list_spaces(self) -> List[Dict[str, Any]]:
        """Every space: ``[{"name", "memories"}]``."""
        return await self._run(self._list_spaces())

    async def users(self, *, limit: Optional[int] = None,
                    cursor: Optional[str] = None) -> Dict[str, Any]:
        """The users of this space, by id: ``{"users": [...], "next_cursor"}``."""
        return await self._run(self._users(limit, cursor))

    async def context(self, query: str, *, user_id: str, **options: Any) -> Dict[str, Any]:
        """A prompt-ready, token-budgeted context block for ``query`` and ``user_id``
        (options: budget, k, now, profile_entries). Returns ``{"text", "tokens", ...}``."""
        return await self._run(self._context(query, user_id, **options))

    async def profile(self, user_id: str, *, limit: Optional[int] = None) -> Dict[str, Any]:
        """A user's profile (core memory): ``{"user", "entries": [...]}``."""
        return await self._run(self._profile(user_id, limit))

    async def edit_profile(self, user_id: str, *, set: Optional[Mapping[str, str]] = None,
                           unset: Optional[Iterable[str]] = None,
                           reason: Optional[str] = None) -> Dict[str, Any]:
        """Sets and unsets profile entries; returns the profile."""
        return await self._run(self._edit_profile(user_id, set, unset, reason))

    async def export(self, *, user_id: Optional[str] = None) -> str:
        """The space (or ``user_id``'s part of it) as lossless JSONL; see ``export``."""
        return await self._run(self._export(user_id))

    async def erase_user(self, user_id: str, *, reason: Optional[str] = None) -> Dict[str, Any]:
        """Erases everything of ``user_id``; see the synchronous ``erase_user``."""
        return await self._run(self._erase_user(user_id, reason))

    async def quarantine(self, memory_id: MemoryIdLike, *,
                         reason: Optional[str] = None) -> Dict[str, Any]:
        """Quarantines a memory; see the synchronous ``quarantine``."""
        return await self._run(self._set_quarantined(memory_id, True, reason))

    async def release(self, memory_id: MemoryIdLike, *,
                      reason: Optional[str] = None) -> Dict[str, Any]:
        """Releases a memory from quarantine (admin)."""
        return await self._run(self._set_quarantined(memory_id, False, reason))

    async def import_(self, export: str) -> Dict[str, int]:
        """Reads an export into this space; see the synchronous ``import_``."""
        return await self._run(self._import(export))

    async def provenance(self, memory_id: MemoryIdLike) -> List[Dict[str, Any]]:
        """The memory and what it was derived from; see the synchronous ``provenance``."""
        return await self._run(self._provenance(memory_id))

    async def op(self, operation: str, **args: Any) -> Any:
        """Runs any operation of the api by name (docs/api.md, "by name") with its arguments;
        ``space`` defaults to this one's."""
        return await self._run(self._op(operation, **args))
