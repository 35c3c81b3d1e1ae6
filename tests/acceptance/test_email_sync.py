"""Issue 4: email sync end to end with the independent client pyactivesync."""
from __future__ import annotations

import smtplib
import uuid
import xml.etree.ElementTree as ET
from email.message import EmailMessage

import pyactivesync
import pytest
import requests
from pyactivesync import EmailChange
from wbxml_util import WBXMLReader, WBXMLWriter, lib_decode, lib_encode, wtag


def client(easd, user: str, password: str, device: str) -> pyactivesync.Client:
    c = pyactivesync.Client("127.0.0.1", user, password, device_id=device)
    c._transport.base_url = easd.eas_url
    return c


def deliver_many(easd, to: str, n: int, tag: str) -> list[str]:
    subjects = []
    with smtplib.LMTP("127.0.0.1", easd.lmtp_port) as lmtp:
        for i in range(n):
            m = EmailMessage()
            m["From"] = "Sender <sender@example.net>"
            m["To"] = to
            subject = f"{tag} {i:05d}"
            m["Subject"] = subject
            m["Message-ID"] = f"<{uuid.uuid4()}@example.net>"
            m.set_content(f"Body of {subject}\n")
            assert lmtp.send_message(m, to_addrs=[to]) == {}
            subjects.append(subject)
    return subjects


def folder_id(c: pyactivesync.Client, name: str) -> str:
    return next(f.id for f in c.list_folders() if f.name == name)


def initial_sync(c: pyactivesync.Client, fid: str, window: int = 100):
    first = c.sync_folder(fid, "0")
    assert first.added == [] and first.sync_key != "0"
    key = first.sync_key
    items = {}
    windows = 0
    while True:
        r = c.sync_folder(fid, key, window_size=window)
        windows += 1
        assert len(r.added) <= window
        for it in r.added:
            assert it.server_id not in items, "an item came twice"
            items[it.server_id] = it.fields
        key = r.sync_key
        if not r.more_available:
            break
    return key, items, windows


@pytest.fixture(scope="module")
def dave(easd):
    easd.add_user("dave@example.com", "dave-pw")
    subjects = deliver_many(easd, "dave@example.com", 1000, "bulk")
    return subjects


def test_initial_sync_of_1000_in_windows_of_100(easd, dave):
    c = client(easd, "dave@example.com", "dave-pw", "DAVEPHONE1")
    inbox = folder_id(c, "Inbox")
    key, items, windows = initial_sync(c, inbox, 100)
    assert len(items) == 1000
    assert windows == 10
    subjects = sorted(f.get("Email.Subject") or f.get("Subject") for f in items.values())
    assert subjects == sorted(dave)
    # Nothing more after the initial sync.
    again = c.sync_folder(inbox, key)
    assert again.added == [] and again.changed == [] and again.deleted == []


def test_read_flag_delete_seen_by_second_device(easd):
    easd.add_user("erin@example.com", "erin-pw")
    deliver_many(easd, "erin@example.com", 5, "five")
    a = client(easd, "erin@example.com", "erin-pw", "ERINDESKTOP")
    b = client(easd, "erin@example.com", "erin-pw", "ERINPHONE")
    inbox = folder_id(a, "Inbox")
    folder_id(b, "Inbox")
    ka, items_a, _ = initial_sync(a, inbox)
    kb, items_b, _ = initial_sync(b, inbox)
    assert set(items_a) == set(items_b) and len(items_a) == 5
    ids = sorted(items_a)
    res = a.apply_email_changes(
        inbox,
        ka,
        [EmailChange(server_id=ids[0], read=True), EmailChange(server_id=ids[1], flagged=True), EmailChange(server_id=ids[2], delete=True)],
    )
    assert set(res.statuses.values()) == {"1"}
    # A's own changes are not echoed back to A.
    echo = a.sync_folder(inbox, res.sync_key)
    assert echo.added == [] and echo.changed == [] and echo.deleted == []
    r = b.sync_folder(inbox, kb)
    changed = {c.server_id: c.fields for c in r.changed}
    assert r.deleted == [ids[2]]
    assert changed[ids[0]]["Email.Read"] == "1"
    assert changed[ids[1]]["Email.Status"] == "2"
    # The delete moved the message to Deleted Items.
    trash = folder_id(b, "Deleted Items")
    _, trash_items, _ = initial_sync(b, trash)
    assert len(trash_items) == 1


def post_sync(easd, user, pw, device, policy_key, body: bytes, stream: bool = False) -> requests.Response:
    return requests.post(
        f"{easd.eas_url}?Cmd=Sync&User={user}&DeviceId={device}&DeviceType=Test",
        data=body,
        headers={"MS-ASProtocolVersion": "16.1", "Content-Type": "application/vnd.ms-sync.wbxml", "X-MS-PolicyKey": policy_key},
        auth=(user, pw),
        timeout=30,
        stream=stream,
    )


def raw_sync(easd, user, pw, device, policy_key, body: bytes) -> bytes:
    r = post_sync(easd, user, pw, device, policy_key, body)
    assert r.status_code == 200, r.text
    return r.content


def sync_body(fid: str, key: str, window: int) -> bytes:
    w = WBXMLWriter()
    w.tag("AirSync", "Sync", children=[wtag("AirSync", "Collections", children=[wtag("AirSync", "Collection", children=[
        wtag("AirSync", "SyncKey", text=key), wtag("AirSync", "CollectionId", text=fid), wtag("AirSync", "WindowSize", text=str(window))])])])
    return w.render()


def test_sync_key_retry_gets_the_same_answer(easd):
    easd.add_user("fay@example.com", "fay-pw")
    deliver_many(easd, "fay@example.com", 30, "retry")
    c = client(easd, "fay@example.com", "fay-pw", "FAYPHONE")
    pk = c.provision()
    inbox = folder_id(c, "Inbox")
    first = c.sync_folder(inbox, "0")
    body = sync_body(inbox, first.sync_key, 10)
    lost = raw_sync(easd, "fay@example.com", "fay-pw", "FAYPHONE", pk, body)
    # The response was "lost": the client sends the same request again.
    again = raw_sync(easd, "fay@example.com", "fay-pw", "FAYPHONE", pk, body)

    def adds(resp):
        nodes = WBXMLReader(resp).parse()
        from pyactivesync._wbxml import find, find_all, text_of  # noqa: PLC0415

        assert text_of(find(nodes, "AirSync.Status")) == "1"
        return text_of(find(nodes, "AirSync.SyncKey")), [text_of(find(ch, "AirSync.ServerId")) for _, _, ch in find_all(nodes, "AirSync.Add")]

    k1, a1 = adds(lost)
    k2, a2 = adds(again)
    assert a1 == a2 and len(a1) == 10
    assert k1 == k2
    # And the sync goes on from there with no duplicates.
    seen = set(a2)
    key = k2
    while True:
        r = c.sync_folder(inbox, key, window_size=10)
        for it in r.added:
            assert it.server_id not in seen
            seen.add(it.server_id)
        key = r.sync_key
        if not r.more_available:
            break
    assert len(seen) == 30


def test_a_large_sync_response_is_streamed(easd):
    """Issue 4: bytes flow at once and then steadily (Android gives up after ~30 s without)."""
    easd.add_user("gus@example.com", "gus-pw")
    deliver_many(easd, "gus@example.com", 120, "stream")
    c = client(easd, "gus@example.com", "gus-pw", "GUSPHONE")
    pk = c.provision()
    inbox = folder_id(c, "Inbox")
    first = c.sync_folder(inbox, "0")

    def post(window: int) -> requests.Response:
        body = sync_body(inbox, first.sync_key, window)
        return post_sync(easd, "gus@example.com", "gus-pw", "GUSPHONE", pk, body, stream=True)

    r = post(100)
    assert r.status_code == 200
    assert r.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in r.headers
    chunks = list(r.raw.read_chunked())
    # The WBXML header and <Sync> come before any item is rendered, then batches of items.
    assert chunks[0] == b"\x03\x01\x6a\x00\x45"
    assert len(chunks) > 6
    from pyactivesync._wbxml import find, find_all, text_of  # noqa: PLC0415

    nodes = WBXMLReader(b"".join(chunks)).parse()
    assert text_of(find(nodes, "AirSync.Status")) == "1"
    ids = [text_of(find(ch, "AirSync.ServerId")) for _, _, ch in find_all(nodes, "AirSync.Add")]
    assert len(ids) == 100 and len(set(ids)) == 100
    assert find(nodes, "AirSync.MoreAvailable") is not None

    # The same request again (its answer "lost"): a small answer goes out whole.
    small = post(5)
    assert small.status_code == 200 and small.headers.get("Content-Length")


def test_body_part_preference_gives_the_new_part_of_a_reply(easd):
    """MS-ASAIRS 2.2.2.10/2.2.2.11 (14.1+): BodyPart holds the reply without the quoted thread."""
    easd.add_user("bodypart@example.com", "bp-pw")
    m = EmailMessage()
    m["From"] = "Bob <bob@example.net>"
    m["To"] = "bodypart@example.com"
    m["Subject"] = "Re: Plans"
    m.set_content("Friday works.\n\nOn Tue, Ann wrote:\n> Shall we meet on Friday?\n")
    m.add_alternative("<html><body><p>Friday works.</p><blockquote>Shall we meet on Friday?</blockquote></body></html>", subtype="html")
    with smtplib.LMTP("127.0.0.1", easd.lmtp_port) as lmtp:
        assert lmtp.send_message(m, to_addrs=["bodypart@example.com"]) == {}
    c = client(easd, "bodypart@example.com", "bp-pw", "BPPHONE")
    pk = c.provision()
    inbox = folder_id(c, "Inbox")
    first = c.sync_folder(inbox, "0")
    def sync_with_part(part_type: str):
        xml = f"""<Sync xmlns="AirSync:" xmlns:B="AirSyncBase:"><Collections><Collection>
<SyncKey>{first.sync_key}</SyncKey><CollectionId>{inbox}</CollectionId><WindowSize>10</WindowSize>
<Options><B:BodyPreference><B:Type>2</B:Type></B:BodyPreference>
<B:BodyPartPreference><B:Type>{part_type}</B:Type></B:BodyPartPreference></Options>
</Collection></Collections></Sync>"""
        return lib_decode(raw_sync(easd, "bodypart@example.com", "bp-pw", "BPPHONE", pk, lib_encode(xml)))

    root = sync_with_part("2")
    assert root.find(".//Collection/Status").text == "1"
    part = root.find(".//BodyPart")
    assert part is not None, ET.tostring(root)
    assert part.find("Status").text == "1"
    data = part.find("Data").text
    assert "Friday works." in data and "Shall we meet" not in data
    assert "Shall we meet" in root.find(".//Body/Data").text
    # Only HTML is a body part type: another gets Status 164.
    assert sync_with_part("1").find(".//Collection/Status").text == "164"
