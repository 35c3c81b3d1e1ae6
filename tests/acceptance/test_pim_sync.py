"""Issue 8: Contacts, Calendar, Tasks and Notes sync through the real server, at 14.0, 14.1
and 16.1: what one device sets, another reads back unchanged."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from pyactivesync import Contact, ContactChange
from pim_util import BODY_TEXT, ZONES, E, Device, body, missing, parse, render, sent_tree
from test_email_sync import initial_sync

VERSIONS = ["14.0", "14.1", "16.1"]
_users = iter(range(1000))


@pytest.fixture()
def user(easd):
    """A user of its own, so each test starts from empty folders."""
    name = f"pim{next(_users)}@example.com"
    easd.add_user(name, "pim-pw")
    return name


def devices(easd, user, version="16.1", n=2):
    return [Device(easd, user, "pim-pw", f"PIM{i}{version.replace('.', '')}{user.split('@')[0]}", version) for i in range(n)]


def utc(dt: datetime) -> str:
    """MS-ASDTYPE 2.3 compact dateTime, as Calendar StartTime and Exceptions carry."""
    return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


# ----- Contacts ----------------------------------------------------------------------

def test_contact_create_change_delete_with_pyactivesync(easd, user):
    """pyactivesync's own create_contact / apply_contact_changes; a second device sees each."""
    a, b = devices(easd, user)
    fid = a.folder("Contacts")
    b_key, items, _ = initial_sync(b.client, fid)
    assert items == {}
    key, _, _ = initial_sync(a.client, fid)
    made = a.client.create_contact(fid, key, Contact(first_name="Ada", last_name="Lovelace", company_name="Analytical",
                                                     email1_address="ada@example.org", categories=["Math", "Friends"]))
    assert made.status == "1" and made.server_id
    r = b.client.sync_folder(fid, b_key)
    assert [i.server_id for i in r.added] == [made.server_id]
    f = r.added[0].fields
    assert (f["Contacts.FirstName"], f["Contacts.LastName"], f["Contacts.CompanyName"], f["Contacts.Email1Address"]) == (
        "Ada", "Lovelace", "Analytical", "ada@example.org")

    changed = a.client.apply_contact_changes(fid, made.sync_key, [ContactChange(
        server_id=made.server_id, contact=Contact(first_name="Ada", last_name="King", job_title="Countess"))])
    assert changed.statuses == {made.server_id: "1"}
    r = b.client.sync_folder(fid, r.sync_key)
    assert [i.server_id for i in r.changed] == [made.server_id]
    f = r.changed[0].fields
    assert f["Contacts.LastName"] == "King" and f["Contacts.JobTitle"] == "Countess"
    # 16.1 is partial (MS-ASCMD 2.2.3.24.2): what the Change left out stays.
    assert f["Contacts.CompanyName"] == "Analytical"

    gone = a.client.apply_contact_changes(fid, changed.sync_key, [ContactChange(server_id=made.server_id, delete=True)])
    assert gone.statuses == {made.server_id: "1"}
    r = b.client.sync_folder(fid, r.sync_key)
    assert r.deleted == [made.server_id]


def every_contact_field() -> list:
    fields = [
        E("Contacts:Anniversary", "2001-06-02T00:00:00.000Z"),
        E("Contacts:AssistantName", "Igor"),
        E("Contacts:AssistantPhoneNumber", "+49 30 1000"),
        E("Contacts:Birthday", "1975-12-10T00:00:00.000Z"),
        body("Met at the conference.\nLikes tea."),
        E("Contacts:Business2PhoneNumber", "+49 30 1001"),
        E("Contacts:BusinessAddressCity", "Berlin"),
        E("Contacts:BusinessAddressCountry", "Germany"),
        E("Contacts:BusinessAddressPostalCode", "10115"),
        E("Contacts:BusinessAddressState", "BE"),
        E("Contacts:BusinessAddressStreet", "Invalidenstr. 1"),
        E("Contacts:BusinessFaxNumber", "+49 30 1002"),
        E("Contacts:BusinessPhoneNumber", "+49 30 1003"),
        E("Contacts:CarPhoneNumber", "+49 170 1004"),
        E("Contacts:Categories", E("Contacts:Category", "Business"), E("Contacts:Category", "VIP")),
        E("Contacts:Children", E("Contacts:Child", "Ben"), E("Contacts:Child", "Clara")),
        E("Contacts:CompanyName", "Example GmbH"),
        E("Contacts:Department", "Research"),
        E("Contacts:Email1Address", "\"Jörg Müller\" <joerg@example.de>"),
        E("Contacts:Email2Address", "jm@example.org"),
        E("Contacts:Email3Address", "j.mueller@example.net"),
        E("Contacts:FileAs", "Müller, Jörg"),
        E("Contacts:FirstName", "Jörg"),
        E("Contacts:Home2PhoneNumber", "+49 30 2001"),
        E("Contacts:HomeAddressCity", "Potsdam"),
        E("Contacts:HomeAddressCountry", "Germany"),
        E("Contacts:HomeAddressPostalCode", "14467"),
        E("Contacts:HomeAddressState", "BB"),
        E("Contacts:HomeAddressStreet", "Am Kanal 5\nHinterhaus"),
        E("Contacts:HomeFaxNumber", "+49 30 2002"),
        E("Contacts:HomePhoneNumber", "+49 30 2003"),
        E("Contacts:JobTitle", "Chief Scientist"),
        E("Contacts:LastName", "Müller"),
        E("Contacts:MiddleName", "Wilhelm"),
        E("Contacts:MobilePhoneNumber", "+49 170 2004"),
        E("Contacts:OfficeLocation", "Building C, 3.14"),
        E("Contacts:OtherAddressCity", "Hamburg"),
        E("Contacts:OtherAddressCountry", "Germany"),
        E("Contacts:OtherAddressPostalCode", "20095"),
        E("Contacts:OtherAddressState", "HH"),
        E("Contacts:OtherAddressStreet", "Jungfernstieg 7"),
        E("Contacts:PagerNumber", "+49 30 3001"),
        E("Contacts:RadioPhoneNumber", "+49 30 3002"),
        E("Contacts:Spouse", "Anna"),
        E("Contacts:Suffix", "Jr."),
        E("Contacts:Title", "Dr."),
        E("Contacts:WebPage", "https://example.de/~joerg"),
        E("Contacts:YomiCompanyName", "Ekusanpuru"),
        E("Contacts:YomiFirstName", "Yoruku"),
        E("Contacts:YomiLastName", "Myura"),
        E("Contacts:Picture", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="),
        E("Contacts2:CustomerId", "CUST-42"),
        E("Contacts2:GovernmentId", "GOV-7"),
        E("Contacts2:IMAddress", "xmpp:joerg@example.de"),
        E("Contacts2:IMAddress2", "sip:joerg@example.de"),
        E("Contacts2:IMAddress3", "joerg.skype"),
        E("Contacts2:ManagerName", "Frau Schmidt"),
        E("Contacts2:CompanyMainPhone", "+49 30 4000"),
        E("Contacts2:AccountName", "jmueller"),
        E("Contacts2:NickName", "Jo"),
        E("Contacts2:MMS", "+49 170 5000"),
    ]
    return fields


@pytest.mark.parametrize("version", VERSIONS)
def test_every_contact_field_round_trips(easd, user, version):
    a, b = devices(easd, user, version)
    fid = a.folder("Contacts")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    data = every_contact_field()
    sid = a.add(fid, data)
    got = b.pull(fid, BODY_TEXT)
    assert list(got.adds) == [sid]
    assert missing(sent_tree(data), got.adds[sid]) == []
    # And the item a third device fetches (ItemOperations) is the same.
    fetched = b.post("ItemOperations", E("ItemOperations:ItemOperations", E("ItemOperations:Fetch",
        E("ItemOperations:Store", "Mailbox"), E("AirSync:CollectionId", fid), E("AirSync:ServerId", sid),
        E("ItemOperations:Options", *BODY_TEXT))))
    assert fetched.get("ItemOperations.Status") == "1"
    assert fetched.first("ItemOperations.Fetch").get("ItemOperations.Status") == "1"
    assert missing(sent_tree(data), fetched.first("ItemOperations.Properties")) == []


def test_14_1_change_with_supported_leaves_ghosted_fields_alone(easd, user):
    """MS-ASAIRS 3.1.5.3 ghosting: a 14.1 Change replaces the fields the device declared
    Supported and leaves the rest as they were."""
    (writer,) = devices(easd, user, "16.1", 1)
    old, plain = devices(easd, user, "14.1")
    fid = writer.folder("Contacts")
    writer.prime(fid)
    supported = [E("Contacts:FirstName"), E("Contacts:LastName"), E("Contacts:JobTitle"), E("Contacts:Department"),
                 E("Contacts:Email1Address")]
    old.sync(fid, supported=supported, key="0")
    old.pull(fid)
    sid = writer.add(fid, [E("Contacts:FirstName", "Grace"), E("Contacts:LastName", "Hopper"), E("Contacts:JobTitle", "Admiral"),
                           E("Contacts:Department", "Navy"), E("Contacts:Email1Address", "grace@example.mil"),
                           E("Contacts2:NickName", "Amazing Grace"), E("Contacts:HomePhoneNumber", "+1 555 0100"),
                           body("Invented the compiler.")])
    assert list(old.pull(fid).adds) == [sid]
    assert old.change(fid, sid, [E("Contacts:FirstName", "Grace B."), E("Contacts:LastName", "Hopper"),
                                 E("Contacts:JobTitle", "Rear Admiral")]) in (None, "1")
    writer.keys.pop(fid)
    after = writer.prime(fid, BODY_TEXT).adds[sid].leaves()
    assert after["Contacts.FirstName"] == "Grace B." and after["Contacts.JobTitle"] == "Rear Admiral"
    # Supported and absent from the Change: removed.
    assert "Contacts.Department" not in after and "Contacts.Email1Address" not in after
    # Not Supported: ghosted, kept.
    assert after["Contacts2.NickName"] == "Amazing Grace" and after["Contacts.HomePhoneNumber"] == "+1 555 0100"
    assert writer.prime(fid, BODY_TEXT).adds[sid].first("AirSyncBase.Data").text == "Invented the compiler."

    # A 14.1 device without a Supported list sends the whole item: what it leaves out goes.
    plain.prime(fid)
    assert plain.change(fid, sid, [E("Contacts:FirstName", "Grace"), E("Contacts:LastName", "Hopper")]) in (None, "1")
    after = writer.prime(fid, BODY_TEXT).adds[sid].leaves()
    assert after.get("Contacts.FirstName") == "Grace" and "Contacts2.NickName" not in after and "Contacts.JobTitle" not in after


def test_16_1_change_is_partial(easd, user):
    a, b = devices(easd, user, "16.1")
    fid = a.folder("Contacts")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    data = every_contact_field()
    sid = a.add(fid, data)
    b.pull(fid, BODY_TEXT)
    assert a.change(fid, sid, [E("Contacts:JobTitle", "Emeritus"), E("Contacts2:NickName", "Jojo")]) in (None, "1")
    got = b.pull(fid, BODY_TEXT)
    assert list(got.changes) == [sid]
    item = got.changes[sid]
    assert item.get("Contacts.JobTitle") == "Emeritus" and item.get("Contacts2.NickName") == "Jojo"
    expected = [d for d in data if sent_tree([d]).children[0].name not in ("Contacts.JobTitle", "Contacts2.NickName")]
    assert missing(sent_tree(expected), item) == []


# ----- Calendar ----------------------------------------------------------------------

def every_event_field(version: str, subject: str) -> list:
    start = datetime(2027, 3, 4, 14, 30, tzinfo=timezone.utc)
    location = (E("AirSyncBase:Location", E("AirSyncBase:DisplayName", "Room 4.01 \"Ada\""))
                if version >= "16.0" else E("Calendar:Location", "Room 4.01 \"Ada\""))
    data = [
        E("Calendar:Timezone", ZONES_BERLIN),
        E("Calendar:AllDayEvent", "0"),
        body("Agenda:\n1. Budget\n2. Rollout"),
        E("Calendar:BusyStatus", "1"),
        E("Calendar:OrganizerName", "Pim User"),
        E("Calendar:OrganizerEmail", "pim@example.com"),
        E("Calendar:EndTime", utc(start + timedelta(hours=1, minutes=15))),
        location,
        E("Calendar:Reminder", "25"),
        E("Calendar:Sensitivity", "2"),
        E("Calendar:Subject", subject),
        E("Calendar:StartTime", utc(start)),
        E("Calendar:Categories", E("Calendar:Category", "Planning"), E("Calendar:Category", "Red")),
        E("Calendar:Attendees",
          E("Calendar:Attendee", E("Calendar:Email", "r1@example.net"), E("Calendar:Name", "Required One"), E("Calendar:AttendeeType", "1")),
          E("Calendar:Attendee", E("Calendar:Email", "o2@example.net"), E("Calendar:Name", "Optional Two"), E("Calendar:AttendeeType", "2")),
          E("Calendar:Attendee", E("Calendar:Email", "beamer@example.net"), E("Calendar:Name", "Beamer"), E("Calendar:AttendeeType", "3"))),
        E("Calendar:MeetingStatus", "1"),
    ]
    if version < "16.0":
        data.append(E("Calendar:UID", f"{subject.replace(' ', '-')}@device.example"))
    return data


ZONES_BERLIN = ZONES["Europe/Berlin"]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_event_field_round_trips(easd, user, version):
    a, b = devices(easd, user, version)
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    data = every_event_field(version, f"Steering {version}")
    sid = a.add(fid, data)
    got = b.pull(fid, BODY_TEXT)
    assert list(got.adds) == [sid]
    assert missing(sent_tree(data), got.adds[sid]) == []


PATTERNS = {
    # (Recurrence children, first start (UTC, Berlin 10:00 local), an occurrence to delete, one to move)
    "weekly": ([E("Calendar:Type", "1"), E("Calendar:Interval", "1"), E("Calendar:DayOfWeek", "20")],  # Tue+Thu
               datetime(2027, 1, 5, 9, 0, tzinfo=timezone.utc), datetime(2027, 1, 7, 9, 0, tzinfo=timezone.utc),
               datetime(2027, 1, 12, 9, 0, tzinfo=timezone.utc)),
    "monthly": ([E("Calendar:Type", "2"), E("Calendar:Interval", "1"), E("Calendar:DayOfMonth", "15"), E("Calendar:Occurrences", "10")],
                datetime(2027, 1, 15, 9, 0, tzinfo=timezone.utc), datetime(2027, 2, 15, 9, 0, tzinfo=timezone.utc),
                datetime(2027, 4, 15, 8, 0, tzinfo=timezone.utc)),
    "monthly-nth": ([E("Calendar:Type", "3"), E("Calendar:Interval", "2"), E("Calendar:DayOfWeek", "2"), E("Calendar:WeekOfMonth", "5"),
                     E("Calendar:Until", "20271231T235959Z")],  # last Monday, every other month
                    datetime(2027, 1, 25, 9, 0, tzinfo=timezone.utc), datetime(2027, 3, 29, 8, 0, tzinfo=timezone.utc),
                    datetime(2027, 5, 31, 8, 0, tzinfo=timezone.utc)),
    "yearly": ([E("Calendar:Type", "5"), E("Calendar:Interval", "1"), E("Calendar:DayOfMonth", "29"), E("Calendar:MonthOfYear", "2")],
               datetime(2028, 2, 29, 9, 0, tzinfo=timezone.utc), datetime(2032, 2, 29, 9, 0, tzinfo=timezone.utc),
               datetime(2036, 2, 29, 9, 0, tzinfo=timezone.utc)),
    "yearly-nth": ([E("Calendar:Type", "6"), E("Calendar:Interval", "1"), E("Calendar:DayOfWeek", "16"), E("Calendar:WeekOfMonth", "4"),
                    E("Calendar:MonthOfYear", "11"), E("Calendar:Occurrences", "5")],  # fourth Thursday of November
                   datetime(2027, 11, 25, 9, 0, tzinfo=timezone.utc), datetime(2028, 11, 23, 9, 0, tzinfo=timezone.utc),
                   datetime(2029, 11, 22, 9, 0, tzinfo=timezone.utc)),
}


@pytest.mark.parametrize("pattern", list(PATTERNS))
@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_recurrence_with_a_deleted_and_a_modified_occurrence(easd, user, pattern, version):
    a, b = devices(easd, user, version)
    rule, start, deleted, moved = PATTERNS[pattern]
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    subject = f"{pattern} series"
    # MS-ASCAL 2.2.2.21 Exception: 16.x names the occurrence by airsyncbase:InstanceId.
    occurrence = "AirSyncBase:InstanceId" if version >= "16.0" else "Calendar:ExceptionStartTime"
    data = [
        E("Calendar:Timezone", ZONES_BERLIN),
        E("Calendar:Subject", subject),
        E("Calendar:StartTime", utc(start)),
        E("Calendar:EndTime", utc(start + timedelta(minutes=45))),
        E("Calendar:Recurrence", *rule),
        E("Calendar:Exceptions",
          E("Calendar:Exception", E("Calendar:Deleted", "1"), E(occurrence, utc(deleted))),
          E("Calendar:Exception", E("Calendar:Subject", f"{subject}, moved"), E(occurrence, utc(moved)),
            E("Calendar:StartTime", utc(moved + timedelta(hours=2))), E("Calendar:EndTime", utc(moved + timedelta(hours=3))))),
    ]
    sid = a.add(fid, data)
    got = b.pull(fid, BODY_TEXT)
    assert list(got.adds) == [sid]
    assert missing(sent_tree(data), got.adds[sid]) == []


# ----- Tasks and Notes ---------------------------------------------------------------

def task_fields(subject: str, complete: bool = False) -> list:
    data = [
        body("Collect receipts, then file."),
        E("Tasks:Categories", E("Tasks:Category", "Admin")),
        E("Tasks:Complete", "1" if complete else "0"),
    ]
    if complete:
        data.append(E("Tasks:DateCompleted", "2026-11-20T10:00:00.000Z"))
    data += [
        E("Tasks:DueDate", "2027-04-30T00:00:00.000Z"),
        E("Tasks:UtcDueDate", "2027-04-29T22:00:00.000Z"),
        E("Tasks:Importance", "2"),
        E("Tasks:ReminderSet", "1"),
        E("Tasks:ReminderTime", "2027-04-29T07:00:00.000Z"),
        E("Tasks:Sensitivity", "1"),
        E("Tasks:StartDate", "2027-04-01T00:00:00.000Z"),
        E("Tasks:UtcStartDate", "2027-03-31T22:00:00.000Z"),
        E("Tasks:Subject", subject),
    ]
    return data


@pytest.mark.parametrize("version", VERSIONS)
def test_task_add_change_delete(easd, user, version):
    a, b = devices(easd, user, version)
    fid = a.folder("Tasks")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    data = task_fields("Tax return")
    sid = a.add(fid, data)
    got = b.pull(fid, BODY_TEXT)
    assert list(got.adds) == [sid] and missing(sent_tree(data), got.adds[sid]) == []

    done = task_fields("Tax return (filed)", complete=True)
    assert a.change(fid, sid, done) in (None, "1")
    got = b.pull(fid, BODY_TEXT)
    assert list(got.changes) == [sid] and missing(sent_tree(done), got.changes[sid]) == []

    a.delete(fid, sid)
    assert b.pull(fid, BODY_TEXT).deletes == [sid]


def test_task_filter_8_shows_incomplete_tasks_only(easd, user):
    a, b = devices(easd, user, "14.1")
    fid = a.folder("Tasks")
    a.prime(fid)
    open_id = a.add(fid, task_fields("Open task"), "c1")
    done_id = a.add(fid, task_fields("Done task", complete=True), "c2")
    incomplete = [E("AirSync:FilterType", "8")]
    seen = b.prime(fid, incomplete)
    assert list(seen.adds) == [open_id]
    assert done_id not in seen.adds
    # Completing the task takes it out of the device's window.
    a.change(fid, open_id, task_fields("Open task", complete=True))
    after = b.pull(fid, incomplete)
    assert after.soft_deletes + after.deletes == [open_id]
    assert after.adds == {} and after.changes == {}


@pytest.mark.parametrize("version", VERSIONS)
def test_note_add_change_delete(easd, user, version):
    a, b = devices(easd, user, version)
    fid = a.folder("Notes")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    data = [E("Notes:Subject", "Shopping"), body("Milk\nBread\nÄpfel"), E("Notes:MessageClass", "IPM.StickyNote"),
            E("Notes:Categories", E("Notes:Category", "Home"), E("Notes:Category", "Weekend"))]
    sid = a.add(fid, data)
    got = b.pull(fid, BODY_TEXT)
    assert list(got.adds) == [sid] and missing(sent_tree(data), got.adds[sid]) == []
    assert got.adds[sid].get("Notes.LastModifiedDate")
    changed = [E("Notes:Subject", "Shopping (Sat)"), body("Milk\nBread"), E("Notes:MessageClass", "IPM.StickyNote"),
               E("Notes:Categories", E("Notes:Category", "Home"))]
    a.change(fid, sid, changed)
    got = b.pull(fid, BODY_TEXT)
    assert list(got.changes) == [sid] and missing(sent_tree(changed), got.changes[sid]) == []
    a.delete(fid, sid)
    assert b.pull(fid, BODY_TEXT).deletes == [sid]


# ----- FilterType, GetItemEstimate, Fetch, MoveItems, Ping ------------------------------

def test_calendar_filter_keeps_running_series_and_drops_old_events(easd, user):
    a, b = devices(easd, user, "14.1")
    fid = a.folder("Calendar")
    a.prime(fid)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)

    def event(subject, start, recurrence=None):
        data = [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", subject), E("Calendar:StartTime", utc(start)),
                E("Calendar:EndTime", utc(start + timedelta(hours=1)))]
        if recurrence:
            data.append(E("Calendar:Recurrence", *recurrence))
        return data

    old = a.add(fid, event("A month ago", now - timedelta(days=31)), "c1")
    soon = a.add(fid, event("Tomorrow", now + timedelta(days=1)), "c2")
    series = a.add(fid, event("Weekly since two months", now - timedelta(days=60),
                              [E("Calendar:Type", "0"), E("Calendar:Interval", "7")]), "c3")
    ended = a.add(fid, event("Weekly, ended a month ago", now - timedelta(days=90),
                             [E("Calendar:Type", "0"), E("Calendar:Interval", "7"), E("Calendar:Occurrences", "5")]), "c4")
    two_weeks = [E("AirSync:FilterType", "4")]
    got = b.prime(fid, two_weeks)
    assert set(got.adds) == {soon, series}
    assert old not in got.adds and ended not in got.adds
    # Without a filter, all four.
    c = devices(easd, user, "14.1", 3)[2]
    assert set(c.prime(fid).adds) == {old, soon, series, ended}


def test_get_item_estimate_fetch_and_versions(easd, user):
    a, b = devices(easd, user, "14.0")
    fid = a.folder("Contacts")
    a.prime(fid)
    ids = [a.add(fid, [E("Contacts:FirstName", f"N{i}"), E("Contacts:LastName", "Estimate")], f"c{i}") for i in range(7)]
    b.sync(fid, key="0")
    est = b.post("GetItemEstimate", E("ItemEstimate:GetItemEstimate", E("ItemEstimate:Collections", E("ItemEstimate:Collection",
        E("AirSync:SyncKey", b.keys[fid]), E("ItemEstimate:CollectionId", fid)))))
    assert est.first("ItemEstimate.Status").text == "1"
    assert est.first("ItemEstimate.Estimate").text == "7"
    assert set(b.pull(fid).adds) == set(ids)


def test_move_event_between_calendars(easd, user):
    a, b = devices(easd, user, "16.1")
    cal = a.folder("Calendar")
    extra = a.client.create_folder("Team calendar", "0", 13)
    extra_id = extra if isinstance(extra, str) else extra.id
    folders = b.folders()
    assert folders["Team calendar"] == (extra_id, "13")
    a.prime(cal)
    data = [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", "Offsite"), E("Calendar:StartTime", "20270610T070000Z"),
            E("Calendar:EndTime", "20270610T150000Z"), body("Bring boots.")]
    sid = a.add(cal, data)
    b.prime(cal, BODY_TEXT)
    b.prime(extra_id, BODY_TEXT)
    moved = a.post("MoveItems", E("Move:MoveItems", E("Move:Move", E("Move:SrcMsgId", sid), E("Move:SrcFldId", cal),
                                                        E("Move:DstFldId", extra_id))))
    assert moved.first("Move.Status").text == "3"
    new_id = moved.first("Move.DstMsgId").text
    assert b.pull(cal, BODY_TEXT).deletes == [sid]
    got = b.pull(extra_id, BODY_TEXT)
    assert list(got.adds) == [new_id] and missing(sent_tree(data), got.adds[new_id]) == []


def test_ping_on_the_calendar_wakes_for_another_devices_event(easd, user):
    a, b = devices(easd, user, "14.1")
    cal = a.folder("Calendar")
    assert b.folder("Calendar") == cal  # Ping needs the device's FolderSync first (Status 7)
    a.prime(cal)
    b.prime(cal)
    answer: dict = {}

    def ping():
        answer["tree"] = b.post("Ping", E("Ping:Ping", E("Ping:HeartbeatInterval", "300"), E("Ping:Folders",
            E("Ping:Folder", E("Ping:Id", cal), E("Ping:Class", "Calendar")))), timeout=330)

    t = threading.Thread(target=ping)
    t.start()
    a.add(cal, [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", "Ping me"), E("Calendar:StartTime", "20270101T100000Z"),
                E("Calendar:EndTime", "20270101T110000Z")])
    t.join(timeout=330)
    assert not t.is_alive()
    tree = answer["tree"]
    assert tree.first("Ping.Status").text == "2"
    assert [f.text for f in tree.all("Ping.Folder")] == [cal]
    assert len(b.pull(cal).adds) == 1


# ----- Changes of events --------------------------------------------------------------

def weekly_series(subject: str, start: datetime, count: int = 6) -> list:
    return [
        E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", subject), body("Series notes"),
        E("Calendar:Categories", E("Calendar:Category", "Team")),
        E("Calendar:StartTime", utc(start)), E("Calendar:EndTime", utc(start + timedelta(minutes=30))),
        E("Calendar:Reminder", "10"),
        E("Calendar:Recurrence", E("Calendar:Type", "1"), E("Calendar:Interval", "1"), E("Calendar:DayOfWeek", "8"),
          E("Calendar:Occurrences", str(count))),
    ]


def test_16_1_deletes_and_changes_one_occurrence_by_instance_id(easd, user):
    """MS-ASAIRS 2.2.2.25 InstanceId in Delete and Change (16.x): one occurrence, not the series."""
    a, b = devices(easd, user, "16.1")
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    start = datetime(2027, 2, 3, 8, 0, tzinfo=timezone.utc)  # Wednesdays, 09:00 Berlin
    sid = a.add(fid, weekly_series("Weekly sync", start))
    assert list(b.pull(fid, BODY_TEXT).adds) == [sid]

    third = start + timedelta(weeks=2)
    c = a.sync(fid, [E("AirSync:Delete", E("AirSync:ServerId", sid), E("AirSyncBase:InstanceId", utc(third)))], get_changes=False)
    assert c.status == "1" and c.response_status(sid) in (None, "1")
    got = b.pull(fid, BODY_TEXT)
    assert got.deletes == [] and list(got.changes) == [sid]
    exceptions = got.changes[sid].all("Calendar.Exception")
    assert [(x.get("AirSyncBase.InstanceId"), x.get("Calendar.Deleted")) for x in exceptions] == [(utc(third), "1")]

    fourth = start + timedelta(weeks=3)
    c = a.sync(fid, [E("AirSync:Change", E("AirSync:ServerId", sid), E("AirSyncBase:InstanceId", utc(fourth)),
                       E("AirSync:ApplicationData", E("Calendar:Subject", "Weekly sync (moved)"),
                         E("Calendar:StartTime", utc(fourth + timedelta(hours=3))),
                         E("Calendar:EndTime", utc(fourth + timedelta(hours=3, minutes=30)))))], get_changes=False)
    assert c.status == "1" and c.response_status(sid) in (None, "1")
    got = b.pull(fid, BODY_TEXT).changes[sid]
    # The series itself is as it was.
    assert got.get("Calendar.Subject") == "Weekly sync" and got.get("Calendar.StartTime") == utc(start)
    assert got.child("Calendar.Recurrence") is not None
    moved = [x for x in got.all("Calendar.Exception") if x.get("AirSyncBase.InstanceId") == utc(fourth)]
    assert len(moved) == 1 and moved[0].get("Calendar.Subject") == "Weekly sync (moved)"
    assert moved[0].get("Calendar.StartTime") == utc(fourth + timedelta(hours=3))


def test_16_1_partial_change_of_an_event(easd, user):
    a, b = devices(easd, user, "16.1")
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    data = every_event_field("16.1", "Partial")
    sid = a.add(fid, data)
    b.pull(fid, BODY_TEXT)
    a.change(fid, sid, [E("Calendar:Subject", "Partial, renamed"), E("Calendar:Reminder", "5")])
    got = b.pull(fid, BODY_TEXT).changes[sid]
    assert got.get("Calendar.Subject") == "Partial, renamed" and got.get("Calendar.Reminder") == "5"
    rest = [d for d in data if sent_tree([d]).children[0].name not in ("Calendar.Subject", "Calendar.Reminder")]
    assert missing(sent_tree(rest), got) == []


def test_14_1_event_change_with_supported_keeps_ghosted_attendees(easd, user):
    """MS-ASCMD 2.2.3.179 Supported for the Calendar class."""
    writer, old = devices(easd, user, "14.1")
    fid = writer.folder("Calendar")
    writer.prime(fid)
    old.sync(fid, supported=[E("Calendar:Subject"), E("Calendar:StartTime"), E("Calendar:EndTime"), E("Calendar:Location"),
                             E("Calendar:Reminder")], key="0")
    old.pull(fid)
    data = every_event_field("14.1", "Ghosts")
    sid = writer.add(fid, data)
    old.pull(fid)
    start = datetime(2027, 3, 4, 15, 30, tzinfo=timezone.utc)
    old.change(fid, sid, [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", "Ghosts, later"),
                          E("Calendar:StartTime", utc(start)), E("Calendar:EndTime", utc(start + timedelta(hours=1)))])
    writer.keys.pop(fid)
    got = writer.prime(fid, BODY_TEXT).adds[sid]
    assert got.get("Calendar.Subject") == "Ghosts, later" and got.get("Calendar.StartTime") == utc(start)
    # Supported, left out of the Change: gone. Not in Supported: kept as they were.
    assert got.child("Calendar.Location") is None and got.child("Calendar.Reminder") is None
    kept = [d for d in data if sent_tree([d]).children[0].name in (
        "Calendar.Attendees", "Calendar.Categories", "AirSyncBase.Body", "Calendar.Sensitivity", "Calendar.BusyStatus",
        "Calendar.UID", "Calendar.OrganizerEmail")]
    assert missing(sent_tree(kept), got) == []


# ----- More of each class ------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_recurring_task_round_trips(easd, user, version):
    a, b = devices(easd, user, version)
    fid = a.folder("Tasks")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    data = task_fields("Water the plants") + [
        E("Tasks:Recurrence", E("Tasks:Type", "1"), E("Tasks:Start", "2027-04-01T00:00:00.000Z"), E("Tasks:Interval", "2"),
          E("Tasks:DayOfWeek", "34"), E("Tasks:Occurrences", "12"), E("Tasks:Regenerate", "0"), E("Tasks:DeadOccur", "0")),
    ]
    sid = a.add(fid, data)
    got = b.pull(fid, BODY_TEXT)
    assert list(got.adds) == [sid] and missing(sent_tree(data), got.adds[sid]) == []


@pytest.mark.parametrize("cls", ["Calendar", "Tasks", "Notes"])
def test_item_operations_fetch_of_each_class(easd, user, cls):
    (a,) = devices(easd, user, "14.1", 1)
    fid = a.folder(cls)
    a.prime(fid)
    data = {
        "Calendar": every_event_field("14.1", "Fetch me"),
        "Tasks": task_fields("Fetch me"),
        "Notes": [E("Notes:Subject", "Fetch me"), body("Note text"), E("Notes:MessageClass", "IPM.StickyNote")],
    }[cls]
    sid = a.add(fid, data)
    fetched = a.post("ItemOperations", E("ItemOperations:ItemOperations", E("ItemOperations:Fetch",
        E("ItemOperations:Store", "Mailbox"), E("AirSync:CollectionId", fid), E("AirSync:ServerId", sid),
        E("ItemOperations:Options", *BODY_TEXT))))
    op = fetched.first("ItemOperations.Fetch")
    assert op.get("ItemOperations.Status") == "1" and op.get("AirSync.ServerId") == sid
    assert missing(sent_tree(data), op.first("ItemOperations.Properties")) == []


def test_estimate_counts_what_the_filtered_sync_brings(easd, user):
    a, b = devices(easd, user, "14.1")
    fid = a.folder("Tasks")
    a.prime(fid)
    for i in range(3):
        a.add(fid, task_fields(f"open {i}"), f"o{i}")
    for i in range(2):
        a.add(fid, task_fields(f"done {i}", complete=True), f"d{i}")
    incomplete = [E("AirSync:FilterType", "8")]

    def estimate(device, options):
        est = device.post("GetItemEstimate", E("ItemEstimate:GetItemEstimate", E("ItemEstimate:Collections", E(
            "ItemEstimate:Collection", E("AirSync:SyncKey", device.keys[fid]), E("ItemEstimate:CollectionId", fid),
            E("AirSync:Options", *options)))))
        assert est.first("ItemEstimate.Status").text == "1"
        return int(est.first("ItemEstimate.Estimate").text)

    b.sync(fid, key="0", options=incomplete)
    assert estimate(b, incomplete) == 3
    assert len(b.pull(fid, incomplete).adds) == 3
    c = devices(easd, user, "14.1", 3)[2]
    c.sync(fid, key="0")
    assert estimate(c, [E("AirSync:FilterType", "0")]) == 5


def test_16_1_empty_element_clears_a_contact_field(easd, user):
    """16.x Change is partial; a property sent empty is removed (MS-ASCMD 2.2.3.24.2)."""
    a, b = devices(easd, user, "16.1")
    fid = a.folder("Contacts")
    a.prime(fid)
    b.prime(fid)
    sid = a.add(fid, [E("Contacts:FirstName", "Linus"), E("Contacts:JobTitle", "Maintainer"), E("Contacts:CompanyName", "Kernel")])
    b.pull(fid)
    a.change(fid, sid, [E("Contacts:JobTitle")])
    got = b.pull(fid).changes[sid].leaves()
    assert "Contacts.JobTitle" not in got
    assert got["Contacts.FirstName"] == "Linus" and got["Contacts.CompanyName"] == "Kernel"


@pytest.mark.parametrize("cls", ["Contacts", "Tasks", "Notes"])
def test_ping_wakes_for_contacts_tasks_and_notes(easd, user, cls):
    a, b = devices(easd, user, "16.1")
    fid = a.folder(cls)
    assert b.folder(cls) == fid
    a.prime(fid)
    b.prime(fid)
    item = {"Contacts": [E("Contacts:FirstName", "Pinged")], "Tasks": task_fields("Pinged"),
            "Notes": [E("Notes:Subject", "Pinged"), body("x")]}[cls]
    # The change is made before the Ping: it answers at once (no race, no timing).
    a.add(fid, item)
    tree = b.post("Ping", E("Ping:Ping", E("Ping:HeartbeatInterval", "300"), E("Ping:Folders",
        E("Ping:Folder", E("Ping:Id", fid), E("Ping:Class", cls)))), timeout=330)
    assert tree.first("Ping.Status").text == "2"
    assert [f.text for f in tree.all("Ping.Folder")] == [fid]


def test_calendar_sync_in_windows(easd, user):
    a, b = devices(easd, user, "14.0")
    fid = a.folder("Calendar")
    a.prime(fid)
    ids = set()
    for i in range(12):
        start = datetime(2027, 5, 1 + i, 9, 0, tzinfo=timezone.utc)
        ids.add(a.add(fid, [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", f"Day {i}"),
                            E("Calendar:StartTime", utc(start)), E("Calendar:EndTime", utc(start + timedelta(hours=1)))], f"c{i}"))
    b.sync(fid, key="0")
    seen: set = set()
    rounds = 0
    while True:
        c = b.sync(fid, window=5)
        rounds += 1
        assert len(c.adds) <= 5 and not (seen & set(c.adds))
        seen |= set(c.adds)
        if not c.more:
            break
    assert seen == ids and rounds == 3


@pytest.mark.parametrize("busy,sensitivity,reminder", [("0", "0", "0"), ("3", "1", "1440"), ("2", "3", "5")])
def test_event_codes_round_trip_including_zero(easd, user, busy, sensitivity, reminder):
    a, b = devices(easd, user, "14.1")
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid)
    data = [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", f"Codes {busy}"), E("Calendar:StartTime", "20270707T070000Z"),
            E("Calendar:EndTime", "20270707T080000Z"), E("Calendar:BusyStatus", busy), E("Calendar:Sensitivity", sensitivity),
            E("Calendar:Reminder", reminder), E("Calendar:AllDayEvent", "0"), E("Calendar:MeetingStatus", "0")]
    sid = a.add(fid, data)
    assert missing(sent_tree(data), b.pull(fid).adds[sid]) == []


def test_exceptions_with_their_own_properties(easd, user):
    a, b = devices(easd, user, "14.1")
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    start = datetime(2027, 9, 6, 7, 0, tzinfo=timezone.utc)
    moved = start + timedelta(weeks=1)
    data = weekly_series("Rich exceptions", start, 8)[:-1] + [
        E("Calendar:Recurrence", E("Calendar:Type", "1"), E("Calendar:Interval", "1"), E("Calendar:DayOfWeek", "2"),
          E("Calendar:Occurrences", "8"), E("Calendar:FirstDayOfWeek", "1")),
        E("Calendar:Exceptions", E("Calendar:Exception",
            E("Calendar:ExceptionStartTime", utc(moved)), E("Calendar:Subject", "Offsite edition"),
            E("Calendar:StartTime", utc(moved)), E("Calendar:EndTime", utc(moved + timedelta(hours=8))),
            E("Calendar:Location", "Lake house"), body("Bring a swimsuit."), E("Calendar:Reminder", "60"),
            E("Calendar:BusyStatus", "3"), E("Calendar:Categories", E("Calendar:Category", "Fun")))),
    ]
    sid = a.add(fid, data)
    got = b.pull(fid, BODY_TEXT).adds[sid]
    assert missing(sent_tree(data), got) == []


@pytest.mark.parametrize("writer,reader", [("16.1", "14.0"), ("14.0", "16.1")])
def test_location_and_body_across_versions(easd, user, writer, reader):
    """calendar:Location text before 16.0, airsyncbase:Location from 16.0 (MS-ASCAL Location)."""
    (a,) = devices(easd, user, writer, 1)
    b = devices(easd, user, reader, 2)[1]
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    where = "Conference room \"Turing\", 2nd floor"
    location = E("AirSyncBase:Location", E("AirSyncBase:DisplayName", where)) if writer >= "16.0" else E("Calendar:Location", where)
    sid = a.add(fid, [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", "Where"), E("Calendar:StartTime", "20270808T080000Z"),
                      E("Calendar:EndTime", "20270808T090000Z"), location, body("Über alles: 🙂")])
    got = b.pull(fid, BODY_TEXT).adds[sid]
    if reader >= "16.0":
        assert got.first("AirSyncBase.Location").get("AirSyncBase.DisplayName") == where
    else:
        assert got.get("Calendar.Location") == where
    assert got.first("AirSyncBase.Body").get("AirSyncBase.Data") == "Über alles: 🙂"


def test_14_1_change_replaces_the_exceptions(easd, user):
    """Before 16.0 a Change is the whole item: the Exceptions it sends are all there are."""
    a, b = devices(easd, user, "14.1")
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid)
    start = datetime(2027, 10, 4, 7, 0, tzinfo=timezone.utc)
    series = weekly_series("Replace exceptions", start, 6)
    first_gone, second_gone = start + timedelta(weeks=1), start + timedelta(weeks=2)
    sid = a.add(fid, series + [E("Calendar:Exceptions",
        E("Calendar:Exception", E("Calendar:Deleted", "1"), E("Calendar:ExceptionStartTime", utc(first_gone))))])
    b.pull(fid)
    a.change(fid, sid, series + [E("Calendar:Exceptions",
        E("Calendar:Exception", E("Calendar:Deleted", "1"), E("Calendar:ExceptionStartTime", utc(second_gone))))])
    got = b.pull(fid).changes[sid]
    assert [x.get("Calendar.ExceptionStartTime") for x in got.all("Calendar.Exception")] == [utc(second_gone)]


@pytest.mark.parametrize("cls,folder_type,item", [
    ("Contacts", 14, [E("Contacts:FirstName", "Moved"), E("Contacts:LastName", "Contact"), E("Contacts2:NickName", "Mo")]),
    ("Tasks", 15, [E("Tasks:Subject", "Moved task"), E("Tasks:Complete", "0"), E("Tasks:Importance", "1")]),
    ("Notes", 17, [E("Notes:Subject", "Moved note"), body("text"), E("Notes:MessageClass", "IPM.StickyNote")]),
])
def test_extra_folder_of_each_class_and_moves_into_it(easd, user, cls, folder_type, item):
    """FolderCreate of a user address book, task list and notes folder (MS-ASCMD 2.2.3.186.3
    Type 14, 15, 17); MoveItems from the default folder into it."""
    a, b = devices(easd, user, "14.1")
    home = a.folder(cls)
    extra = a.client.create_folder(f"More {cls}", home, folder_type)
    extra_id = extra if isinstance(extra, str) else extra.id
    assert b.folders()[f"More {cls}"] == (extra_id, str(folder_type))
    a.prime(home)
    a.prime(extra_id)
    sid = a.add(home, item)
    direct = a.add(extra_id, item, "c2")
    b.prime(home)
    b.prime(extra_id)
    moved = a.post("MoveItems", E("Move:MoveItems", E("Move:Move", E("Move:SrcMsgId", sid), E("Move:SrcFldId", home),
                                                        E("Move:DstFldId", extra_id))))
    assert moved.first("Move.Status").text == "3"
    new_id = moved.first("Move.DstMsgId").text
    assert b.pull(home).deletes == [sid]
    got = b.pull(extra_id)
    assert list(got.adds) == [new_id] and missing(sent_tree(item), got.adds[new_id]) == []
    assert new_id != direct


BAD_EVENTS = {
    "start time not a date": [E("Calendar:Subject", "x"), E("Calendar:StartTime", "next tuesday"), E("Calendar:EndTime", "20270101T100000Z")],
    "timezone not base64": [E("Calendar:Timezone", "%%%"), E("Calendar:Subject", "x"), E("Calendar:StartTime", "20270101T090000Z"),
                            E("Calendar:EndTime", "20270101T100000Z")],
    "timezone too short": [E("Calendar:Timezone", "AAAA"), E("Calendar:Subject", "x"), E("Calendar:StartTime", "20270101T090000Z"),
                           E("Calendar:EndTime", "20270101T100000Z")],
    "recurrence type 9": [E("Calendar:Subject", "x"), E("Calendar:StartTime", "20270101T090000Z"), E("Calendar:EndTime", "20270101T100000Z"),
                          E("Calendar:Recurrence", E("Calendar:Type", "9"), E("Calendar:Interval", "1"))],
    "busy status 42": [E("Calendar:Subject", "x"), E("Calendar:StartTime", "20270101T090000Z"), E("Calendar:EndTime", "20270101T100000Z"),
                       E("Calendar:BusyStatus", "42")],
    "year 99999": [E("Calendar:Subject", "x"), E("Calendar:StartTime", "99999101T090000Z"), E("Calendar:EndTime", "99999101T100000Z")],
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_a_bad_event_is_an_item_status_not_a_server_error(easd, user, case):
    """Never a 500 for a client's mistake: the item is refused, the collection syncs on."""
    (a,) = devices(easd, user, "14.1", 1)
    fid = a.folder("Calendar")
    a.prime(fid)
    c = a.sync(fid, [E("AirSync:Add", E("AirSync:ClientId", "bad"), E("AirSync:ApplicationData", *BAD_EVENTS[case])),
                     E("AirSync:Add", E("AirSync:ClientId", "good"), E("AirSync:ApplicationData", *every_event_field("14.1", "Good")))],
               get_changes=False)
    assert c.status == "1"
    bad = next(r for r in c.responses if r.get("AirSync.ClientId") == "bad")
    assert bad.get("AirSync.Status") not in (None, "1"), case
    good = c.added_id("good")
    (b,) = devices(easd, user, "16.1", 1)
    assert list(b.prime(fid).adds) == [good]


BAD_ITEMS = {
    "contact birthday": ("Contacts", [E("Contacts:FirstName", "x"), E("Contacts:Birthday", "yesterday")]),
    "contact name too long": ("Contacts", [E("Contacts:FirstName", "x" * 200_000)]),
    "task due date": ("Tasks", [E("Tasks:Subject", "x"), E("Tasks:DueDate", "soon"), E("Tasks:UtcDueDate", "soon")]),
    "task importance 7": ("Tasks", [E("Tasks:Subject", "x"), E("Tasks:Importance", "7")]),
    "task recurrence type 4": ("Tasks", [E("Tasks:Subject", "x"), E("Tasks:Recurrence", E("Tasks:Type", "4"), E("Tasks:Start", "2027-01-01T00:00:00.000Z"))]),
    "note body type 9": ("Notes", [E("Notes:Subject", "x"), E("AirSyncBase:Body", E("AirSyncBase:Type", "9"), E("AirSyncBase:Data", "x"))]),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
def test_a_bad_contact_task_or_note_is_refused_or_kept_as_sent(easd, user, case):
    """Never a 500 for a client's mistake: the item is refused with an item status, or
    (a value the server need not understand) kept and given back exactly as sent."""
    cls, data = BAD_ITEMS[case]
    (a,) = devices(easd, user, "14.1", 1)
    fid = a.folder(cls)
    a.prime(fid)
    r = a.post_raw("Sync", render(E("AirSync:Sync", E("AirSync:Collections", E("AirSync:Collection",
        E("AirSync:SyncKey", a.keys[fid]), E("AirSync:CollectionId", fid), E("AirSync:GetChanges", "0"),
        E("AirSync:Commands", E("AirSync:Add", E("AirSync:ClientId", "bad"), E("AirSync:ApplicationData", *data))))))))
    assert r.status_code == 200, (case, r.status_code)
    c = parse(r.content).first("AirSync.Collection")
    if c.get("AirSync.Status") == "1":
        added = c.first("AirSync.Add")
        if added.get("AirSync.Status") == "1":
            (b,) = devices(easd, user, "14.1", 2)[1:]
            got = b.prime(fid, BODY_TEXT).adds[added.get("AirSync.ServerId")]
            assert missing(sent_tree(data), got) == [], case
    else:
        # A request the server can't read at all is a collection status, still not a 500.
        assert c.get("AirSync.Status") in ("4", "6"), case


@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_an_event_added_twice_by_its_uid_is_one_event(easd, user, version):
    """MS-ASCAL 2.2.2.13 ClientUid: the server uses it to detect an event already added (a
    client that lost the answer to its Add and sends it again under a new SyncKey); before
    16.0 the client's own UID says the same."""
    a, b = devices(easd, user, version)
    fid = a.folder("Calendar")
    a.prime(fid)
    data = [E("Calendar:Timezone", ZONES_BERLIN), E("Calendar:Subject", "Once"), E("Calendar:StartTime", "20270303T090000Z"),
            E("Calendar:EndTime", "20270303T100000Z"),
            E("Calendar:ClientUid", "client-uid-4711") if version >= "16.0" else E("Calendar:UID", "device-uid-4711")]
    first = a.add(fid, data, "c1")
    again = a.add(fid, data, "c2")
    assert again == first
    assert list(b.prime(fid).adds) == [first]


@pytest.mark.parametrize("cls", ["Tasks", "Notes"])
def test_16_1_partial_change_of_a_task_or_note(easd, user, cls):
    a, b = devices(easd, user, "16.1")
    fid = a.folder(cls)
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    if cls == "Tasks":
        data, change, changed = task_fields("Partial task"), [E("Tasks:Importance", "0")], "Tasks.Importance"
    else:
        data = [E("Notes:Subject", "Partial note"), body("Keep me"), E("Notes:MessageClass", "IPM.StickyNote"),
                E("Notes:Categories", E("Notes:Category", "Keep"))]
        change, changed = [E("Notes:Subject", "Renamed note")], "Notes.Subject"
    sid = a.add(fid, data)
    b.pull(fid, BODY_TEXT)
    a.change(fid, sid, change)
    got = b.pull(fid, BODY_TEXT).changes[sid]
    assert got.get(changed) == sent_tree(change).children[0].text
    rest = [d for d in data if sent_tree([d]).children[0].name != changed]
    assert missing(sent_tree(rest), got) == []
