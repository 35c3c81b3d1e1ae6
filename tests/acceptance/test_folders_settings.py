"""FolderCreate/FolderUpdate/FolderDelete, Settings, ResolveRecipients and ValidateCert with
independent clients: pyactivesync for what it speaks, libwbxml (`xml2wbxml`/`wbxml2xml`)
for the elements pyactivesync's code pages lack (UserInformation, ValidateCert, ...)."""
from __future__ import annotations

import base64
import sqlite3
import ssl
import threading
import time
from pathlib import Path

import pyactivesync
import pytest
from pyactivesync import OofState, StatusError
from pyactivesync._wbxml import WBXMLReader, WBXMLWriter, find, find_all, text_of, wtag
from wbxml_util import DOCTYPE, lib_decode, lib_encode  # noqa: F401

# Spec folder types (MS-ASCMD 2.2.3.186.3). pyactivesync's FolderType enum is shifted by one
# from 12 on (its USER_GENERIC is 12, the spec's "user-created mail folder"), so raw numbers.
USER_CREATED_MAIL = 12
INBOX = 2


def client(easd, user: str, password: str, device: str) -> pyactivesync.Client:
    c = pyactivesync.Client("127.0.0.1", user, password, device_id=device)
    c._transport.base_url = easd.eas_url
    return c


def post(c: pyactivesync.Client, cmd: str, body: bytes) -> bytes:
    """One command through the client's own transport (auth, headers, policy key)."""
    c._ensure_provisioned()
    return c._transport.post(cmd, c.user, body)


# ----- FolderHierarchy requests with pyactivesync's writer ---------------------------------


def fh(name: str, *children) -> bytes:
    w = WBXMLWriter()
    w.tag("FolderHierarchy", name, children=list(children))
    return w.render()


def t(tag: str, text: str):
    return wtag("FolderHierarchy", tag, text=text)


def folder_sync(c, key: str) -> dict:
    nodes = WBXMLReader(post(c, "FolderSync", fh("FolderSync", t("SyncKey", key)))).parse()
    out = {"status": text_of(find(nodes, "FolderHierarchy.Status")), "key": text_of(find(nodes, "FolderHierarchy.SyncKey"))}
    for kind in ("Add", "Update", "Delete"):
        out[kind] = {
            text_of(find(ch, "FolderHierarchy.ServerId")): text_of(find(ch, "FolderHierarchy.DisplayName"))
            for _, _, ch in find_all(nodes, f"FolderHierarchy.{kind}")
        }
    return out


def answer(c, cmd: str, body: bytes) -> dict:
    nodes = WBXMLReader(post(c, cmd, body)).parse()
    return {
        "status": text_of(find(nodes, "FolderHierarchy.Status")),
        "key": text_of(find(nodes, "FolderHierarchy.SyncKey")),
        "id": text_of(find(nodes, "FolderHierarchy.ServerId")),
    }


def create(c, key, parent, name, type_=USER_CREATED_MAIL) -> dict:
    return answer(c, "FolderCreate", fh("FolderCreate", t("SyncKey", key), t("ParentId", parent), t("DisplayName", name), t("Type", str(type_))))


def update(c, key, sid, parent, name) -> dict:
    return answer(c, "FolderUpdate", fh("FolderUpdate", t("SyncKey", key), t("ServerId", sid), t("ParentId", parent), t("DisplayName", name)))


def delete(c, key, sid) -> dict:
    return answer(c, "FolderDelete", fh("FolderDelete", t("SyncKey", key), t("ServerId", sid)))


# ----- folders -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hana(easd):
    easd.add_user("hana@example.com", "hana-pw")
    return "hana@example.com", "hana-pw"


def test_create_rename_delete_reach_the_other_device_and_are_not_echoed(easd, hana):
    a = client(easd, *hana, "HANADESK")
    b = client(easd, *hana, "HANAPHONE")
    kb = folder_sync(b, "0")["key"]
    ka = folder_sync(a, "0")["key"]

    made = create(a, ka, "0", "Projects")
    assert made["status"] == "1" and made["id"] and made["key"] != ka
    sub = create(a, made["key"], made["id"], "2026")
    assert sub["status"] == "1"
    # The device's own changes do not come back to it with the key it was given.
    echo = folder_sync(a, sub["key"])
    assert echo["status"] == "1" and not (echo["Add"] or echo["Update"] or echo["Delete"])
    seen = folder_sync(b, kb)
    assert seen["Add"] == {made["id"]: "Projects", sub["id"]: "2026"}
    kb = seen["key"]

    renamed = update(a, sub["key"], made["id"], "0", "Projects (old)")
    assert renamed["status"] == "1"
    echo = folder_sync(a, renamed["key"])
    assert not (echo["Add"] or echo["Update"] or echo["Delete"])
    seen = folder_sync(b, kb)
    assert seen["Update"] == {made["id"]: "Projects (old)"}
    kb = seen["key"]

    gone = delete(a, renamed["key"], made["id"])
    assert gone["status"] == "1"
    # The answer was lost; the same request again gets the same answer (not Status 4).
    assert delete(a, renamed["key"], made["id"]) == gone
    echo = folder_sync(a, gone["key"])
    assert not (echo["Add"] or echo["Update"] or echo["Delete"])
    seen = folder_sync(b, kb)
    assert set(seen["Delete"]) == {made["id"], sub["id"]}


def test_pyactivesync_folder_calls_seen_by_list_folders(easd, hana):
    a = client(easd, *hana, "HANATABLET")
    b = client(easd, *hana, "HANAWATCH")
    f = a.create_folder("Receipts")
    assert {(x.id, x.name) for x in b.list_folders()} >= {(f.id, "Receipts")}
    a.update_folder(f.id, "Receipts 2025")
    assert (f.id, "Receipts 2025") in {(x.id, x.name) for x in b.list_folders()}
    a.delete_folder(f.id)
    assert f.id not in {x.id for x in b.list_folders()}


def test_folder_command_statuses(easd, hana):
    c = client(easd, *hana, "HANASTATUS")
    inbox = next(f.id for f in c.list_folders() if f.name == "Inbox")
    cases = [
        (lambda: c.create_folder("Inbox"), "FolderCreate", "2"),  # name exists under the root
        (lambda: c.create_folder("x", parent_id="424242"), "FolderCreate", "5"),  # no such parent
        (lambda: c.update_folder(inbox, "Post"), "FolderUpdate", "2"),  # special folder (2.2.3.177.6)
        (lambda: c.update_folder("424242", "x"), "FolderUpdate", "4"),  # no such folder
        (lambda: c.delete_folder(inbox), "FolderDelete", "3"),  # special system folder
        (lambda: c.delete_folder("424242"), "FolderDelete", "4"),
    ]
    for call, command, code in cases:
        with pytest.raises(StatusError) as e:
            call()
        assert (e.value.command, e.value.code) == (command, code)
    assert "Inbox" in {f.name for f in c.list_folders()}

    key = folder_sync(c, "0")["key"]
    assert create(c, "4711", "0", "x")["status"] == "9"  # a key the device never had
    assert create(c, "0", "0", "x")["status"] == "9"
    assert create(c, key, "0", "x", type_=INBOX)["status"] == "10"  # a default folder type
    assert delete(c, "4711", inbox)["status"] == "9"
    # Malformed: no ServerId. A status, never an HTTP error.
    assert answer(c, "FolderDelete", fh("FolderDelete", t("SyncKey", key)))["status"] == "10"
    assert answer(c, "FolderCreate", fh("FolderCreate", t("SyncKey", key)))["status"] == "10"


def test_hierarchy_change_wakes_a_parked_ping_of_another_device(easd, hana):
    watcher = client(easd, *hana, "HANAPING")
    changer = client(easd, *hana, "HANACHANGE")
    inbox = next(f.id for f in watcher.list_folders() if f.name == "Inbox")
    changer.list_folders()
    # Let the server's change poller (250 ms) see the provisioning writes above first: it
    # wakes Pings for them too, which is not what this test is about.
    time.sleep(1.0)
    result = {}

    def park():
        result["r"] = watcher.ping(inbox, heartbeat=120, timeout=60)
        result["at"] = time.monotonic()

    th = threading.Thread(target=park)
    th.start()
    time.sleep(1.0)
    assert "r" not in result, f"the Ping did not park: {result}"
    changed_at = time.monotonic()
    f = changer.create_folder("Woken")
    th.join(30)
    assert not th.is_alive()
    assert result["r"].status == "7"  # FolderSync required (MS-ASCMD 2.2.3.177.11)
    assert result["at"] >= changed_at
    changer.delete_folder(f.id)


# ----- Settings ----------------------------------------------------------------------------


def test_oof_set_then_get(easd):
    alice = client(easd, "alice@example.com", "alice-pw", "ALICEOOF")
    alice.set_oof(OofState.ENABLED, reply_message="Away until Monday.", body_type="Text")
    got = alice.get_oof()
    assert got.state == OofState.ENABLED
    by_scope = {m.applies_to: m for m in got.messages}
    assert set(by_scope) == {"Internal", "ExternalKnown", "ExternalUnknown"}
    assert all(m.enabled and m.reply_message == "Away until Monday." for m in by_scope.values())

    alice.set_oof(
        OofState.ENABLED_SCHEDULED,
        start_time="2030-06-01T00:00:00.000Z",
        end_time="2030-06-15T00:00:00.000Z",
        reply_message="<p>Back on <b>June 15</b></p>",
        body_type="HTML",
        applies_to=("Internal",),
    )
    got = alice.get_oof()  # asks for Text
    assert (got.state, got.start_time, got.end_time) == (OofState.ENABLED_SCHEDULED, "2030-06-01T00:00:00.000Z", "2030-06-15T00:00:00.000Z")
    internal = next(m for m in got.messages if m.applies_to == "Internal")
    assert "Back on" in internal.reply_message and "June 15" in internal.reply_message and "<" not in internal.reply_message
    assert internal.body_type.upper() == "TEXT"
    # Asked for HTML, the HTML comes back as it was set.
    root = lib_decode(post(alice, "Settings", lib_encode('<Settings xmlns="Settings:"><Oof><Get><BodyType>HTML</BodyType></Get></Oof></Settings>')))
    msgs = root.find("Oof/Get").findall("OofMessage")
    html = next(m for m in msgs if m.find("AppliesToInternal") is not None)
    assert html.findtext("ReplyMessage") == "<p>Back on <b>June 15</b></p>"

    # A time-based OOF without a window can't work: Status 5 on the Oof part.
    root = lib_decode(post(alice, "Settings", lib_encode(
        '<Settings xmlns="Settings:"><Oof><Set><OofState>2</OofState><StartTime>2030-07-02T00:00:00.000Z</StartTime>'
        '<EndTime>2030-07-01T00:00:00.000Z</EndTime></Set></Oof></Settings>')))
    assert root.findtext("Status") == "1" and root.findtext("Oof/Status") == "5"

    alice.set_oof(OofState.DISABLED)
    got = alice.get_oof()
    assert got.state == OofState.DISABLED
    assert next(m for m in got.messages if m.applies_to == "Internal").reply_message  # kept
    # Users are isolated.
    bob = client(easd, "bob@example.com", "bob-pw", "BOBOOF")
    assert bob.get_oof().state == OofState.DISABLED
    assert not any(m.reply_message for m in bob.get_oof().messages)


def partnership_row(easd, email: str, device: str) -> dict:
    con = sqlite3.connect(f"file:{easd.data / 'easd.sqlite3'}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        row = con.execute(
            "SELECT p.* FROM partnerships p JOIN accounts a ON a.id = p.account_id WHERE a.email = ? AND p.device_id = ?",
            (email, device),
        ).fetchone()
        return dict(row)
    finally:
        con.close()


def test_device_information_user_information_password_rights_management(easd):
    c = client(easd, "alice@example.com", "alice-pw", "ALICEINFO")
    w = WBXMLWriter()
    w.tag("Settings", "Settings", children=[wtag("Settings", "DeviceInformation", children=[wtag("Settings", "Set", children=[
        wtag("Settings", "Model", text="Pixel 9"),
        wtag("Settings", "FriendlyName", text="Alice's phone"),
        wtag("Settings", "OS", text="Android 15"),
        wtag("Settings", "OSLanguage", text="de-DE"),
        wtag("Settings", "PhoneNumber", text="+49 151 0000000"),
    ])])])
    nodes = WBXMLReader(post(c, "Settings", w.render())).parse()
    assert [text_of(s) for s in find_all(nodes, "Settings.Status")] == ["1", "1"]
    row = partnership_row(easd, "alice@example.com", "ALICEINFO")
    assert (row["model"], row["friendly_name"], row["os"], row["os_language"], row["phone_number"]) == (
        "Pixel 9", "Alice's phone", "Android 15", "de-DE", "+49 151 0000000")

    # UserInformation (16.1: Accounts form), DevicePassword, RightsManagementInformation.
    # libwbxml's names: SmtpAddress, and (sic) ihsManagementInformation.
    root = lib_decode(post(c, "Settings", lib_encode(
        '<Settings xmlns="Settings:"><DevicePassword><Set><Password>recovery-4711</Password></Set></DevicePassword>'
        '<UserInformation><Get/></UserInformation><ihsManagementInformation><Get/></ihsManagementInformation></Settings>')))
    assert root.findtext("Status") == "1"
    assert root.findtext("DevicePassword/Status") == "1"
    ui = root.find("UserInformation")
    assert ui.findtext("Status") == "1"
    account = ui.find("Get/Accounts/Account")
    assert account.findtext("UserDisplayName")
    assert account.findtext("EmailAddresses/PrimarySmtpAddress") == "alice@example.com"
    assert [e.text for e in account.findall("EmailAddresses/SmtpAddress")] == ["alice@example.com"]
    rm = root.find("ihsManagementInformation")
    assert rm.findtext("Status") == "1"
    assert rm.find("Get/RightsManagementTemplates") is not None
    assert len(rm.find("Get/RightsManagementTemplates")) == 0


def test_user_information_below_14_1_has_email_addresses_under_get(easd):
    c = client(easd, "alice@example.com", "alice-pw", "ALICEOLD")
    c.provision()
    import requests

    r = requests.post(
        easd.eas_url,
        params={"Cmd": "Settings", "User": "alice@example.com", "DeviceId": "ALICEOLD", "DeviceType": "Test"},
        data=lib_encode('<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>'),
        headers={"MS-ASProtocolVersion": "14.0", "Content-Type": "application/vnd.ms-sync.wbxml", "X-MS-PolicyKey": c._transport.policy_key},
        auth=("alice@example.com", "alice-pw"),
        timeout=30,
    )
    assert r.status_code == 200
    get = lib_decode(r.content).find("UserInformation/Get")
    assert [e.text for e in get.findall("EmailAddresses/SmtpAddress")] == ["alice@example.com"]
    assert get.find("Accounts") is None and get.find("EmailAddresses/PrimarySmtpAddress") is None


def test_malformed_settings_is_a_status(easd):
    c = client(easd, "alice@example.com", "alice-pw", "ALICEBAD")
    root = lib_decode(post(c, "Settings", lib_encode('<Settings xmlns="Settings:"><Oof><Get/></Oof></Settings>')))
    assert root.findtext("Status") == "2"


# ----- ResolveRecipients -------------------------------------------------------------------


def test_resolve_recipients_finds_bob(easd):
    alice = client(easd, "alice@example.com", "alice-pw", "ALICERESOLVE")
    for query in ("bob@example.com", "BOB@example.com", "bob", "Bob <bob@example.com>"):
        found = alice.resolve_recipients(query)
        assert [(r.type, r.email_address) for r in found] == [("1", "bob@example.com")], query
        assert found[0].display_name
    assert alice.resolve_recipients("nobody@example.net") == []

    root = lib_decode(post(alice, "ResolveRecipients", lib_encode(
        '<ResolveRecipients xmlns="ResolveRecipients:"><To>example.com</To><To>bob@example.com</To><To>zzz-nobody</To>'
        '<Options><CertificateRetrieval>2</CertificateRetrieval><MaxAmbiguousRecipients>1</MaxAmbiguousRecipients>'
        '<Availability><StartTime>2030-05-03T16:00:00.000Z</StartTime><EndTime>2030-05-03T20:00:00.000Z</EndTime></Availability>'
        '</Options></ResolveRecipients>')))
    assert root.findtext("Status") == "1"
    ambiguous, bob, nobody = root.findall("Response")
    # Ambiguous, and only MaxAmbiguousRecipients of the matches listed: Status 3.
    assert ambiguous.findtext("Status") == "3" and len(ambiguous.findall("Recipient")) == 1
    assert int(ambiguous.findtext("RecipientCount")) >= 2
    assert ambiguous.find("Recipient/Availability") is None
    assert bob.findtext("Status") == "1"
    assert bob.findtext("Recipient/EmailAddress") == "bob@example.com"
    assert bob.findtext("Recipient/Availability/Status") == "1"
    assert bob.findtext("Recipient/Availability/MergedFreeBusy") == "0" * 8  # 4 hours, free
    assert bob.findtext("Recipient/Certificates/Status") == "7"  # no valid S/MIME certificate
    assert nobody.findtext("Status") == "4" and nobody.find("Recipient") is None

    # An invalid window: Status 5 for the command.
    root = lib_decode(post(alice, "ResolveRecipients", lib_encode(
        '<ResolveRecipients xmlns="ResolveRecipients:"><To>bob</To><Options><Availability>'
        '<StartTime>2030-05-03T16:00:00.000Z</StartTime><EndTime>2030-05-03T16:10:00.000Z</EndTime>'
        '</Availability></Options></ResolveRecipients>')))
    assert root.findtext("Status") == "5"


# ----- ValidateCert ------------------------------------------------------------------------


def test_validate_cert_never_vouches_without_trust_anchors(easd):
    c = client(easd, "alice@example.com", "alice-pw", "ALICECERT")
    der = ssl.PEM_cert_to_DER_cert(Path(easd.cert).read_text())
    root = lib_decode(post(c, "ValidateCert", lib_encode(
        '<ValidateCert xmlns="ValidateCert:"><Certificates>'
        f'<Certificate>{base64.b64encode(der).decode()}</Certificate>'
        '<Certificate>bm90IGEgY2VydGlmaWNhdGU=</Certificate>'
        '</Certificates><CheckCRL>1</CheckCRL></ValidateCert>')))
    assert root.findtext("Status") == "1"
    # 4: issued by an untrusted source (easd trusts no issuer); 10: not a certificate.
    assert [e.findtext("Status") for e in root.findall("Certificate")] == ["4", "10"]
    root = lib_decode(post(c, "ValidateCert", lib_encode('<ValidateCert xmlns="ValidateCert:"><CheckCRL>1</CheckCRL></ValidateCert>')))
    assert root.findtext("Status") == "2"
