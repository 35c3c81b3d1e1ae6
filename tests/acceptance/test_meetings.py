"""Issue 8 point 4: a meeting between two local users against the real server.

Alice's device adds an event with attendee Bob by Sync; Bob's Inbox gets the meeting request
(Email MeetingRequest) and his calendar a tentative event; Bob accepts with MeetingResponse;
Alice's next Sync of her calendar shows Bob as accepted. ResolveRecipients Availability then
shows Bob busy for the meeting. Requests and responses go through libwbxml (pyactivesync has
no Calendar or MeetingResponse code pages).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pyactivesync
import pytest
from wbxml_util import lib_decode, lib_encode

SUBJECT = "Quarterly planning"


def client(easd, user: str, password: str, device: str) -> pyactivesync.Client:
    c = pyactivesync.Client("127.0.0.1", user, password, device_id=device)
    c._transport.base_url = easd.eas_url
    return c


def post(c: pyactivesync.Client, cmd: str, xml: str) -> ET.Element:
    """One command through the client's own transport (auth, 16.1, policy key)."""
    c._ensure_provisioned()
    return lib_decode(c._transport.post(cmd, c.user, lib_encode(xml)))


def folder_id(c: pyactivesync.Client, name: str) -> str:
    return next(f.id for f in c.list_folders() if f.name == name)


def sync(c: pyactivesync.Client, fid: str, key: str, commands: str = "") -> ET.Element:
    body = (
        f'<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{key}</SyncKey>'
        f"<CollectionId>{fid}</CollectionId>{commands}</Collection></Collections></Sync>"
    )
    root = post(c, "Sync", body)
    assert root.findtext(".//Collection/Status") == "1", ET.tostring(root)
    return root


def new_key(root: ET.Element) -> str:
    return root.findtext(".//Collection/SyncKey")


def synced(c: pyactivesync.Client, fid: str) -> tuple[str, ET.Element]:
    key = new_key(sync(c, fid, "0"))
    root = sync(c, fid, key)
    return new_key(root), root


def meeting_add() -> str:
    c = 'xmlns="Calendar:"'
    return (
        "<Commands><Add><ClientId>meeting-1</ClientId><ApplicationData>"
        f"<Subject {c}>{SUBJECT}</Subject>"
        f"<StartTime {c}>20300110T090000Z</StartTime><EndTime {c}>20300110T100000Z</EndTime>"
        f"<BusyStatus {c}>2</BusyStatus><MeetingStatus {c}>1</MeetingStatus>"
        f"<Organizer_Email {c}>alice@example.com</Organizer_Email><Organizer_Name {c}>Alice</Organizer_Name>"
        f"<Attendees {c}><Attendee><Attendee_Email>bob@example.com</Attendee_Email>"
        "<Attendee_Name>Bob</Attendee_Name><Attendee_Type>1</Attendee_Type></Attendee></Attendees>"
        "</ApplicationData></Add></Commands>"
    )


def bob_status(event: ET.Element) -> str | None:
    for a in event.iter("Attendee"):
        if a.findtext("Attendee_Email", "").lower() == "bob@example.com":
            return a.findtext("Attendee_Status")
    return None


@pytest.fixture(scope="module")
def meeting(easd):
    """Alice invites Bob by adding the event on her device; returns what the tests share."""
    alice = client(easd, "alice@example.com", "alice-pw", "ALICEMEET")
    calendar = folder_id(alice, "Calendar")
    key = new_key(sync(alice, calendar, "0"))
    root = sync(alice, calendar, key, meeting_add())
    add = root.find(".//Responses/Add")
    assert add is not None and add.findtext("Status") == "1", ET.tostring(root)
    return {"alice": alice, "calendar": calendar, "key": new_key(root), "event": add.findtext("ServerId")}


def test_invite_accept_and_the_organizer_sees_it(easd, meeting):
    bob = client(easd, "bob@example.com", "bob-pw", "BOBMEET")
    inbox = folder_id(bob, "Inbox")
    _, root = synced(bob, inbox)
    requests = [
        a for a in root.iter("Add")
        if a.findtext("ApplicationData/MessageClass") == "IPM.Schedule.Meeting.Request"
        and SUBJECT in (a.findtext("ApplicationData/Subject") or "")
    ]
    assert len(requests) == 1, ET.tostring(root)
    request = requests[0]
    mr = request.find("ApplicationData/MeetingRequest")
    assert mr is not None, ET.tostring(request)
    assert mr.findtext("StartTime") == "2030-01-10T09:00:00.000Z"
    assert mr.findtext("EndTime") == "2030-01-10T10:00:00.000Z"
    assert "alice@example.com" in mr.findtext("Organizer")
    assert mr.findtext("GlobalObjId")
    assert mr.findtext("InstanceType") == "0"
    assert mr.findtext("MeetingMessageType") == "1"

    # Bob's calendar: the meeting, tentative and not yet answered (MS-ASCAL).
    calendar = folder_id(bob, "Calendar")
    _, root = synced(bob, calendar)
    events = [a for a in root.iter("Add") if a.findtext("ApplicationData/Subject") == SUBJECT]
    assert len(events) == 1, ET.tostring(root)
    data = events[0].find("ApplicationData")
    assert data.findtext("MeetingStatus") == "3"
    assert data.findtext("ResponseType") == "5"
    assert data.findtext("BusyStatus") == "1"
    assert bob_status(data) == "5"

    # Bob accepts; 16.1 with SendResponse: the server answers the organizer.
    answer = post(bob, "MeetingResponse",
        '<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1</UserResponse>'
        f'<CollectionId>{inbox}</CollectionId><RequestId>{request.findtext("ServerId")}</RequestId>'
        "<SendResponse/></Request></MeetingResponse>")
    result = answer.find("Result")
    assert result.findtext("Status") == "1", ET.tostring(answer)
    assert result.findtext("RequestId") == request.findtext("ServerId")
    assert result.findtext("CalendarId") == events[0].findtext("ServerId")

    # Alice's device sees Bob accepted (AttendeeStatus 3).
    alice = meeting["alice"]
    root = sync(alice, meeting["calendar"], meeting["key"])
    changes = [c for c in root.iter("Change") if c.findtext("ServerId") == meeting["event"]]
    assert len(changes) == 1, ET.tostring(root)
    assert bob_status(changes[0].find("ApplicationData")) == "3"

    # An unknown request is Status 2, not an HTTP error.
    answer = post(bob, "MeetingResponse",
        '<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>2</UserResponse>'
        f"<CollectionId>{inbox}</CollectionId><RequestId>{inbox}:999999</RequestId></Request></MeetingResponse>")
    assert answer.findtext("Result/Status") == "2"


def test_availability_shows_the_accepted_meeting(easd, meeting):
    # Runs after the accept above (module order): Bob is busy 09:00-10:00.
    alice = meeting["alice"]
    root = post(alice, "ResolveRecipients",
        '<ResolveRecipients xmlns="ResolveRecipients:"><To>bob@example.com</To><To>nobody@example.net</To>'
        "<Options><Availability><StartTime>2030-01-10T08:00:00.000Z</StartTime>"
        "<EndTime>2030-01-10T12:00:00.000Z</EndTime></Availability></Options></ResolveRecipients>")
    assert root.findtext("Status") == "1", ET.tostring(root)
    responses = root.findall("Response")
    bob = next(r for r in responses if r.findtext("To") == "bob@example.com")
    assert bob.findtext("Recipient/Availability/Status") == "1"
    # Eight half hours; the organizer's own view of her meeting doesn't matter here.
    assert bob.findtext("Recipient/Availability/MergedFreeBusy") == "00220000"
    # Alice organizes the meeting: her time is busy too.
    root = post(alice, "ResolveRecipients",
        '<ResolveRecipients xmlns="ResolveRecipients:"><To>alice@example.com</To>'
        "<Options><Availability><StartTime>2030-01-10T09:00:00.000Z</StartTime>"
        "<EndTime>2030-01-10T10:00:00.000Z</EndTime></Availability></Options></ResolveRecipients>")
    assert root.findtext("Response/Recipient/Availability/MergedFreeBusy") == "22"
    nobody = next(r for r in responses if r.findtext("To") == "nobody@example.net")
    assert nobody.find("Recipient") is None
