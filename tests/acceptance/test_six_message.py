"""Issue 4: the classic six-message test with two devices of one user.

A is "the desktop", B "the phone". Three messages are sent from A and three from B (to the
user's own mailbox); #1 is deleted on A and #2 on B; #3 is moved from B and #4 from A into
a folder; #5 is read on A and #6 on B. After both sync, both see exactly the same state.
"""
from __future__ import annotations

import uuid
from email.message import EmailMessage

from pyactivesync import EmailChange
from test_email_sync import client, folder_id


class Device:
    def __init__(self, c, folders: dict[str, str]):
        self.c = c
        self.keys: dict[str, str] = {}
        self.items: dict[str, dict[str, dict]] = {}
        self.folders = folders

    def sync(self, name: str) -> None:
        fid = self.folders[name]
        if fid not in self.keys:
            self.keys[fid] = self.c.sync_folder(fid, "0").sync_key
            self.items[fid] = {}
        while True:
            r = self.c.sync_folder(fid, self.keys[fid], window_size=50)
            self.keys[fid] = r.sync_key
            for it in r.added:
                assert it.server_id not in self.items[fid], "duplicate Add"
                self.items[fid][it.server_id] = dict(it.fields)
            for it in r.changed:
                self.items[fid][it.server_id].update(it.fields)
            for sid in r.deleted:
                self.items[fid].pop(sid)
            if not r.more_available:
                break

    def find(self, name: str, subject: str) -> str:
        fid = self.folders[name]
        hits = [sid for sid, f in self.items[fid].items() if f.get("Email.Subject") == subject]
        assert len(hits) == 1, (subject, hits)
        return hits[0]

    def view(self, name: str) -> dict[str, str]:
        fid = self.folders[name]
        return {f["Email.Subject"]: f.get("Email.Read") for f in self.items[fid].values()}

    def change(self, name: str, changes) -> None:
        fid = self.folders[name]
        res = self.c.apply_email_changes(fid, self.keys[fid], changes)
        assert set(res.statuses.values()) == {"1"}, res.statuses
        self.keys[fid] = res.sync_key
        for ch in changes:
            if ch.delete:
                self.items[fid].pop(ch.server_id)
            elif ch.read is not None:
                self.items[fid][ch.server_id]["Email.Read"] = "1" if ch.read else "0"

    def move(self, src: str, dst: str, subject: str) -> None:
        sid = self.find(src, subject)
        new_id = self.c.move_item(sid, self.folders[src], self.folders[dst])
        fields = self.items[self.folders[src]].pop(sid)
        if self.folders[dst] in self.items:
            self.items[self.folders[dst]][new_id] = fields


def send(c, user: str, subject: str) -> None:
    m = EmailMessage()
    m["From"] = user
    m["To"] = user
    m["Subject"] = subject
    m.set_content(f"{subject}\n")
    c.send_mail(m)


def test_six_messages(easd):
    user = f"six{uuid.uuid4().hex[:6]}@example.com"
    easd.add_user(user, "pw")
    ca = client(easd, user, "pw", "DESKTOP" + uuid.uuid4().hex[:6].upper())
    cb = client(easd, user, "pw", "PHONE" + uuid.uuid4().hex[:6].upper())
    folders = {f.name: f.id for f in ca.list_folders()}
    ca.create_folder("Six", parent_id="0") if hasattr(ca, "create_folder") else None
    folders = {f.name: f.id for f in ca.list_folders()}
    assert "Six" in folders
    cb.list_folders()
    a, b = Device(ca, folders), Device(cb, folders)
    for d in (a, b):
        d.sync("Inbox")
        d.sync("Six")

    tag = uuid.uuid4().hex[:6]
    subjects = [f"#{i} {tag}" for i in range(1, 7)]
    for s in subjects[:3]:
        send(ca, user, s)
    for s in subjects[3:]:
        send(cb, user, s)
    for d in (a, b):
        d.sync("Inbox")
        assert set(d.view("Inbox")) == set(subjects)

    a.change("Inbox", [EmailChange(server_id=a.find("Inbox", subjects[0]), delete=True)])
    b.change("Inbox", [EmailChange(server_id=b.find("Inbox", subjects[1]), delete=True)])
    b.move("Inbox", "Six", subjects[2])
    a.move("Inbox", "Six", subjects[3])
    a.change("Inbox", [EmailChange(server_id=a.find("Inbox", subjects[4]), read=True)])
    b.change("Inbox", [EmailChange(server_id=b.find("Inbox", subjects[5]), read=True)])

    for d in (a, b):
        d.sync("Inbox")
        d.sync("Six")
    expected_inbox = {subjects[4]: "1", subjects[5]: "1"}
    assert a.view("Inbox") == b.view("Inbox") == expected_inbox
    assert set(a.view("Six")) == set(b.view("Six")) == {subjects[2], subjects[3]}
    # The sent copies landed in Sent Items, the deletes in Deleted Items, on both.
    for d in (a, b):
        d.sync("Sent Items")
        d.sync("Deleted Items")
    assert set(subjects) <= set(a.view("Sent Items")) == set(b.view("Sent Items"))
    assert {subjects[0], subjects[1]} <= set(a.view("Deleted Items"))
    assert a.view("Deleted Items") == b.view("Deleted Items")
