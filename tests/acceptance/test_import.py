"""`easd import` of real-world .ics and .vcf samples (Apple Contacts 3.0 with a photo; Outlook
and Google calendars with VTIMEZONE, RRULE, EXDATE, a moved occurrence, an all-day event) into
a running server's data dir; a client then Syncs the Calendar and Contacts folders and sees
their properties (issue 8: "every property of an imported .ics/.vcf that EAS can carry
reaches the client"). pyactivesync provisions and lists the folders; its codec has no
Calendar or Contacts2 page, so the Syncs go through libwbxml (wbxml_util)."""
from __future__ import annotations

import base64
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from test_email_sync import client, folder_id
from wbxml_util import lib_decode, lib_encode

SAMPLES = Path(__file__).parent / "samples"
USER, PW = "importer@example.com", "importer-pw"
OUTLOOK_UID = "040000008200E00074C5B7101A82E00800000000D0B7C6D2E84BDD01000000000000000010000000"


def sync(easd, device: str, pk: str, collection: str, key: str, version: str) -> ET.Element:
    xml = f"""<Sync xmlns="AirSync:" xmlns:B="AirSyncBase:"><Collections><Collection>
<SyncKey>{key}</SyncKey><CollectionId>{collection}</CollectionId><WindowSize>100</WindowSize>
<Options><B:BodyPreference><B:Type>1</B:Type></B:BodyPreference></Options>
</Collection></Collections></Sync>""" if key != "0" else f"""<Sync xmlns="AirSync:"><Collections><Collection>
<SyncKey>0</SyncKey><CollectionId>{collection}</CollectionId></Collection></Collections></Sync>"""
    r = requests.post(
        f"{easd.eas_url}?Cmd=Sync&User={USER}&DeviceId={device}&DeviceType=Test",
        data=lib_encode(xml),
        headers={"MS-ASProtocolVersion": version, "Content-Type": "application/vnd.ms-sync.wbxml",
                 "X-MS-PolicyKey": pk},
        auth=(USER, PW),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return lib_decode(r.content) if r.content else ET.Element("Sync")


def all_items(easd, device: str, pk: str, collection: str, version: str) -> tuple[str, list[ET.Element]]:
    """An initial sync: (the last SyncKey, each Add's ApplicationData)."""
    root = sync(easd, device, pk, collection, "0", version)
    key = root.find(".//Collection/SyncKey").text
    items = []
    while True:
        root = sync(easd, device, pk, collection, key, version)
        assert root.find(".//Collection/Status").text == "1", ET.tostring(root)
        key = root.find(".//Collection/SyncKey").text
        items += [add.find("ApplicationData") for add in root.iter("Add")]
        if root.find(".//MoreAvailable") is None:
            return key, items


def own(data: ET.Element, *tags: str) -> str | None:
    """A property of the item itself (not of an exception or attendee), by the first of
    its names that is there (libwbxml names some tags after their page: Organizer_Email)."""
    for tag in tags:
        e = data.find(tag)
        if e is not None:
            return e.text
    return None


def start_of(exception: ET.Element) -> str | None:
    """ExceptionStartTime (MS-ASCAL 2.2.2.23), or InstanceId, its 16.x replacement."""
    return own(exception, "InstanceId", "Exception_StartTime", "ExceptionStartTime")


def by(items: list[ET.Element], tag: str, value: str) -> ET.Element:
    return next(i for i in items if own(i, tag) == value)


@pytest.fixture(scope="module")
def imported(easd):
    easd.add_user(USER, PW)
    files = [str(SAMPLES / n) for n in ("outlook.ics", "google.ics", "apple-contacts.vcf")]
    out = easd.cli("import", USER, *files).stdout
    assert "Calendar: 3 added, 0 updated, 0 unchanged, 0 failed" in out, out
    assert "Contacts: 2 added, 0 updated, 0 unchanged, 0 failed" in out, out
    return files


@pytest.mark.parametrize("version", ["16.1", "14.1"])
def test_imported_events_reach_the_client(easd, imported, version):
    device = f"IMPCAL{version.replace('.', '')}"
    c = client(easd, USER, PW, device)
    pk = c.provision()
    _, items = all_items(easd, device, pk, folder_id(c, "Calendar"), version)
    assert len(items) == 3

    team = by(items, "UID", OUTLOOK_UID)
    assert own(team, "Subject") == "Team sync"
    # 10:00 W. Europe Standard Time in October is 08:00 UTC; the zone is Berlin's rules.
    assert own(team, "StartTime") == "20261019T080000Z"
    assert own(team, "EndTime") == "20261019T083000Z"
    blob = base64.b64decode(own(team, "TimeZone"))
    bias, = struct.unpack_from("<i", blob, 0)
    daylight_bias, = struct.unpack_from("<i", blob, 168)
    assert (bias, daylight_bias) == (-60, -60)
    assert own(team, "Organizer_Email") == "alice@example.com"
    assert own(team, "Reminder") == "15"
    assert own(team, "BusyStatus") == "2"
    location = own(team, "Location") if version == "14.1" else team.find("Location/DisplayName").text
    assert location == "Room 4.01"
    assert "Agenda in the wiki" in team.find("Body/Data").text
    attendees = {own(a, "Attendee_Email"): a for a in team.find("Attendees")}
    assert set(attendees) == {"bob@example.com", "carol@example.com"}
    assert own(attendees["bob@example.com"], "Attendee_Name") == "Bob Example"
    assert own(attendees["bob@example.com"], "Attendee_Status") == "3"  # PARTSTAT=ACCEPTED
    assert own(attendees["carol@example.com"], "Attendee_Status") == "2"  # TENTATIVE
    assert own(attendees["carol@example.com"], "Attendee_Type") == "2"  # OPT-PARTICIPANT
    rec = team.find("Recurrence")
    # Weekly on Mondays (MS-ASCAL 2.2.2.18 DayOfWeek 2) until 21 December.
    assert own(rec, "Recurrence_Type") == "1" and own(rec, "Recurrence_DayOfWeek") == "2"
    assert own(rec, "Recurrence_Until").startswith("20261221")
    exceptions = team.find("Exceptions").findall("Exception")
    deleted = [e for e in exceptions if own(e, "Exception_Deleted") == "1"]
    moved = [e for e in exceptions if own(e, "Exception_Deleted") != "1"]
    assert [start_of(e) for e in deleted] == ["20261109T090000Z"]
    assert start_of(moved[0]) == "20261102T090000Z"
    assert own(moved[0], "StartTime") == "20261102T100000Z"
    assert own(moved[0], "Subject") == "Team sync (moved)"

    dinner = by(items, "Subject", "Christmas dinner")
    assert own(dinner, "AllDayEvent") == "1"
    assert own(dinner, "BusyStatus") == "0"  # TRANSP:TRANSPARENT is Free
    assert "Bring the cookies" in dinner.find("Body/Data").text

    club = by(items, "Subject", "Book club")
    rec = club.find("Recurrence")
    # Monthly on the first Tuesday (MS-ASCAL 2.2.2.39 Type 3, DayOfWeek 4), six times.
    assert [own(rec, f"Recurrence_{t}") for t in ("Type", "WeekOfMonth", "DayOfWeek", "Occurrences")] == [
        "3", "1", "4", "6"]
    # 18:30 New York: EDT (UTC-4) in October, EST (UTC-5) for the deleted December date.
    assert own(club, "StartTime") == "20261006T223000Z"
    exception = club.find("Exceptions/Exception")
    assert start_of(exception) == "20261201T233000Z" and own(exception, "Exception_Deleted") == "1"
    assert own(club, "Reminder") == "30"


@pytest.mark.parametrize("version", ["16.1", "14.1"])
def test_imported_contacts_reach_the_client(easd, imported, version):
    device = f"IMPCON{version.replace('.', '')}"
    c = client(easd, USER, PW, device)
    pk = c.provision()
    _, items = all_items(easd, device, pk, folder_id(c, "Contacts"), version)
    assert len(items) == 2
    johnny = by(items, "FirstName", "Johnny")
    expected = {
        "LastName": "Appleseed", "MiddleName": "Quincy", "Title": "Dr.", "Suffix": "Jr.",
        "NickName": "Johnny", "FileAs": "Dr. Johnny Quincy Appleseed Jr.",
        "CompanyName": "Example Orchards Inc.", "Department": "Engineering", "JobTitle": "Principal Engineer",
        "MobilePhoneNumber": "+1 (408) 555-0101", "BusinessPhoneNumber": "+1 (408) 555-0102",
        "HomePhoneNumber": "+1 (408) 555-0103", "BusinessFaxNumber": "+1 (408) 555-0104",
        # libwbxml's names for BusinessAddressStreet and the others.
        "BusinessStreet": "1 Orchard Way", "BusinessCity": "Cupertino", "BusinessState": "CA",
        "BusinessPostalCode": "95014", "BusinessCountry": "United States",
        "HomeStreet": "12 Blossom Lane", "HomeCity": "Palo Alto", "HomePostalCode": "94301",
        "WebPage": "https://orchards.example/johnny",
        # Apple's labelled values (itemN.X-ABRELATEDNAMES with its X-ABLabel).
        "Spouse": "Jane Appleseed", "AssistantName": "Tim Appleseed",
    }
    assert {k: own(johnny, k) for k in expected} == expected
    assert "johnny@orchards.example" in own(johnny, "Email1Address")
    assert "johnny.home@mail.example" in own(johnny, "Email2Address")
    assert own(johnny, "Birthday").startswith("1976-04-01")
    assert own(johnny, "Anniversary").startswith("2001-06-15")
    assert [e.text for e in johnny.find("Categories")] == ["Work", "VIP"]
    photo = base64.b64decode(own(johnny, "Picture"))
    assert photo.startswith(b"\xff\xd8\xff\xe0") and photo.endswith(b"\xff\xd9")
    assert "Likes apples" in johnny.find("Body/Data").text


def test_reimport_is_silent_and_a_changed_event_reaches_the_client(easd, imported, tmp_path):
    device = "IMPAGAIN"
    c = client(easd, USER, PW, device)
    pk = c.provision()
    calendar = folder_id(c, "Calendar")
    key, items = all_items(easd, device, pk, calendar, "16.1")
    assert len(items) == 3

    out = easd.cli("import", USER, *imported).stdout
    assert "Calendar: 0 added, 0 updated, 3 unchanged, 0 failed" in out, out
    root = sync(easd, device, pk, calendar, key, "16.1")
    assert root.find(".//Add") is None and root.find(".//Change") is None
    key = root.find(".//Collection/SyncKey").text if root.find(".//Collection/SyncKey") is not None else key

    changed = tmp_path / "google.ics"
    changed.write_bytes((SAMPLES / "google.ics").read_bytes().replace(b"SUMMARY:Book club", b"SUMMARY:Book club (moved)"))
    out = easd.cli("import", USER, str(changed)).stdout
    assert "Calendar: 0 added, 1 updated, 1 unchanged, 0 failed" in out, out
    root = sync(easd, device, pk, calendar, key, "16.1")
    changes = root.findall(".//Change")
    assert len(changes) == 1 and root.find(".//Add") is None
    assert own(changes[0].find("ApplicationData"), "Subject") == "Book club (moved)"


def test_export_writes_what_was_imported(easd, imported, tmp_path):
    ics = tmp_path / "calendar.ics"
    easd.cli("export", USER, "--folder", "Calendar", "--output", str(ics))
    text = ics.read_bytes().decode()
    assert text.count("BEGIN:VCALENDAR") == 1 and text.count("BEGIN:VEVENT") == 4
    assert text.count("TZID:W. Europe Standard Time\r\n") == 1
    vcf = easd.cli("export", USER, "--folder", "Contacts", "--format", "vcf").stdout
    assert vcf.count("BEGIN:VCARD") == 2 and "PHOTO;ENCODING=b;TYPE=JPEG:" in vcf


def test_a_bad_file_is_reported_and_the_rest_lands(easd, tmp_path):
    easd.add_user("badimport@example.com", "pw")
    bad = tmp_path / "bad.ics"
    bad.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:no-start\r\nSUMMARY:x\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n")
    import subprocess  # noqa: PLC0415
    from conftest import EASD  # noqa: PLC0415

    r = subprocess.run([EASD, "--data", str(easd.data), "import", "badimport@example.com", str(bad),
                        str(SAMPLES / "apple-contacts.vcf")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert f"failed: {bad}: VEVENT UID no-start:" in r.stderr, r.stderr
    assert "Contacts: 2 added" in r.stdout and "Calendar: 0 added, 0 updated, 0 unchanged, 1 failed" in r.stdout
