"""What differs between the faces: the embedded engine's data folder, threads and close;
the clients' keys, connections and asyncio concurrency; the same answers from each."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import mnemo
from conftest import Server, cli

CONVERSATION = [
    {"role": "user", "content": "I just moved to Munich from Berlin"},
    {"role": "assistant", "content": "Munich is lovely! How is the new flat?"},
    {"role": "user", "content": "I am allergic to peanuts, so no satay please"},
    {"role": "user", "content": "I work as a nurse at the city hospital"},
]


def test_embedded_and_client_answer_alike(tmp_path):
    server = Server(tmp_path / "served")
    try:
        faces = [mnemo.Memory(tmp_path / "embedded", space="s"),
                 mnemo.Client(server.url, space="s")]
        answers = []
        for m in faces:
            for i, turn in enumerate(CONVERSATION):
                m.add(turn["content"], user_id="sam", infer=False, metadata={"turn": i})
            hits = m.search("where does Sam live?", user_id="sam")["results"]
            answers.append([(h["memory"], round(h["score"], 9), h["metadata"]) for h in hits])
        assert answers[0] == answers[1] and answers[0]
        faces[0].close()
    finally:
        server.stop()


def test_embedded_conversations_derive_facts_in_the_background(tmp_path):
    with mnemo.Memory(tmp_path / "d") as m:
        m.add(CONVERSATION, user_id="sam", run_id="s1")
        deadline = time.time() + 60
        derived = []
        while time.time() < deadline and not derived:
            derived = [x for x in m.get_all(user_id="sam")["results"] if x["kind"] != "episode"]
            time.sleep(0.1)
        assert any("peanut" in x["memory"].lower() for x in derived), derived


def test_embedded_is_safe_from_threads(tmp_path):
    m = mnemo.Memory(tmp_path / "d")
    ids, errors = [], []

    def work(t: int) -> None:
        try:
            for i in range(40):
                out = m.add(f"thread {t} note {i} about gardening", user_id=f"u{t}", infer=False)
                ids.append(out["results"][0]["id"])
                assert m.search("gardening", user_id=f"u{t}", limit=3)["results"]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 320
    assert len(m.get_all(limit=1000)["results"]) == 320
    m.close()


def test_embedded_close_and_the_folder_lock(tmp_path):
    m = mnemo.Memory(tmp_path / "d")
    m.add("kept across opens", user_id="u", infer=False)
    with pytest.raises(mnemo.MnemoError) as e:
        mnemo.Memory(tmp_path / "d")  # one process at a time
    assert "in use" in e.value.message
    m.close()
    assert m.closed
    with pytest.raises(mnemo.Conflict):
        m.get_all()
    m.close()  # twice is fine
    again = mnemo.Memory(tmp_path / "d")
    assert [x["memory"] for x in again.get_all()["results"]] == ["kept across opens"]
    again.close()
    # The CLI reads what the package wrote.
    listed = cli(tmp_path / "d", "list", "--space", "default", "--user", "u")
    assert "kept across opens" in str(listed)


def test_embedded_next_to_a_running_server_goes_through_its_socket(tmp_path):
    server = Server(tmp_path / "served")
    try:
        m = mnemo.Memory(tmp_path / "served", space="s")  # created on first use, as alone
        added = m.add("Sam lives in Munich", user_id="sam", infer=False)["results"][0]
        client = mnemo.Client(server.url, space="s")
        assert client.get(added["id"])["memory"] == "Sam lives in Munich"
        assert [h["memory"] for h in m.search("Munich", user_id="sam")["results"]] == \
            ["Sam lives in Munich"]
        with pytest.raises(mnemo.NotFound) as e:
            m.get(123456789)
        assert e.value.field == "memory_id"
        with pytest.raises(mnemo.InvalidArgument) as e:
            mnemo.Memory(tmp_path / "served", settings={"pipeline.enabled": False})
        assert e.value.field == "settings"
        m.close()
        assert m.closed
        with pytest.raises(mnemo.Conflict):
            m.get_all(user_id="sam")
    finally:
        server.stop()
    # The server gone (its socket removed), the folder opens in process again.
    assert not os.path.exists(tmp_path / "served" / "mnemo.sock")
    with mnemo.Memory(tmp_path / "served", space="s") as again:
        assert [x["memory"] for x in again.get_all(user_id="sam")["results"]] == \
            ["Sam lives in Munich"]


def test_embedded_settings_and_bad_settings(tmp_path):
    with mnemo.Memory(tmp_path / "d", settings={"pipeline.enabled": False}) as m:
        m.add(CONVERSATION, user_id="sam")
        time.sleep(0.5)
        assert {x["kind"] for x in m.get_all(user_id="sam")["results"]} == {"episode"}
    with pytest.raises(mnemo.InvalidArgument) as e:
        mnemo.Memory(tmp_path / "e", settings={"pipeline.window_turns": "many"})
    assert "window_turns" in e.value.message and e.value.field == "settings"


def test_bad_constructor_arguments_name_the_argument(tmp_path):
    for kwargs, field in [({"path": 123}, "path"), ({"path": b"/tmp/x"}, "path"),
                          ({"path": tmp_path / "a", "space": 5}, "space"),
                          ({"path": tmp_path / "b", "settings": ["x"]}, "settings")]:
        with pytest.raises(mnemo.InvalidArgument) as e:
            mnemo.Memory(**kwargs)
        assert e.value.field == field, kwargs
    for cls in (mnemo.Client, mnemo.AsyncClient):
        for kwargs, field in [({"base_url": None}, "base_url"),
                              ({"base_url": "http://h:port"}, "base_url"),
                              ({"base_url": "https://h"}, "base_url"),
                              ({"api_key": 7}, "api_key"), ({"space": None}, "space"),
                              ({"timeout": 0}, "timeout"), ({"timeout": "5"}, "timeout")]:
            with pytest.raises(mnemo.InvalidArgument) as e:
                cls(**kwargs)
            assert e.value.field == field, (cls, kwargs)


def test_a_process_exit_closes_open_memories(tmp_path):
    code = ("import mnemo, sys; m = mnemo.Memory(sys.argv[1]); "
            "m.add('saved at exit', user_id='u', infer=False)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "d")], check=True, timeout=60,
                   env=dict(os.environ))
    with mnemo.Memory(tmp_path / "d") as m:
        assert [x["memory"] for x in m.get_all()["results"]] == ["saved at exit"]


def test_client_keys_roles_and_space_creation(tmp_path):
    data = tmp_path / "served"
    cli(data, "init")
    cli(data, "space", "create", "shared")
    admin = cli(data, "keys", "create", "--name", "admin", "--grant", "*:admin")["key"]
    reader = cli(data, "keys", "create", "--name", "reader", "--grant", "shared:read")["key"]
    server = Server(data)
    try:
        with pytest.raises(mnemo.PermissionDenied) as e:
            mnemo.Client(server.url, space="shared").get_all()  # no key
        assert e.value.status == 401
        c = mnemo.Client(server.url, api_key=admin, space="fresh")
        c.add("created on first use", user_id="u", infer=False)  # the space did not exist
        assert any(s["name"] == "fresh" for s in c.list_spaces())
        r = mnemo.Client(server.url, api_key=reader, space="shared")
        assert r.get_all()["results"] == []
        with pytest.raises(mnemo.PermissionDenied) as e:
            r.add("x", user_id="u", infer=False)
        assert e.value.status == 403 and e.value.field == "space"
        # A key that may not create the space gets the plain answer, not a creation attempt.
        with pytest.raises(mnemo.PermissionDenied):
            mnemo.Client(server.url, api_key=reader, space="elsewhere").get_all()
    finally:
        server.stop()


def test_client_with_an_end_user_key_reaches_its_user_only(tmp_path):
    data = tmp_path / "served"
    cli(data, "init")
    cli(data, "space", "create", "shared")
    bob = cli(data, "add", "--space", "shared", "--user", "bob", "bob lives in Paris")["id"]
    alice = cli(data, "keys", "create", "--name", "alice app", "--grant", "shared:write",
                "--user", "alice")["key"]
    server = Server(data)
    try:
        c = mnemo.Client(server.url, api_key=alice, space="shared")
        c.add("alice lives in Oslo", user_id="alice", infer=False)
        with pytest.raises(mnemo.PermissionDenied) as e:
            c.add("planted", user_id="bob", infer=False)
        assert e.value.status == 403 and e.value.field == "messages[0].user"
        with pytest.raises(mnemo.PermissionDenied):
            c.search("lives", user_id="bob")
        with pytest.raises(mnemo.NotFound):
            c.get(bob)
        hits = c.search("lives Paris Oslo", user_id="alice")["results"]
        assert [h["memory"] for h in hits] == ["alice lives in Oslo"]
    finally:
        server.stop()


def test_client_errors_when_the_server_is_gone(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(mnemo.Unavailable):
        mnemo.Client(f"http://127.0.0.1:{port}").get_all()
    with pytest.raises(mnemo.Unavailable):
        asyncio.run(mnemo.AsyncClient(f"http://127.0.0.1:{port}").get_all())
    with pytest.raises(mnemo.InvalidArgument) as e:
        mnemo.Client("https://example.com")
    assert e.value.field == "base_url"


def test_client_survives_a_server_restart(tmp_path):
    server = Server(tmp_path / "d")
    c = mnemo.Client(server.url)
    c.add("before", user_id="u", infer=False)
    port = server.url.rsplit(":", 1)[1]
    server.stop()
    with pytest.raises(mnemo.Unavailable):
        c.get_all()
    again = Server(tmp_path / "d", port=int(port))
    try:
        assert [x["memory"] for x in c.get_all()["results"]] == ["before"]
    finally:
        again.stop()


def test_async_client_runs_calls_concurrently(server):
    async def main() -> None:
        async with mnemo.AsyncClient(server.url, space="a") as c:
            added = await asyncio.gather(*[
                c.add(f"async note {i} about sailing", user_id="u", infer=False)
                for i in range(30)])
            assert len({a["results"][0]["id"] for a in added}) == 30
            found = await asyncio.gather(*[c.search("sailing", user_id="u", limit=5)
                                           for _ in range(10)])
            assert all(len(f["results"]) == 5 for f in found)
            assert len((await c.get_all(limit=100))["results"]) == 30

    asyncio.run(main())
