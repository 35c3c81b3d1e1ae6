"""A small EAS client for the Calendar, Contacts, Tasks and Notes classes (issue 8), on
pyactivesync's WBXML codec: it lacks these code pages, so they are added here from
MS-ASWBXML 2.1.2.1 (tokens typed from the spec tables, an implementation independent of
the server's), and requests go out at any protocol version (pyactivesync sends 16.1 only).

Elements are written as `E("Calendar:Subject", "text")` or `E("AirSync:Add", child, ...)`
and read back as `Tree` nodes named "Calendar.Subject"."""
from __future__ import annotations

import base64
import sqlite3
import struct
from dataclasses import dataclass, field

import pyactivesync
import requests
from pyactivesync import _codepages
from pyactivesync._wbxml import WBXMLReader, WBXMLWriter, wtag

# ----- the code pages pyactivesync lacks (MS-ASWBXML 2.1.2.1.x) ------------------------

_PAGES: dict[str, tuple[int, dict[str, int]]] = {
    "AirSync": (0, {"ConversationMode": 0x27}),
    "Contacts": (1, {
        "Body": 0x09, "BodySize": 0x0A, "BodyTruncated": 0x0B, "Children": 0x17, "Child": 0x18,
        "YomiCompanyName": 0x38, "YomiFirstName": 0x39, "YomiLastName": 0x3A, "Picture": 0x3C,
        "Alias": 0x3D, "WeightedRank": 0x3E,
    }),
    "Calendar": (4, {
        "Timezone": 0x05, "AllDayEvent": 0x06, "Attendees": 0x07, "Attendee": 0x08, "Email": 0x09,
        "Name": 0x0A, "BusyStatus": 0x0D, "Categories": 0x0E, "Category": 0x0F, "DtStamp": 0x11,
        "EndTime": 0x12, "Exception": 0x13, "Exceptions": 0x14, "Deleted": 0x15,
        "ExceptionStartTime": 0x16, "Location": 0x17, "MeetingStatus": 0x18, "OrganizerEmail": 0x19,
        "OrganizerName": 0x1A, "Recurrence": 0x1B, "Type": 0x1C, "Until": 0x1D, "Occurrences": 0x1E,
        "Interval": 0x1F, "DayOfWeek": 0x20, "DayOfMonth": 0x21, "WeekOfMonth": 0x22,
        "MonthOfYear": 0x23, "Reminder": 0x24, "Sensitivity": 0x25, "Subject": 0x26,
        "StartTime": 0x27, "UID": 0x28, "AttendeeStatus": 0x29, "AttendeeType": 0x2A,
        "DisallowNewTimeProposal": 0x33, "ResponseRequested": 0x34, "AppointmentReplyTime": 0x35,
        "ResponseType": 0x36, "CalendarType": 0x37, "IsLeapMonth": 0x38, "FirstDayOfWeek": 0x39,
        "OnlineMeetingConfLink": 0x3A, "OnlineMeetingExternalLink": 0x3B, "ClientUid": 0x3C,
    }),
    "Tasks": (9, {
        "Body": 0x05, "BodySize": 0x06, "BodyTruncated": 0x07, "Categories": 0x08, "Category": 0x09,
        "Complete": 0x0A, "Importance": 0x0E, "Recurrence": 0x0F, "Type": 0x10, "Start": 0x11,
        "Until": 0x12, "Occurrences": 0x13, "Interval": 0x14, "DayOfMonth": 0x15, "DayOfWeek": 0x16,
        "WeekOfMonth": 0x17, "MonthOfYear": 0x18, "Regenerate": 0x19, "DeadOccur": 0x1A,
        "Sensitivity": 0x1D, "SubOrdinalDate": 0x23, "CalendarType": 0x24, "IsLeapMonth": 0x25,
        "FirstDayOfWeek": 0x26,
    }),
    "Contacts2": (12, {
        "CustomerId": 0x05, "GovernmentId": 0x06, "IMAddress": 0x07, "IMAddress2": 0x08,
        "IMAddress3": 0x09, "ManagerName": 0x0A, "CompanyMainPhone": 0x0B, "AccountName": 0x0C,
        "NickName": 0x0D, "MMS": 0x0E,
    }),
    "AirSyncBase": (17, {
        "Location": 0x20, "Annotation": 0x21, "Street": 0x22, "City": 0x23, "State": 0x24,
        "Country": 0x25, "PostalCode": 0x26, "Latitude": 0x27, "Longitude": 0x28, "Accuracy": 0x29,
        "Altitude": 0x2A, "AltitudeAccuracy": 0x2B, "LocationUri": 0x2C, "InstanceId": 0x2D,
    }),
    "Notes": (23, {"Subject": 0x05, "MessageClass": 0x06, "LastModifiedDate": 0x07, "Categories": 0x08, "Category": 0x09}),
}

for _page, (_num, _tags) in _PAGES.items():
    _codepages.PAGE_INDEX.setdefault(_page, _num)
    _codepages.PAGE_ORDER.setdefault(_num, _page)
    _codepages.CODEPAGES.setdefault(_page, {})
    _codepages.REVERSE.setdefault(_num, {})
    for _name, _token in _tags.items():
        _codepages.CODEPAGES[_page].setdefault(_name, _token)
        _codepages.REVERSE[_num].setdefault(_token, _name)


def E(tag: str, *content):
    """One element: `tag` is "Page:Name"; content is one text or child elements."""
    page, name = tag.split(":")
    if len(content) == 1 and isinstance(content[0], str):
        return wtag(page, name, text=content[0])
    if len(content) == 1 and isinstance(content[0], bytes):
        return wtag(page, name, opaque=content[0])
    return wtag(page, name, children=[c for c in content if c is not None] or None)


def render(root) -> bytes:
    w = WBXMLWriter()
    root(w)
    return w.render()


# ----- reading responses --------------------------------------------------------------

@dataclass
class Tree:
    """A response element: `name` as "Page.Name", `text` for a leaf, `children` else."""

    name: str
    text: str | bytes | None = None
    children: list[Tree] = field(default_factory=list)

    @classmethod
    def of(cls, node) -> Tree:
        name, _, kids = node
        text = next((t for n, t, _ in kids if n in ("#text", "#opaque")), None)
        return cls(name, text, [cls.of(k) for k in kids if not k[0].startswith("#")])

    def all(self, name: str) -> list[Tree]:
        """Every descendant named `name`, document order."""
        out = []
        for c in self.children:
            if c.name == name:
                out.append(c)
            out.extend(c.all(name))
        return out

    def first(self, name: str) -> Tree | None:
        found = self.all(name)
        return found[0] if found else None

    def child(self, name: str) -> Tree | None:
        return next((c for c in self.children if c.name == name), None)

    def get(self, name: str) -> str | None:
        """The text of the direct child `name`."""
        c = self.child(name)
        return None if c is None else (c.text if c.text is not None else "")

    def leaves(self) -> dict[str, str]:
        """Direct leaf children as {name: text}."""
        return {c.name: c.text for c in self.children if not c.children}


def parse(resp: bytes) -> Tree:
    return Tree.of(WBXMLReader(resp).parse()[0])


def sent_tree(builder) -> Tree:
    """What a builder writes, read back as a Tree (the expected side of a round trip)."""
    w = WBXMLWriter()
    E("AirSync:ApplicationData", *builder)(w) if isinstance(builder, list) else builder(w)
    return parse(w.render())


def missing(sent: Tree, got: Tree, path: str = "") -> list[str]:
    """Where `got` lacks or differs from something in `sent` (extra elements in `got` are
    fine: the server adds Body details, DtStamp, UID...). Repeated elements pair in order."""
    out = []
    seen: dict[str, int] = {}
    for s in sent.children:
        i = seen.get(s.name, 0)
        seen[s.name] = i + 1
        candidates = [c for c in got.children if c.name == s.name]
        here = f"{path}/{s.name}[{i}]"
        if i >= len(candidates):
            out.append(f"{here} absent (sent {s.text!r})")
            continue
        g = candidates[i]
        if s.children:
            out.extend(missing(s, g, here))
        elif (s.text or "") != (g.text or ""):
            out.append(f"{here}: sent {s.text!r}, got {g.text!r}")
    for name, n in seen.items():
        have = len([c for c in got.children if c.name == name])
        if have > n:
            out.append(f"{path}/{name}: sent {n}, got {have}")
    return out


# ----- the client --------------------------------------------------------------------

FOLDER_TYPES = {"Calendar": "8", "Contacts": "9", "Tasks": "7", "Notes": "10"}


@dataclass
class Collection:
    """One collection's answer to a Sync."""

    status: str
    sync_key: str | None
    adds: dict[str, Tree]
    changes: dict[str, Tree]
    deletes: list[str]
    soft_deletes: list[str]
    responses: list[Tree]
    more: bool

    def added_id(self, client_id: str) -> str:
        r = next(r for r in self.responses if r.name == "AirSync.Add" and r.get("AirSync.ClientId") == client_id)
        assert r.get("AirSync.Status") == "1", f"Add status {r.get('AirSync.Status')}"
        return r.get("AirSync.ServerId")

    def response_status(self, server_id: str) -> str | None:
        r = next((r for r in self.responses if r.get("AirSync.ServerId") == server_id), None)
        return None if r is None else r.get("AirSync.Status")


class Device:
    """One device of a user, speaking protocol `version`."""

    def __init__(self, easd, user: str, password: str, device_id: str, version: str = "16.1"):
        self.easd, self.user, self.password, self.device_id, self.version = easd, user, password, device_id, version
        self.client = pyactivesync.Client("127.0.0.1", user, password, device_id=device_id)
        self.client._transport.base_url = easd.eas_url
        self.policy_key = self.client.provision()
        self.keys: dict[str, str] = {}

    def post_raw(self, cmd: str, body: bytes, timeout: float = 30) -> requests.Response:
        return requests.post(
            self.easd.eas_url,
            params={"Cmd": cmd, "User": self.user, "DeviceId": self.device_id, "DeviceType": "PimTest"},
            data=body,
            headers={"MS-ASProtocolVersion": self.version, "Content-Type": "application/vnd.ms-sync.wbxml",
                     "X-MS-PolicyKey": self.policy_key},
            auth=(self.user, self.password),
            timeout=timeout,
        )

    def post(self, cmd: str, root, timeout: float = 30) -> Tree:
        r = self.post_raw(cmd, render(root), timeout)
        assert r.status_code == 200, (cmd, r.status_code, r.text)
        return parse(r.content)

    def folders(self) -> dict[str, tuple[str, str]]:
        """{display name: (ServerId, Type)}."""
        return {f.name: (f.id, str(int(f.type))) for f in self.client.list_folders()}

    def folder(self, cls: str) -> str:
        return next(i for i, t in self.folders().values() if t == FOLDER_TYPES[cls])

    def sync(self, fid: str, commands: list | None = None, options: list | None = None, window: int = 100,
             get_changes: bool | None = None, supported: list | None = None, key: str | None = None) -> Collection:
        key = key if key is not None else self.keys.get(fid, "0")
        children = [E("AirSync:SyncKey", key), E("AirSync:CollectionId", fid)]
        if supported is not None:
            children.append(E("AirSync:Supported", *supported))
        if get_changes is not None:
            children.append(E("AirSync:GetChanges", "1" if get_changes else "0"))
        children.append(E("AirSync:WindowSize", str(window)))
        if options:
            children.append(E("AirSync:Options", *options))
        if commands:
            children.append(E("AirSync:Commands", *commands))
        t = self.post("Sync", E("AirSync:Sync", E("AirSync:Collections", E("AirSync:Collection", *children))))
        top = t.get("AirSync.Status")
        assert top in (None, "1"), f"Sync status {top}"
        c = t.first("AirSync.Collection")
        assert c is not None, t
        new_key = c.get("AirSync.SyncKey")
        if new_key:
            self.keys[fid] = new_key
        cmds = c.child("AirSync.Commands") or Tree("none")
        resp = c.child("AirSync.Responses") or Tree("none")

        def items(name):
            return {x.get("AirSync.ServerId"): x.child("AirSync.ApplicationData") or Tree("empty") for x in cmds.children if x.name == name}

        return Collection(
            status=c.get("AirSync.Status"), sync_key=new_key, adds=items("AirSync.Add"), changes=items("AirSync.Change"),
            deletes=[x.get("AirSync.ServerId") for x in cmds.children if x.name == "AirSync.Delete"],
            soft_deletes=[x.get("AirSync.ServerId") for x in cmds.children if x.name == "AirSync.SoftDelete"],
            responses=resp.children, more=c.child("AirSync.MoreAvailable") is not None,
        )

    def prime(self, fid: str, options: list | None = None) -> Collection:
        """SyncKey 0 and then everything there is (the initial sync)."""
        self.keys.pop(fid, None)
        first = self.sync(fid, options=options)
        assert first.status == "1" and first.sync_key != "0"
        return self.pull(fid, options)

    def pull(self, fid: str, options: list | None = None) -> Collection:
        """Syncs until nothing more is available; the Collection of all of it."""
        total = None
        while True:
            c = self.sync(fid, options=options)
            assert c.status == "1", f"Sync collection status {c.status}"
            if total is None:
                total = c
            else:
                total.adds.update(c.adds)
                total.changes.update(c.changes)
                total.deletes += c.deletes
                total.soft_deletes += c.soft_deletes
                total.sync_key = c.sync_key
            if not c.more:
                return total

    def add(self, fid: str, data: list, client_id: str = "c1", options: list | None = None) -> str:
        c = self.sync(fid, [E("AirSync:Add", E("AirSync:ClientId", client_id), E("AirSync:ApplicationData", *data))],
                      options=options, get_changes=False)
        assert c.status == "1", c.status
        return c.added_id(client_id)

    def change(self, fid: str, server_id: str, data: list, supported: list | None = None) -> str | None:
        c = self.sync(fid, [E("AirSync:Change", E("AirSync:ServerId", server_id), E("AirSync:ApplicationData", *data))],
                      get_changes=False, supported=supported)
        assert c.status == "1", c.status
        return c.response_status(server_id)

    def delete(self, fid: str, server_id: str) -> None:
        c = self.sync(fid, [E("AirSync:Delete", E("AirSync:ServerId", server_id))], get_changes=False)
        assert c.status == "1", c.status
        assert c.response_status(server_id) in (None, "1")


BODY_TEXT = [E("AirSyncBase:BodyPreference", E("AirSyncBase:Type", "1"), E("AirSyncBase:TruncationSize", "200000"))]


def body(text: str):
    return E("AirSyncBase:Body", E("AirSyncBase:Type", "1"), E("AirSyncBase:Data", text))


# ----- MS-ASDTYPE 2.7.6 TIMEZONE -------------------------------------------------------

def systemtime(month=0, dow=0, week=0, hour=0, minute=0) -> bytes:
    """SYSTEMTIME in the "day-of-week occurrence" form (wYear 0, wDay the week 1..5)."""
    return struct.pack("<8H", 0, month, dow, week, hour, minute, 0, 0)


def tz_blob(bias: int, std_name: str, std_date: bytes, std_bias: int, dst_name: str, dst_date: bytes, dst_bias: int) -> str:
    def name(s: str) -> bytes:
        return s.encode("utf-16-le").ljust(64, b"\0")[:64]

    raw = (struct.pack("<i", bias) + name(std_name) + std_date + struct.pack("<i", std_bias)
           + name(dst_name) + dst_date + struct.pack("<i", dst_bias))
    assert len(raw) == 172
    return base64.b64encode(raw).decode()


def tz_rules(blob: str) -> tuple:
    """Everything but the two names: what says when the clocks change."""
    raw = base64.b64decode(blob)
    assert len(raw) == 172
    bias, = struct.unpack_from("<i", raw, 0)
    std = struct.unpack_from("<8H", raw, 68)
    std_bias, = struct.unpack_from("<i", raw, 84)
    dst = struct.unpack_from("<8H", raw, 152)
    dst_bias, = struct.unpack_from("<i", raw, 168)
    return bias, std[1:6], std_bias, dst[1:6] if dst[1] else (0,) * 5, dst_bias if dst[1] else 0


ZONES = {
    # Windows names as Outlook writes them; bias = UTC - local in minutes.
    "Europe/Berlin": tz_blob(-60, "W. Europe Standard Time", systemtime(10, 0, 5, 3), 0,
                             "W. Europe Daylight Time", systemtime(3, 0, 5, 2), -60),
    "America/New_York": tz_blob(300, "Eastern Standard Time", systemtime(11, 0, 1, 2), 0,
                                "Eastern Daylight Time", systemtime(3, 0, 2, 2), -60),
    "Australia/Sydney": tz_blob(-600, "AUS Eastern Standard Time", systemtime(4, 0, 1, 3), 0,
                                "AUS Eastern Daylight Time", systemtime(10, 0, 1, 2), -60),
    "Asia/Kolkata": tz_blob(-330, "India Standard Time", systemtime(), 0, "India Daylight Time", systemtime(), 0),
}


# ----- the store ---------------------------------------------------------------------

def stored_content(easd, user: str, subject: str) -> str:
    """The stored text of the user's item with that subject (items.subject, item_content)."""
    db = sqlite3.connect(f"file:{easd.data / 'easd.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT c.content FROM items i JOIN item_content c ON c.item_id = i.id JOIN accounts a ON a.id = i.account_id "
            "WHERE a.email = ? AND i.subject = ?", (user, subject)).fetchall()
    finally:
        db.close()
    assert len(rows) == 1, f"{len(rows)} items with subject {subject!r}"
    content = rows[0][0]
    return content.decode() if isinstance(content, bytes) else content
