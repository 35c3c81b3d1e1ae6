"""Issue 8: recurring events across DST changes in four zones, with a deleted and a moved
occurrence after the change, and an all-day event seen by a device in another zone. The
TIMEZONE blobs are built here with struct (MS-ASDTYPE 2.7.6) as Outlook writes them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pim_util import BODY_TEXT, ZONES, E, missing, sent_tree, stored_content, tz_rules
from test_pim_sync import devices, user, utc  # noqa: F401 (user is a fixture)

# A Monday at 09:00 local two weeks before the zone's change (none for Kolkata), weekly on
# Mondays (MS-ASCAL DayOfWeek 2) for six weeks.
FIRST = {
    "Europe/Berlin": datetime(2026, 3, 16, 9, 0),  # CEST from 29 March
    "America/New_York": datetime(2026, 2, 23, 9, 0),  # EDT from 8 March
    "Australia/Sydney": datetime(2026, 3, 23, 9, 0),  # AEST from 5 April
    "Asia/Kolkata": datetime(2026, 3, 16, 9, 0),  # IST all year
}


def unfolded(ics: str) -> str:
    """RFC 5545 3.1: a line break followed by a space or tab continues the line."""
    return re.sub(r"\r?\n[ \t]", "", ics)


def local_stamp(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%S")


@pytest.mark.parametrize("zone", list(FIRST))
@pytest.mark.parametrize("writer,reader", [("14.1", "16.1"), ("16.1", "14.1")])
def test_weekly_series_across_dst(easd, user, zone, writer, reader):  # noqa: F811
    (a,) = devices(easd, user, writer, 1)
    b = devices(easd, user, reader, 2)[1]
    tz = ZoneInfo(zone)
    first = FIRST[zone].replace(tzinfo=tz)
    # Weeks 4 and 5 are after the change: at 09:00 local, a different UTC time.
    deleted, moved = first + timedelta(weeks=3), first + timedelta(weeks=4)
    assert zone == "Asia/Kolkata" or deleted.utcoffset() != first.utcoffset()
    occurrence = "AirSyncBase:InstanceId" if writer >= "16.0" else "Calendar:ExceptionStartTime"
    subject = f"Standup {zone} {writer}"
    data = [
        E("Calendar:Timezone", ZONES[zone]),
        E("Calendar:Subject", subject),
        E("Calendar:StartTime", utc(first)),
        E("Calendar:EndTime", utc(first + timedelta(minutes=15))),
        E("Calendar:Recurrence", E("Calendar:Type", "1"), E("Calendar:Interval", "1"), E("Calendar:DayOfWeek", "2"),
          E("Calendar:Occurrences", "6")),
        E("Calendar:Exceptions",
          E("Calendar:Exception", E("Calendar:Deleted", "1"), E(occurrence, utc(deleted))),
          E("Calendar:Exception", E(occurrence, utc(moved)), E("Calendar:StartTime", utc(moved + timedelta(hours=1))),
            E("Calendar:EndTime", utc(moved + timedelta(hours=1, minutes=15))))),
    ]
    fid = a.folder("Calendar")
    a.prime(fid)
    b.prime(fid, BODY_TEXT)
    sid = a.add(fid, data)

    got = b.pull(fid, BODY_TEXT).adds[sid]
    assert got.get("Calendar.StartTime") == utc(first)
    assert tz_rules(got.get("Calendar.Timezone")) == tz_rules(ZONES[zone])
    if reader[:2] == writer[:2]:
        assert missing(sent_tree(data), got) == []
    else:
        # The other version names the occurrences its own way (InstanceId from 16.0).
        theirs = "AirSyncBase.InstanceId" if reader >= "16.0" else "Calendar.ExceptionStartTime"
        exceptions = got.all("Calendar.Exception")
        assert [x.get(theirs) for x in exceptions] == [utc(deleted), utc(moved)]
        assert exceptions[0].get("Calendar.Deleted") == "1"
        assert exceptions[1].get("Calendar.StartTime") == utc(moved + timedelta(hours=1))

    ics = unfolded(stored_content(easd, user, subject))
    assert f"DTSTART;TZID={zone}:{local_stamp(first)}" in ics
    vevent = ics[ics.index("BEGIN:VEVENT"):]
    rrule = re.search(r"^RRULE:(.*)$", vevent, re.M).group(1)
    assert "FREQ=WEEKLY" in rrule and "COUNT=6" in rrule and "BYDAY=MO" in rrule
    # The occurrences after the change are at 09:00 local in the stored event too.
    assert re.search(rf"^EXDATE;TZID={zone}:{local_stamp(deleted)}\s*$", ics, re.M), ics
    assert re.search(rf"^RECURRENCE-ID;TZID={zone}:{local_stamp(moved)}\s*$", ics, re.M), ics
    assert f"DTSTART;TZID={zone}:{local_stamp(moved + timedelta(hours=1))}" in ics


@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_all_day_event_stays_on_its_day_in_another_zone(easd, user, version):  # noqa: F811
    berlin, new_york = devices(easd, user, version)
    fid = berlin.folder("Calendar")
    berlin.prime(fid)
    new_york.prime(fid)
    # The New York device's own event tells the server its zone.
    new_york.add(fid, [E("Calendar:Timezone", ZONES["America/New_York"]), E("Calendar:Subject", "Lunch NY"),
                       E("Calendar:StartTime", "20260701T160000Z"), E("Calendar:EndTime", "20260701T170000Z")])
    day = datetime(2026, 7, 10)
    midnight_berlin = day.replace(tzinfo=ZoneInfo("Europe/Berlin"))
    berlin.add(fid, [E("Calendar:Timezone", ZONES["Europe/Berlin"]), E("Calendar:AllDayEvent", "1"),
                     E("Calendar:Subject", "Summer holiday"), E("Calendar:StartTime", utc(midnight_berlin)),
                     E("Calendar:EndTime", utc(midnight_berlin + timedelta(days=1)))])
    assert "DTSTART;VALUE=DATE:20260710" in unfolded(stored_content(easd, user, "Summer holiday"))

    event = next(e for e in new_york.pull(fid).adds.values() if e.get("Calendar.Subject") == "Summer holiday")
    assert event.get("Calendar.AllDayEvent") == "1"
    ny = ZoneInfo("America/New_York")
    assert tz_rules(event.get("Calendar.Timezone")) == tz_rules(ZONES["America/New_York"])
    assert event.get("Calendar.StartTime") == utc(day.replace(tzinfo=ny))
    assert event.get("Calendar.EndTime") == utc((day + timedelta(days=1)).replace(tzinfo=ny))
    # The Berlin device still sees its own midnight, after a resync too.
    berlin.keys.pop(fid)
    mine = next(e for e in berlin.prime(fid).adds.values() if e.get("Calendar.Subject") == "Summer holiday")
    assert mine.get("Calendar.StartTime") == utc(midnight_berlin)
    assert datetime.strptime(mine.get("Calendar.StartTime"), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) == midnight_berlin


def blob_local(at_utc: str, blob: str) -> datetime:
    """The local time of a UTC Compact DateTime by a TIMEZONE blob's own rules (MS-ASDTYPE
    2.7.6; SYSTEMTIME day-of-week occurrence form, wDay 5 = last), independent of zoneinfo."""
    bias, std, std_bias, dst, dst_bias = tz_rules(blob)
    t = datetime.strptime(at_utc, "%Y%m%dT%H%M%SZ")

    def transition(year, rule):
        month, dow, week, hour, minute = rule
        first = datetime(year, month, 1)
        # SYSTEMTIME wDayOfWeek: 0 = Sunday; Python weekday(): 0 = Monday.
        day = first + timedelta(days=(dow - (first.weekday() + 1) % 7) % 7) + timedelta(weeks=week - 1)
        while day.month != month:
            day -= timedelta(weeks=1)
        return day.replace(hour=hour, minute=minute)

    standard = t - timedelta(minutes=bias + std_bias)
    if not dst[0]:
        return standard
    # The rules are in local time before each change.
    daylight_from = transition(t.year, dst)
    standard_from = transition(t.year, std)
    in_dst = (daylight_from <= standard < standard_from) if daylight_from < standard_from else not (
        standard_from <= standard - timedelta(minutes=dst_bias - std_bias) < daylight_from)
    return t - timedelta(minutes=bias + (dst_bias if in_dst else std_bias))


def test_multi_day_all_day_event_across_dst_in_three_zones(easd, user):  # noqa: F811
    """Three days over Berlin's spring change: every device gets local midnights, 47 hours
    apart for Berlin, whatever its zone."""
    berlin, new_york, sydney, fresh = devices(easd, user, "14.1", 4)
    fid = berlin.folder("Calendar")
    for d in (berlin, new_york, sydney, fresh):
        d.prime(fid)
    for d, zone in ((new_york, "America/New_York"), (sydney, "Australia/Sydney")):
        d.add(fid, [E("Calendar:Timezone", ZONES[zone]), E("Calendar:Subject", f"Mine {zone}"),
                    E("Calendar:StartTime", "20260301T120000Z"), E("Calendar:EndTime", "20260301T130000Z")])
    first, after = datetime(2026, 3, 28), datetime(2026, 3, 31)
    be = ZoneInfo("Europe/Berlin")
    berlin.add(fid, [E("Calendar:Timezone", ZONES["Europe/Berlin"]), E("Calendar:AllDayEvent", "1"),
                     E("Calendar:Subject", "Long weekend"), E("Calendar:StartTime", utc(first.replace(tzinfo=be))),
                     E("Calendar:EndTime", utc(after.replace(tzinfo=be)))])
    ics = unfolded(stored_content(easd, user, "Long weekend"))
    assert "DTSTART;VALUE=DATE:20260328" in ics and "DTEND;VALUE=DATE:20260331" in ics
    for d in (new_york, sydney, fresh):
        event = next(e for e in d.pull(fid).adds.values() if e.get("Calendar.Subject") == "Long weekend")
        assert event.get("Calendar.AllDayEvent") == "1"
        blob = event.get("Calendar.Timezone")
        assert blob_local(event.get("Calendar.StartTime"), blob) == first, d.device_id
        assert blob_local(event.get("Calendar.EndTime"), blob) == after, d.device_id
    assert blob_local(utc(after.replace(tzinfo=be)), ZONES["Europe/Berlin"]) == after


def test_recurring_all_day_event_and_its_exception_in_another_zone(easd, user):  # noqa: F811
    berlin, new_york = devices(easd, user, "14.1")
    fid = berlin.folder("Calendar")
    berlin.prime(fid)
    new_york.prime(fid)
    new_york.add(fid, [E("Calendar:Timezone", ZONES["America/New_York"]), E("Calendar:Subject", "Mine"),
                       E("Calendar:StartTime", "20260301T120000Z"), E("Calendar:EndTime", "20260301T130000Z")])
    be, ny = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
    day = datetime(2026, 3, 20)  # Fridays, over both zones' changes
    skipped = day + timedelta(weeks=2)
    berlin.add(fid, [E("Calendar:Timezone", ZONES["Europe/Berlin"]), E("Calendar:AllDayEvent", "1"),
                     E("Calendar:Subject", "Home office"), E("Calendar:StartTime", utc(day.replace(tzinfo=be))),
                     E("Calendar:EndTime", utc((day + timedelta(days=1)).replace(tzinfo=be))),
                     E("Calendar:Recurrence", E("Calendar:Type", "1"), E("Calendar:Interval", "1"),
                       E("Calendar:DayOfWeek", "32"), E("Calendar:Occurrences", "5")),
                     E("Calendar:Exceptions", E("Calendar:Exception", E("Calendar:Deleted", "1"),
                                                E("Calendar:ExceptionStartTime", utc(skipped.replace(tzinfo=be)))))])
    ics = unfolded(stored_content(easd, user, "Home office"))
    assert "EXDATE;VALUE=DATE:20260403" in ics, ics
    event = next(e for e in new_york.pull(fid).adds.values() if e.get("Calendar.Subject") == "Home office")
    assert event.get("Calendar.StartTime") == utc(day.replace(tzinfo=ny))
    assert [x.get("Calendar.ExceptionStartTime") for x in event.all("Calendar.Exception")] == [utc(skipped.replace(tzinfo=ny))]
