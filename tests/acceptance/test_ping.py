"""Issue 5: Ping statuses, wake-ups, takeover, heartbeat end and shutdown."""
from __future__ import annotations

import concurrent.futures as cf
import shutil
import signal
import smtplib
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from conftest import Easd
from test_email_sync import client, folder_id
from wbxml_util import WBXMLReader, WBXMLWriter, wtag
from pyactivesync._wbxml import find, find_all, text_of


def deliver(easd, to: str, subject: str) -> float:
    m = EmailMessage()
    m["From"] = "x@example.net"
    m["To"] = to
    m["Subject"] = subject
    m.set_content("ping me\n")
    with smtplib.LMTP("127.0.0.1", easd.lmtp_port) as lmtp:
        assert lmtp.send_message(m, to_addrs=[to]) == {}
    return time.monotonic()


def raw_ping(easd, user, pw, device, policy_key, body: bytes, timeout=60):
    r = requests.post(
        f"{easd.eas_url}?Cmd=Ping&User={user}&DeviceId={device}&DeviceType=Test",
        data=body,
        headers={"MS-ASProtocolVersion": "16.1", "Content-Type": "application/vnd.ms-sync.wbxml", "X-MS-PolicyKey": policy_key},
        auth=(user, pw),
        timeout=timeout,
    )
    assert r.status_code == 200, r.text
    nodes = WBXMLReader(r.content).parse()
    return text_of(find(nodes, "Ping.Status")), nodes


def ping_body(folders: list[str] | None, heartbeat: int | None) -> bytes:
    children = []
    if heartbeat is not None:
        children.append(wtag("Ping", "HeartbeatInterval", text=str(heartbeat)))
    if folders is not None:
        children.append(wtag("Ping", "Folders", children=[
            wtag("Ping", "Folder", children=[wtag("Ping", "Id", text=f), wtag("Ping", "Class", text="Email")]) for f in folders]))
    w = WBXMLWriter()
    w.tag("Ping", "Ping", children=children)
    return w.render()


@pytest.fixture()
def synced(easd):
    """A user whose phone synced its Inbox: (client, inbox id, sync key, policy key, user)."""
    import uuid

    user = f"p{uuid.uuid4().hex[:8]}@example.com"
    easd.add_user(user, "pw")
    c = client(easd, user, "pw", "PINGPHONE" + uuid.uuid4().hex[:6].upper())
    pk = c.provision()
    inbox = folder_id(c, "Inbox")
    key = c.sync_folder(inbox, "0").sync_key
    key = c.sync_folder(inbox, key).sync_key
    return c, inbox, key, pk, user


def test_delivery_wakes_a_parked_ping(easd, synced):
    c, inbox, key, pk, user = synced
    with cf.ThreadPoolExecutor(1) as ex:
        fut = ex.submit(c.ping, inbox, heartbeat=300, timeout=60)
        time.sleep(0.5)
        assert not fut.done()
        delivered = deliver(easd, user, "wake up")
        r = fut.result(timeout=30)
        latency = time.monotonic() - delivered
    assert r.status == "2" and r.changed_folder_ids == [inbox]
    assert latency < 5, latency


def test_change_between_two_pings_is_reported_at_once(easd, synced):
    c, inbox, key, pk, user = synced
    deliver(easd, user, "while not parked")
    t = time.monotonic()
    r = c.ping(inbox, heartbeat=300, timeout=60)
    assert r.status == "2" and r.changed_folder_ids == [inbox]
    assert time.monotonic() - t < 5
    # After syncing the change, the next Ping parks again (nothing pending).
    key = c.sync_folder(inbox, key).sync_key
    with cf.ThreadPoolExecutor(1) as ex:
        fut = ex.submit(c.ping, inbox, heartbeat=300, timeout=60)
        time.sleep(1.0)
        assert not fut.done()
        deliver(easd, user, "again")
        assert fut.result(timeout=30).status == "2"


def test_a_second_ping_ends_the_first(easd, synced):
    c, inbox, key, pk, user = synced
    with cf.ThreadPoolExecutor(2) as ex:
        first = ex.submit(c.ping, inbox, heartbeat=300, timeout=60)
        time.sleep(0.5)
        second = ex.submit(raw_ping, easd, user, "pw", c._transport.device_id, pk, ping_body([inbox], 300))
        assert first.result(timeout=10).status == "1"
        time.sleep(0.3)
        deliver(easd, user, "for the second")
        status, nodes = second.result(timeout=30)
        assert status == "2"


def test_status_5_6_3_7(easd, synced):
    c, inbox, key, pk, user = synced
    dev = c._transport.device_id
    status, nodes = raw_ping(easd, user, "pw", dev, pk, ping_body([inbox], 5))
    assert status == "5" and text_of(find(nodes, "Ping.HeartbeatInterval")) == "60"
    status, nodes = raw_ping(easd, user, "pw", dev, pk, ping_body([inbox], 9999))
    assert status == "5" and text_of(find(nodes, "Ping.HeartbeatInterval")) == "3540"
    status, nodes = raw_ping(easd, user, "pw", dev, pk, ping_body([str(i) for i in range(301)], 300))
    assert status == "6" and text_of(find(nodes, "Ping.MaxFolders")) == "300"
    status, _ = raw_ping(easd, user, "pw", dev, pk, b"")
    assert status == "3", "an empty Ping with nothing to reuse"
    status, _ = raw_ping(easd, user, "pw", dev, pk, ping_body(["no-such-folder"], 300))
    assert status == "7"


def test_empty_ping_reuses_the_last_folders(easd, synced):
    c, inbox, key, pk, user = synced
    dev = c._transport.device_id
    with cf.ThreadPoolExecutor(1) as ex:
        first = ex.submit(raw_ping, easd, user, "pw", dev, pk, ping_body([inbox], 300))
        time.sleep(0.5)
        deliver(easd, user, "one")
        assert first.result(timeout=30)[0] == "2"
    key = c.sync_folder(inbox, key).sync_key
    with cf.ThreadPoolExecutor(1) as ex:
        empty = ex.submit(raw_ping, easd, user, "pw", dev, pk, b"")
        time.sleep(0.5)
        assert not empty.done()
        deliver(easd, user, "two")
        status, nodes = empty.result(timeout=30)
        assert status == "2"
        assert [text_of(f) for f in find_all(nodes, "Ping.Folder")] == [inbox]


@pytest.fixture()
def short_heartbeat():
    d = Path(tempfile.mkdtemp(prefix="easd-hb-"))
    server = Easd(data=d, extra_config="heartbeat_min = 5\nheartbeat_margin = 2\n")
    server.add_user("hb@example.com", "pw")
    server.start()
    yield server
    if server.proc is not None:
        server.stop(signal.SIGKILL)
    shutil.rmtree(d, ignore_errors=True)


def test_heartbeat_end_is_answered_before_the_interval(short_heartbeat):
    s = short_heartbeat
    c = client(s, "hb@example.com", "pw", "HBPHONE1")
    inbox = folder_id(c, "Inbox")
    c.sync_folder(inbox, c.sync_folder(inbox, "0").sync_key)
    t = time.monotonic()
    r = c.ping(inbox, heartbeat=8, timeout=30)
    took = time.monotonic() - t
    assert r.status == "1"
    assert 5.0 <= took < 8.0, took


def test_shutdown_answers_parked_pings(short_heartbeat):
    s = short_heartbeat
    clients = [client(s, "hb@example.com", "pw", f"SHUTDOWN{i}") for i in range(5)]
    inbox = folder_id(clients[0], "Inbox")
    for c in clients:
        c.list_folders()  # a device pings only after FolderSync, else Status 7
    with cf.ThreadPoolExecutor(5) as ex:
        futs = [ex.submit(c.ping, inbox, heartbeat=600, timeout=60) for c in clients]
        time.sleep(1.0)
        assert not any(f.done() for f in futs)
        t = time.monotonic()
        assert s.stop(signal.SIGTERM) == 0
        results = [f.result(timeout=10) for f in futs]
    assert all(r.status == "1" for r in results)
    assert time.monotonic() - t < 5


def wait_sync_body(fid: str, key: str, heartbeat: int) -> bytes:
    w = WBXMLWriter()
    w.tag("AirSync", "Sync", children=[
        wtag("AirSync", "Collections", children=[wtag("AirSync", "Collection", children=[
            wtag("AirSync", "SyncKey", text=key), wtag("AirSync", "CollectionId", text=fid)])]),
        wtag("AirSync", "HeartbeatInterval", text=str(heartbeat))])
    return w.render()


def test_sync_with_heartbeat_waits_for_changes(short_heartbeat):
    s = short_heartbeat
    c = client(s, "hb@example.com", "pw", "WAITSYNC1")
    pk = c.provision()
    inbox = folder_id(c, "Inbox")
    key = c.sync_folder(inbox, c.sync_folder(inbox, "0").sync_key).sync_key

    def post(body):
        return requests.post(
            f"{s.eas_url}?Cmd=Sync&User=hb@example.com&DeviceId=WAITSYNC1&DeviceType=Test",
            data=body,
            headers={"MS-ASProtocolVersion": "16.1", "Content-Type": "application/vnd.ms-sync.wbxml", "X-MS-PolicyKey": pk},
            auth=("hb@example.com", "pw"),
            timeout=60,
        )

    # Nothing changes: an empty response just before the interval ends (MS-ASCMD 2.2.1.21).
    t = time.monotonic()
    r = post(wait_sync_body(inbox, key, 6))
    took = time.monotonic() - t
    assert r.status_code == 200 and r.content == b""
    assert 3.0 <= took < 6.0, took
    # A delivery while it waits: the response carries the new message.
    with cf.ThreadPoolExecutor(1) as ex:
        fut = ex.submit(post, wait_sync_body(inbox, key, 60))
        time.sleep(0.5)
        assert not fut.done()
        deliver(s, "hb@example.com", "while waiting")
        r = fut.result(timeout=30)
    nodes = WBXMLReader(r.content).parse()
    assert [text_of(find(ch, "Email.Subject")) for _, _, ch in find_all(nodes, "AirSync.Add")] == ["while waiting"]
    # Out of bounds: Status 14 with the limit.
    r = post(wait_sync_body(inbox, text_of(find(nodes, "AirSync.SyncKey")), 4000))
    nodes = WBXMLReader(r.content).parse()
    assert text_of(find(nodes, "AirSync.Status")) == "14"
    assert text_of(find(nodes, "AirSync.Limit")) == "3540"
