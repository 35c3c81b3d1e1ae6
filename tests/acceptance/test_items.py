"""MoveItems, GetItemEstimate and ItemOperations end to end with pyactivesync."""
from __future__ import annotations

import base64
import os
import smtplib
import struct
import uuid
from email.message import EmailMessage

import pytest
from pyactivesync import BodyType, EmailChange
from pyactivesync import _codepages
from pyactivesync._wbxml import find, find_all, opaque_of, text_of
from pyactivesync.exceptions import StatusError
from test_email_sync import client, deliver_many, folder_id, initial_sync
from wbxml_util import WBXMLReader, WBXMLWriter, wtag

# pyactivesync 0.17 lacks the ItemOperations tags after Part: add them from MS-ASWBXML
# (code page 20) so its writer and reader know EmptyFolderContents and Move.
_ITEMOPERATIONS_MORE = {"EmptyFolderContents": 0x12, "DeleteSubFolders": 0x13, "UserName": 0x14, "Password": 0x15,
                        "Move": 0x16, "DstFldId": 0x17, "ConversationId": 0x18, "MoveAlways": 0x19}
for _name, _token in _ITEMOPERATIONS_MORE.items():
    _codepages.CODEPAGES["ItemOperations"].setdefault(_name, _token)
    _codepages.REVERSE[_codepages.PAGE_INDEX["ItemOperations"]].setdefault(_token, _name)

PAYLOAD = bytes(range(256)) * 64 + os.urandom(40_000) + b"\x00\r\n.\r\n\xff"


def raw_post(c, cmd: str, body: bytes, headers: dict[str, str] | None = None):
    """A request through the client's session, with headers pyactivesync does not send."""
    c._ensure_provisioned()
    t = c._transport
    h = {"Content-Type": "application/vnd.ms-sync.wbxml", "MS-ASProtocolVersion": "16.1", "X-MS-PolicyKey": t.policy_key}
    h.update(headers or {})
    r = t.session.post(
        t.base_url,
        params={"Cmd": cmd, "User": c.user, "DeviceId": t.device_id, "DeviceType": t.device_type},
        data=body,
        headers=h,
        timeout=30,
    )
    assert r.status_code == 200, (r.status_code, r.text)
    return r


def item_operations(c, *ops, headers=None):
    w = WBXMLWriter()
    w.tag("ItemOperations", "ItemOperations", children=list(ops))
    return raw_post(c, "ItemOperations", w.render(), headers)


def fetch_reference(reference: str, range_: str | None = None):
    children = [wtag("ItemOperations", "Store", text="Mailbox"), wtag("AirSyncBase", "FileReference", text=reference)]
    if range_:
        children.append(wtag("ItemOperations", "Options", children=[wtag("ItemOperations", "Range", text=range_)]))
    return wtag("ItemOperations", "Fetch", children=children)


def statuses(resp: bytes) -> list[str]:
    """The top-level Status, then each operation's, in document order."""
    return [text_of(n) for n in find_all(WBXMLReader(resp).parse(), "ItemOperations.Status")]


def estimate(c, fid: str, key: str, filter_type: str | None = None) -> tuple[str, int | None]:
    children = [wtag("AirSync", "SyncKey", text=key), wtag("ItemEstimate", "CollectionId", text=fid)]
    if filter_type is not None:
        children.append(wtag("AirSync", "Options", children=[wtag("AirSync", "FilterType", text=filter_type)]))
    w = WBXMLWriter()
    w.tag("ItemEstimate", "GetItemEstimate", children=[
        wtag("ItemEstimate", "Collections", children=[wtag("ItemEstimate", "Collection", children=children)])])
    nodes = WBXMLReader(raw_post(c, "GetItemEstimate", w.render()).content).parse()
    est = text_of(find(nodes, "ItemEstimate.Estimate"))
    return text_of(find(nodes, "ItemEstimate.Status")), int(est) if est is not None else None


def split_multipart(body: bytes) -> list[bytes]:
    (count,) = struct.unpack_from("<I", body, 0)
    parts = []
    for i in range(count):
        offset, length = struct.unpack_from("<II", body, 4 + 8 * i)
        parts.append(body[offset : offset + length])
    return parts


def deliver_attachment(easd, to: str, subject: str, payload: bytes) -> None:
    m = EmailMessage()
    m["From"] = "Sender <sender@example.net>"
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = f"<{uuid.uuid4()}@example.net>"
    m.set_content("See the attachment.\n")
    m.add_attachment(payload, maintype="application", subtype="octet-stream", filename="blob.bin")
    with smtplib.LMTP("127.0.0.1", easd.lmtp_port) as lmtp:
        assert lmtp.send_message(m, to_addrs=[to]) == {}


def test_move_is_delete_and_add_for_others_and_silent_for_the_mover(easd):
    easd.add_user("gina@example.com", "gina-pw")
    deliver_many(easd, "gina@example.com", 4, "move")
    a = client(easd, "gina@example.com", "gina-pw", "GINAPHONE")
    b = client(easd, "gina@example.com", "gina-pw", "GINATABLET")
    inbox, junk = folder_id(a, "Inbox"), folder_id(a, "Junk E-Mail")
    folder_id(b, "Inbox")
    ka_in, items, _ = initial_sync(a, inbox)
    ka_junk, _, _ = initial_sync(a, junk)
    kb_in, _, _ = initial_sync(b, inbox)
    kb_junk, _, _ = initial_sync(b, junk)
    victim = sorted(items)[0]

    new_id = a.move_item(victim, inbox, junk)
    assert new_id != victim and new_id.startswith(f"{junk}:")

    # The mover's own next Syncs of both folders: nothing, and the estimates agree.
    assert estimate(a, inbox, ka_in) == ("1", 0)
    assert estimate(a, junk, ka_junk) == ("1", 0)
    for fid, key in ((inbox, ka_in), (junk, ka_junk)):
        r = a.sync_folder(fid, key)
        assert (r.added, r.changed, r.deleted) == ([], [], [])

    # Another device: a Delete in the source, an Add in the destination.
    assert estimate(b, inbox, kb_in) == ("1", 1)
    r = b.sync_folder(inbox, kb_in)
    assert r.deleted == [victim] and r.added == []
    r = b.sync_folder(junk, kb_junk)
    assert [i.server_id for i in r.added] == [new_id]
    assert r.added[0].fields["Email.Subject"].startswith("move ")

    # Statuses (MS-ASCMD 2.2.3.177.10).
    with pytest.raises(StatusError) as e:
        a.move_item(victim, inbox, junk)  # moved out already
    assert e.value.code == "1"
    with pytest.raises(StatusError) as e:
        a.move_item(new_id, junk, "no-such-folder")
    assert e.value.code == "2"
    with pytest.raises(StatusError) as e:
        a.move_item(new_id, junk, junk)
    assert e.value.code == "4"
    with pytest.raises(StatusError) as e:
        a.move_item(new_id, "no-such-folder", inbox)
    assert e.value.code == "1"


def test_estimate_equals_the_next_sync(easd):
    easd.add_user("hal@example.com", "hal-pw")
    deliver_many(easd, "hal@example.com", 7, "est")
    a = client(easd, "hal@example.com", "hal-pw", "HALPHONE")
    b = client(easd, "hal@example.com", "hal-pw", "HALTABLET")
    inbox = folder_id(a, "Inbox")
    folder_id(b, "Inbox")

    # Never synced: not primed (3); a key the server never gave: 4; no such folder: 2.
    assert estimate(a, inbox, "0")[0] == "3"
    first = a.sync_folder(inbox, "0")
    assert estimate(a, inbox, "12345")[0] == "4"
    assert estimate(a, "no-such-folder", first.sync_key)[0] == "2"
    # pyactivesync's own GetItemEstimate.
    assert a.get_item_estimate(inbox, first.sync_key) == 7

    # With a FilterType too (everything here arrived today).
    assert estimate(a, inbox, first.sync_key, "1") == ("1", 7)
    r = a.sync_folder(inbox, first.sync_key, window_size=5, filter_type="1")
    assert len(r.added) == 5 and r.more_available
    assert estimate(a, inbox, r.sync_key, "1") == ("1", 2)
    r = a.sync_folder(inbox, r.sync_key, window_size=5, filter_type="1")
    assert len(r.added) == 2 and not r.more_available
    key = r.sync_key
    assert estimate(a, inbox, key, "1") == ("1", 0)

    # Changes from another device: adds, a change, a delete.
    kb, items_b, _ = initial_sync(b, inbox)
    ids = sorted(items_b)
    res = b.apply_email_changes(inbox, kb, [EmailChange(server_id=ids[0], read=True), EmailChange(server_id=ids[1], delete=True)])
    assert set(res.statuses.values()) <= {"1"}
    deliver_many(easd, "hal@example.com", 3, "more")
    assert estimate(a, inbox, key) == ("1", 5)
    assert estimate(a, inbox, key, "1") == ("1", 5)
    r = a.sync_folder(inbox, key, filter_type="1")
    assert (len(r.added), len(r.changed), len(r.deleted)) == (3, 1, 1)
    assert estimate(a, inbox, r.sync_key, "1") == ("1", 0)


def test_fetch_item_body(easd):
    easd.add_user("iris@example.com", "iris-pw")
    subjects = deliver_many(easd, "iris@example.com", 1, "fetch")
    c = client(easd, "iris@example.com", "iris-pw", "IRISPHONE")
    inbox = folder_id(c, "Inbox")
    _, items, _ = initial_sync(c, inbox)
    (sid,) = items
    item = c.fetch_item(inbox, sid, body_type=BodyType.PLAIN_TEXT)
    assert item.fields["Email.Subject"] == subjects[0]
    assert item.body.type == BodyType.PLAIN_TEXT
    assert item.body.data.strip() == f"Body of {subjects[0]}"
    assert not item.body.truncated
    mime = c.fetch_item(inbox, sid, body_type=BodyType.MIME)
    assert mime.body.type == BodyType.MIME
    assert f"Subject: {subjects[0]}".encode() in mime.body.data
    # A ServerId that is not in the named collection: not found (6).
    with pytest.raises(StatusError) as e:
        c.fetch_item(folder_id(c, "Drafts"), sid)
    assert e.value.code == "6"


def test_attachment_byte_for_byte_inline_ranged_and_multipart(easd):
    easd.add_user("jack@example.com", "jack-pw")
    deliver_attachment(easd, "jack@example.com", "binary", PAYLOAD)
    c = client(easd, "jack@example.com", "jack-pw", "JACKPHONE")
    inbox = folder_id(c, "Inbox")
    _, items, _ = initial_sync(c, inbox)
    (sid,) = items
    item = c.fetch_item(inbox, sid)
    (att,) = item.attachments
    assert att.display_name == "blob.bin" and att.estimated_data_size == len(PAYLOAD)
    assert c.fetch_attachment(att.file_reference) == PAYLOAD

    # A Range: Properties/Range, Total and that slice of the bytes.
    resp = item_operations(c, fetch_reference(att.file_reference, "100-4195")).content
    nodes = WBXMLReader(resp).parse()
    assert statuses(resp) == ["1", "1"]
    assert text_of(find(nodes, "ItemOperations.Range")) == "100-4195"
    assert text_of(find(nodes, "ItemOperations.Total")) == str(len(PAYLOAD))
    assert base64.b64decode(text_of(find(nodes, "ItemOperations.Data"))) == PAYLOAD[100:4196]
    # A range past the end is cut at the end; one that starts past it is refused (8).
    resp = item_operations(c, fetch_reference(att.file_reference, f"{len(PAYLOAD) - 10}-{len(PAYLOAD) + 1000}")).content
    assert base64.b64decode(text_of(find(WBXMLReader(resp).parse(), "ItemOperations.Data"))) == PAYLOAD[-10:]
    resp = item_operations(c, fetch_reference(att.file_reference, f"{len(PAYLOAD)}-{len(PAYLOAD) + 5}")).content
    assert statuses(resp) == ["1", "8"]
    # Bad references: 15.
    for bad in (f"{sid}:7", "nonsense", f"{inbox}:999999:0"):
        assert statuses(item_operations(c, fetch_reference(bad)).content) == ["1", "15"]

    # Multipart (MS-ASAcceptMultiPart: T): the WBXML names part 1, which is the raw bytes.
    r = item_operations(c, fetch_reference(att.file_reference), headers={"MS-ASAcceptMultiPart": "T"})
    assert r.headers["Content-Type"].startswith("application/vnd.ms-sync.multipart")
    parts = split_multipart(r.content)
    assert len(parts) == 2 and parts[1] == PAYLOAD
    nodes = WBXMLReader(parts[0]).parse()
    assert text_of(find(nodes, "ItemOperations.Part")) == "1"
    assert find(nodes, "ItemOperations.Data") is None


def test_empty_folder_contents_reaches_a_second_device(easd):
    easd.add_user("kim@example.com", "kim-pw")
    deliver_many(easd, "kim@example.com", 6, "empty")
    a = client(easd, "kim@example.com", "kim-pw", "KIMPHONE")
    b = client(easd, "kim@example.com", "kim-pw", "KIMTABLET")
    inbox = folder_id(a, "Inbox")
    folder_id(b, "Inbox")
    kb, items_b, _ = initial_sync(b, inbox)
    assert len(items_b) == 6
    resp = item_operations(
        a,
        wtag("ItemOperations", "EmptyFolderContents", children=[wtag("AirSync", "CollectionId", text=inbox)]),
        wtag("ItemOperations", "EmptyFolderContents", children=[wtag("AirSync", "CollectionId", text="no-such-folder")]),
    ).content
    assert statuses(resp) == ["1", "1", "6"]
    r = b.sync_folder(inbox, kb)
    assert sorted(r.deleted) == sorted(items_b) and r.added == []
    _, left, _ = initial_sync(a, inbox)
    assert left == {}


def test_another_users_server_id_is_not_found(easd):
    easd.add_user("lena@example.com", "lena-pw")
    easd.add_user("mo@example.com", "mo-pw")
    deliver_many(easd, "lena@example.com", 3, "mine")
    deliver_attachment(easd, "lena@example.com", "secret", b"top secret bytes")
    lena = client(easd, "lena@example.com", "lena-pw", "LENAPHONE")
    mo = client(easd, "mo@example.com", "mo-pw", "MOPHONE")
    inbox = folder_id(lena, "Inbox")
    mo_inbox = folder_id(mo, "Inbox")
    _, items, _ = initial_sync(lena, inbox)
    secret = next(sid for sid, f in items.items() if f["Email.Subject"] == "secret")
    ref = lena.fetch_item(inbox, secret).attachments[0].file_reference
    _, mine, _ = initial_sync(mo, mo_inbox)
    assert secret not in mine

    with pytest.raises(StatusError) as e:
        mo.fetch_item(inbox, secret)
    assert e.value.code == "6"
    assert statuses(item_operations(mo, fetch_reference(ref)).content) == ["1", "15"]
    with pytest.raises(StatusError) as e:
        mo.move_item(secret, inbox, folder_id(mo, "Junk E-Mail"))
    assert e.value.code == "1"
    # And Lena still has it.
    assert lena.fetch_attachment(ref) == b"top secret bytes"


def test_move_conversation(easd):
    easd.add_user("nell@example.com", "nell-pw")
    root_id = f"<{uuid.uuid4()}@example.net>"
    with smtplib.LMTP("127.0.0.1", easd.lmtp_port) as lmtp:
        for subject, extra in (("thread", {"Message-ID": root_id}),
                               ("Re: thread", {"Message-ID": f"<{uuid.uuid4()}@example.net>", "In-Reply-To": root_id, "References": root_id}),
                               ("other", {"Message-ID": f"<{uuid.uuid4()}@example.net>"})):
            m = EmailMessage()
            m["From"], m["To"], m["Subject"] = "s@example.net", "nell@example.com", subject
            for k, v in extra.items():
                m[k] = v
            m.set_content("text\n")
            assert lmtp.send_message(m, to_addrs=["nell@example.com"]) == {}
    a = client(easd, "nell@example.com", "nell-pw", "NELLPHONE")
    inbox, junk = folder_id(a, "Inbox"), folder_id(a, "Junk E-Mail")
    key, items, _ = initial_sync(a, inbox)
    jkey, _, _ = initial_sync(a, junk)
    thread = sorted(sid for sid, f in items.items() if f["Email.Subject"].endswith("thread"))
    assert len(thread) == 2
    fetch = wtag("ItemOperations", "Fetch", children=[
        wtag("ItemOperations", "Store", text="Mailbox"), wtag("AirSync", "CollectionId", text=inbox),
        wtag("AirSync", "ServerId", text=thread[0])])
    # email2:ConversationId (code page 22, 0x09); pyactivesync has no names for that page.
    conv = opaque_of(find(WBXMLReader(item_operations(a, fetch).content).parse(), "page22.0x09"))
    assert conv

    def move(always: bool):
        children = [wtag("ItemOperations", "ConversationId", opaque=conv), wtag("ItemOperations", "DstFldId", text=junk)]
        if always:
            children.append(wtag("ItemOperations", "Options", children=[wtag("ItemOperations", "MoveAlways")]))
        return item_operations(a, wtag("ItemOperations", "Move", children=children)).content

    # MoveAlways is required (MS-ASCMD 2.2.3.118): 155 without it.
    assert statuses(move(False)) == ["1", "155"]
    resp = move(True)
    assert statuses(resp) == ["1", "1"]
    assert opaque_of(find(WBXMLReader(resp).parse(), "ItemOperations.ConversationId")) == conv
    r = a.sync_folder(inbox, key)
    assert sorted(r.deleted) == thread and r.added == []
    r = a.sync_folder(junk, jkey)
    assert sorted(i.fields["Email.Subject"] for i in r.added) == ["Re: thread", "thread"]
