"""SendMail, SmartReply, SmartForward, Search and Find end to end, with pyactivesync and a
real SMTP session to a small sink standing in for the smarthost."""
from __future__ import annotations

import email
import shutil
import socket
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from email import policy
from pathlib import Path

import pytest
import requests
from pyactivesync._wbxml import find, find_all, text_of
from pyactivesync.exceptions import StatusError
from wbxml_util import WBXMLReader, WBXMLWriter, wtag

from conftest import Easd
from test_email_sync import client, folder_id, initial_sync


class SmtpSink:
    """A tiny SMTP server: records every accepted transaction; refuses RCPT TO for the
    addresses in `refuse` with 550."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.messages: list[dict] = []
        self.refuse: set[str] = set()
        self.sessions = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        self.sessions += 1
        f = conn.makefile("rb")

        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        say("220 sink.example ESMTP")
        mail_from, rcpts = None, []
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode("utf-8", "replace").strip()
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    conn.sendall(b"250-sink.example\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100000000\r\n")
                elif verb == "MAIL":
                    mail_from, rcpts = cmd.split(":", 1)[1].strip().split(" ")[0].strip("<>"), []
                    say("250 ok")
                elif verb == "RCPT":
                    addr = cmd.split(":", 1)[1].strip().split(" ")[0].strip("<>").lower()
                    if addr in self.refuse:
                        say("550 5.1.1 no such user here")
                    else:
                        rcpts.append(addr)
                        say("250 ok")
                elif verb == "DATA":
                    say("354 go ahead")
                    data = b""
                    while True:
                        chunk = f.readline()
                        if not chunk or chunk == b".\r\n":
                            break
                        if chunk.startswith(b".."):
                            chunk = chunk[1:]
                        data += chunk
                    self.messages.append({"from": mail_from, "rcpts": rcpts, "data": data})
                    say("250 queued")
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    say("250 ok")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture(scope="module")
def sink():
    s = SmtpSink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def relay_easd(sink):
    """A server of its own whose smarthost is the sink."""
    d = Path(tempfile.mkdtemp(prefix="easd-send-"))
    server = Easd(data=d)
    server.extra_config = f'smarthost = "127.0.0.1:{sink.port}"\nhostname = "mail.example.com"\n'
    server.add_user("alice@example.com", "alice-pw")
    server.add_user("bob@example.com", "bob-pw")
    server.start()
    yield server
    if server.proc is not None:
        server.stop()
    shutil.rmtree(d, ignore_errors=True)


def message(to: str, subject: str, body: str, *, cc: str | None = None, bcc: str | None = None, sender: str | None = None) -> EmailMessage:
    m = EmailMessage()
    if sender:
        m["From"] = sender
    m["To"] = to
    if cc:
        m["Cc"] = cc
    if bcc:
        m["Bcc"] = bcc
    m["Subject"] = subject
    m.set_content(body)
    return m


def all_items(c, name: str) -> dict:
    _, items, _ = initial_sync(c, folder_id(c, name))
    return items


def subjects(items: dict) -> list[str]:
    return [f.get("Email.Subject") for f in items.values()]


def wait_for(pred, timeout: float = 10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def test_send_to_local_and_remote_recipients(relay_easd, sink):
    alice = client(relay_easd, "alice@example.com", "alice-pw", "ALICESEND1")
    bob = client(relay_easd, "bob@example.com", "bob-pw", "BOBSEND1")
    tag = uuid.uuid4().hex[:8]
    subject = f"Lunch plans {tag}"
    before = len(sink.messages)
    # Alice claims to be Bob: the server sends as Alice.
    alice.send_mail(
        message("bob@example.com, Carl <carl@remote.example>", subject, "Noon at the usual place?\n",
                bcc="dana@remote.example", sender="Bob <bob@example.com>"),
        save_in_sent_items=True,
    )
    # Remote recipients through the smarthost, in one transaction, without the Bcc header.
    got = wait_for(lambda: sink.messages[before:])
    assert len(got) == 1
    m = got[0]
    assert m["from"] == "alice@example.com"
    assert sorted(m["rcpts"]) == ["carl@remote.example", "dana@remote.example"]
    parsed = email.message_from_bytes(m["data"], policy=policy.default)
    assert parsed["Subject"] == subject
    assert "alice@example.com" in parsed["From"] and "bob@" not in parsed["From"]
    assert parsed["Bcc"] is None
    assert parsed["Message-ID"].endswith("@mail.example.com>")
    assert parsed["Date"]
    assert "Noon at the usual place?" in parsed.get_body(("plain",)).get_content()
    # The local recipient has it in the Inbox.
    inbox = all_items(bob, "Inbox")
    mine = [f for f in inbox.values() if f.get("Email.Subject") == subject]
    assert len(mine) == 1
    assert "alice@example.com" in mine[0]["Email.From"]
    # And the sender in Sent Items, read, with the Bcc she wrote.
    sent = [f for f in all_items(alice, "Sent Items").values() if f.get("Email.Subject") == subject]
    assert len(sent) == 1
    assert sent[0]["Email.Read"] == "1"


def test_resent_client_id_is_not_sent_twice(relay_easd, sink):
    alice = client(relay_easd, "alice@example.com", "alice-pw", "ALICESEND2")
    subject = f"Once only {uuid.uuid4().hex[:8]}"
    before = len(sink.messages)
    cid = uuid.uuid4().hex
    alice.send_mail(message("erin@remote.example", subject, "x\n"), client_id=cid)
    with pytest.raises(StatusError) as e:
        alice.send_mail(message("erin@remote.example", subject, "x\n"), client_id=cid)
    assert e.value.code == "118"  # MessagePreviouslySent
    time.sleep(0.3)
    assert len([m for m in sink.messages[before:] if subject.encode() in m["data"]]) == 1


def test_refused_recipient_fails_the_send_and_keeps_nothing(relay_easd, sink):
    alice = client(relay_easd, "alice@example.com", "alice-pw", "ALICESEND3")
    bob = client(relay_easd, "bob@example.com", "bob-pw", "BOBSEND3")
    sink.refuse.add("nobody@remote.example")
    subject = f"Refused {uuid.uuid4().hex[:8]}"
    before = len(sink.messages)
    with pytest.raises(StatusError) as e:
        alice.send_mail(message("bob@example.com, nobody@remote.example, fine@remote.example", subject, "x\n"))
    assert e.value.code == "120"  # MailSubmissionFailed
    time.sleep(0.3)
    assert sink.messages[before:] == []
    assert subject not in subjects(all_items(alice, "Sent Items"))
    assert subject not in subjects(all_items(bob, "Inbox"))
    sink.refuse.clear()


def test_without_smarthost_remote_recipients_fail(easd):
    alice = client(easd, "alice@example.com", "alice-pw", "ALICENOSMART")
    bob = client(easd, "bob@example.com", "bob-pw", "BOBNOSMART")
    subject = f"Nowhere to go {uuid.uuid4().hex[:8]}"
    with pytest.raises(StatusError) as e:
        alice.send_mail(message("bob@example.com, someone@remote.example", subject, "x\n"))
    assert e.value.code == "120"
    assert subject not in subjects(all_items(alice, "Sent Items"))
    assert subject not in subjects(all_items(bob, "Inbox"))
    # Local mail needs no smarthost.
    local = f"Local only {uuid.uuid4().hex[:8]}"
    alice.send_mail(message("bob@example.com", local, "hello bob\n"))
    assert local in subjects(all_items(bob, "Inbox"))


def test_send_mail_12_1_raw_mime(relay_easd):
    alice = client(relay_easd, "alice@example.com", "alice-pw", "ALICE121")
    bob = client(relay_easd, "bob@example.com", "bob-pw", "BOB121")
    alice.provision()
    subject = f"Old school {uuid.uuid4().hex[:8]}"
    raw = f"To: bob@example.com\r\nSubject: {subject}\r\n\r\nSent as message/rfc822.\r\n".encode()
    r = requests.post(
        f"{relay_easd.eas_url}?Cmd=SendMail&User=alice@example.com&DeviceId=ALICE121&DeviceType=Test&SaveInSent=T",
        data=raw,
        headers={"MS-ASProtocolVersion": "12.1", "Content-Type": "message/rfc822", "X-MS-PolicyKey": alice._transport.policy_key},
        auth=("alice@example.com", "alice-pw"),
        timeout=30,
    )
    assert r.status_code == 200 and r.content == b"", r.content
    assert subject in subjects(all_items(bob, "Inbox"))
    assert subject in subjects(all_items(alice, "Sent Items"))

    # 12.1 SmartReply: the source comes as ItemId and CollectionId query parameters.
    bob.provision()
    inbox = folder_id(bob, "Inbox")
    _, items, _ = initial_sync(bob, inbox)
    sid = next(s for s, f in items.items() if f.get("Email.Subject") == subject)
    reply = f"To: alice@example.com\r\nSubject: Re: {subject}\r\n\r\nGot it.\r\n".encode()
    r = requests.post(
        f"{relay_easd.eas_url}?Cmd=SmartReply&User=bob@example.com&DeviceId=BOB121&DeviceType=Test"
        f"&ItemId={sid}&CollectionId={inbox}",
        data=reply,
        headers={"MS-ASProtocolVersion": "12.1", "Content-Type": "message/rfc822", "X-MS-PolicyKey": bob._transport.policy_key},
        auth=("bob@example.com", "bob-pw"),
        timeout=30,
    )
    assert r.status_code == 200 and r.content == b"", r.content
    assert f"Re: {subject}" in subjects(all_items(alice, "Inbox"))
    # Not saved: no SaveInSent=T.
    assert f"Re: {subject}" not in subjects(all_items(bob, "Sent Items"))


def compose(cmd: str, folder: str, item: str, mime: bytes, *, replace: bool = False) -> bytes:
    children = [
        wtag("ComposeMail", "ClientId", text=uuid.uuid4().hex),
        wtag("ComposeMail", "Source", children=[wtag("ComposeMail", "FolderId", text=folder), wtag("ComposeMail", "ItemId", text=item)]),
        wtag("ComposeMail", "SaveInSentItems"),
    ]
    if replace:
        children.append(wtag("ComposeMail", "ReplaceMime"))
    children.append(wtag("ComposeMail", "MIME", opaque=mime))
    w = WBXMLWriter()
    w.tag("ComposeMail", cmd, children=children)
    return w.render()


def compose_status(resp: bytes) -> str:
    if not resp:
        return "1"
    return text_of(find(WBXMLReader(resp).parse(), "ComposeMail.Status"))


def test_smart_reply_and_forward(relay_easd, sink):
    alice = client(relay_easd, "alice@example.com", "alice-pw", "ALICESMART")
    bob = client(relay_easd, "bob@example.com", "bob-pw", "BOBSMART")
    tag = uuid.uuid4().hex[:8]
    # Alice sends Bob a message with an attachment.
    m = message("bob@example.com", f"Agenda {tag}", "Please review the agenda before Friday.\n")
    m.add_attachment(b"%PDF-1.4 agenda", maintype="application", subtype="pdf", filename="agenda.pdf")
    alice.send_mail(m)
    inbox = folder_id(bob, "Inbox")
    _, items, _ = initial_sync(bob, inbox)
    sid = next(s for s, f in items.items() if f.get("Email.Subject") == f"Agenda {tag}")

    # Bob replies: the server quotes the original and threads the reply.
    bob._ensure_provisioned()
    reply = f"To: alice@example.com\r\nSubject: Re: Agenda {tag}\r\n\r\nLooks good to me.\r\n".encode()
    assert compose_status(bob._post("SmartReply", compose("SmartReply", inbox, sid, reply))) == "1"
    got = [f for f in all_items(alice, "Inbox").values() if f.get("Email.Subject") == f"Re: Agenda {tag}"]
    assert len(got) == 1
    # The body as delivered: MIME through ItemOperations would be the other way; the sink
    # shows the same composition for a forward below. Here the Sent Items copy is checked.
    sent = [f for f in all_items(bob, "Sent Items").values() if f.get("Email.Subject") == f"Re: Agenda {tag}"]
    assert len(sent) == 1

    # Bob forwards it to someone remote: the original's text and attachment go along.
    before = len(sink.messages)
    fwd = f"To: carl@remote.example\r\nSubject: Fw: Agenda {tag}\r\n\r\nFYI, Carl.\r\n".encode()
    assert compose_status(bob._post("SmartForward", compose("SmartForward", inbox, sid, fwd))) == "1"
    out = wait_for(lambda: sink.messages[before:])
    assert len(out) == 1 and out[0]["rcpts"] == ["carl@remote.example"]
    parsed = email.message_from_bytes(out[0]["data"], policy=policy.default)
    text = parsed.get_body(("plain",)).get_content()
    assert text.startswith("FYI, Carl.")
    assert "Forwarded message" in text and "Please review the agenda before Friday." in text
    attachments = list(parsed.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["agenda.pdf"]
    assert attachments[0].get_content() == b"%PDF-1.4 agenda"
    assert "bob@example.com" in parsed["From"]

    # A reply to a message that does not exist: 150 ItemNotFound.
    assert compose_status(bob._post("SmartReply", compose("SmartReply", inbox, f"{inbox}:999999", reply))) == "150"


def test_smart_reply_quotes_original(relay_easd, sink):
    alice = client(relay_easd, "alice@example.com", "alice-pw", "ALICEQUOTE")
    tag = uuid.uuid4().hex[:8]
    # A message from outside arrives for Alice by LMTP; she replies to the remote sender.
    import smtplib

    m = message("alice@example.com", f"Question {tag}", "What time is the meeting?\n", sender="Zoe <zoe@remote.example>")
    m["Message-ID"] = f"<q-{tag}@remote.example>"
    with smtplib.LMTP("127.0.0.1", relay_easd.lmtp_port) as lmtp:
        lmtp.send_message(m, to_addrs=["alice@example.com"])
    inbox = folder_id(alice, "Inbox")
    _, items, _ = initial_sync(alice, inbox)
    sid = next(s for s, f in items.items() if f.get("Email.Subject") == f"Question {tag}")
    alice._ensure_provisioned()
    before = len(sink.messages)
    reply = f"To: zoe@remote.example\r\nSubject: Re: Question {tag}\r\n\r\nAt ten.\r\n".encode()
    assert compose_status(alice._post("SmartReply", compose("SmartReply", inbox, sid, reply))) == "1"
    out = wait_for(lambda: sink.messages[before:])
    parsed = email.message_from_bytes(out[0]["data"], policy=policy.default)
    assert parsed["In-Reply-To"] == f"<q-{tag}@remote.example>"
    assert f"<q-{tag}@remote.example>" in parsed["References"]
    text = parsed.get_body(("plain",)).get_content()
    assert text.startswith("At ten.")
    assert "> What time is the meeting?" in text


def search_body(folder: str | None, text: str) -> bytes:
    terms = [wtag("AirSync", "Class", text="Email")]
    if folder:
        terms.append(wtag("AirSync", "CollectionId", text=folder))
    terms.append(wtag("Search", "FreeText", text=text))
    w = WBXMLWriter()
    w.tag("Search", "Search", children=[wtag("Search", "Store", children=[
        wtag("Search", "Name", text="Mailbox"),
        wtag("Search", "Query", children=[wtag("Search", "And", children=terms)]),
        wtag("Search", "Options", children=[
            wtag("Search", "RebuildResults"),
            wtag("Search", "DeepTraversal"),
            wtag("Search", "Range", text="0-9"),
            wtag("AirSyncBase", "BodyPreference", children=[
                wtag("AirSyncBase", "Type", text="1"), wtag("AirSyncBase", "TruncationSize", text="200")]),
        ]),
    ])])
    return w.render()


def test_search_and_find(relay_easd):
    alice = client(relay_easd, "alice@example.com", "alice-pw", "ALICESEARCH")
    bob = client(relay_easd, "bob@example.com", "bob-pw", "BOBSEARCH")
    word = "zeppelin" + uuid.uuid4().hex[:6]
    alice.send_mail(message("bob@example.com", f"The {word} schedule", "Departure at dawn.\n"))
    alice.send_mail(message("bob@example.com", "Unrelated", f"the body mentions {word.upper()} too\n"))
    alice.send_mail(message("bob@example.com", "Nothing here", "nope\n"))
    inbox = folder_id(bob, "Inbox")
    bob._ensure_provisioned()

    # Search, Mailbox store, as phones send it: And of Class, CollectionId, FreeText.
    nodes = WBXMLReader(bob._post("Search", search_body(inbox, word))).parse()
    assert text_of(find(nodes, "Search.Status")) == "1"
    store = find(nodes, "Search.Store")[2]
    assert text_of(find(store, "Search.Status")) == "1"
    assert text_of(find(store, "Search.Total")) == "2"
    results = find_all(store, "Search.Result")
    assert len(results) == 2
    subjects_found = [text_of(find(r[2], "Email.Subject")) for r in results]
    # Newest first.
    assert subjects_found == ["Unrelated", f"The {word} schedule"]
    assert all(text_of(find(r[2], "AirSync.CollectionId")) == inbox for r in results)
    assert all(text_of(find(r[2], "Search.LongId")).startswith(inbox + ":") for r in results)
    # No CollectionId: the whole mailbox (Alice has none of these; Bob's Sent Items neither).
    nodes = WBXMLReader(bob._post("Search", search_body(None, f"{word} schedule"))).parse()
    assert text_of(find(find(nodes, "Search.Store")[2], "Search.Total")) == "1"

    # GAL search finds Bob by a part of his address.
    gal = alice.search_gal("bob")
    assert [g.email_address for g in gal] == ["bob@example.com"]
    assert gal[0].alias == "bob"
    assert alice.search_gal("nobody-like-that") == [] or all(g.email_address is None for g in alice.search_gal("nobody-like-that"))

    # Find (16.1): mailbox and GAL.
    r = bob.find_mailbox(word, folder_id=inbox, max_results=10)
    assert r.status == "1"
    assert sorted(i.fields.get("Email.Subject") for i in r.items) == sorted(["Unrelated", f"The {word} schedule"])
    first = next(i for i in r.items if i.fields.get("Email.Subject") == f"The {word} schedule")
    assert first.collection_id == inbox and first.server_id.startswith(inbox + ":")
    assert "Departure at dawn." in first.fields.get("Find.Preview", "")
    assert "alice@example.com" in first.fields.get("Email.From", "")
    assert first.fields.get("Email.Read") == "0"
    g = alice.find_gal("bob@example")
    assert [i.fields.get("GAL.EmailAddress") for i in g.items] == ["bob@example.com"]
