"""Issue 6: device management: access rules, quarantine, remote wipe, removal, device list."""
from __future__ import annotations

import json
import re
import socketserver
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pyactivesync
import pytest
import requests
from conftest import server_of_its_own
from pyactivesync import EmailChange
from pyactivesync._wbxml import find, text_of
from test_email_sync import client, deliver_many, folder_id
from wbxml_util import WBXMLReader, WBXMLWriter, folder_sync, wtag

# Provision code page tokens (MS-ASWBXML 2.1.2.1.15), for reading policies with
# pyactivesync's reader, which names the tokens it doesn't know "Provision.0xNN".
TOKENS = {"DevicePasswordEnabled": 0x0E, "MinDevicePasswordLength": 0x14, "AllowCamera": 0x1C,
          "MaxAttachmentSize": 0x17, "AccountOnlyRemoteWipe": 0x3B}


def tok(name: str) -> str:
    return f"Provision.0x{TOKENS[name]:02X}"


def dev(prefix: str = "DEV") -> str:
    return prefix + uuid.uuid4().hex[:10].upper()


def new_user(easd) -> str:
    user = f"d{uuid.uuid4().hex[:8]}@example.com"
    easd.add_user(user, "pw")
    return user


def raw(easd, cmd, user, pw, device, body=b"", policy_key="0", version="16.1", device_type="Test",
        timeout=30):
    return requests.post(
        f"{easd.eas_url}?Cmd={cmd}&User={user}&DeviceId={device}&DeviceType={device_type}",
        data=body,
        headers={"MS-ASProtocolVersion": version, "Content-Type": "application/vnd.ms-sync.wbxml",
                 "X-MS-PolicyKey": policy_key},
        auth=(user, pw),
        timeout=timeout,
    )


def status_of(resp, path: str) -> str:
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return text_of(find(WBXMLReader(resp.content).parse(), path))


def provision_body(ack_key: str | None = None, wipe_status: str | None = None, ack_status: str = "1",
                   account_only: bool = False) -> bytes:
    w = WBXMLWriter()
    if wipe_status is not None:
        w.tag("Provision", "Provision", children=[
            wtag("Provision", "RemoteWipe", children=[wtag("Provision", "Status", text=wipe_status)])])
        body = w.render()
        if account_only:
            # pyactivesync's writer has no AccountOnlyRemoteWipe (16.1, token 0x3B): the
            # same body with RemoteWipe's token (0x0C, with content 0x4C) swapped for it.
            at = body.index(bytes([0x45, 0x4C])) + 1
            body = body[:at] + bytes([0x40 | 0x3B]) + body[at + 1:]
        return body
    policy = [wtag("Provision", "PolicyType", text="MS-EAS-Provisioning-WBXML")]
    if ack_key:
        policy += [wtag("Provision", "PolicyKey", text=ack_key), wtag("Provision", "Status", text=ack_status)]
    w.tag("Provision", "Provision", children=[wtag("Provision", "Policies", children=[wtag("Provision", "Policy", children=policy)])])
    return w.render()


def show(easd, device, user=None) -> dict:
    args = ["device", "show", device, "--json"] + (["--user", user] if user else [])
    return json.loads(easd.cli(*args).stdout)


def test_allowed_by_default(easd):
    user = new_user(easd)
    d = dev()
    c = client(easd, user, "pw", d)
    c.provision()
    assert folder_id(c, "Inbox")
    info = show(easd, d)
    assert info["access_state"] == "allowed"
    assert info["access_reason"].startswith("default")


def test_blocked_by_rule(easd):
    user = new_user(easd)
    d = dev()
    dtype = "Blk" + uuid.uuid4().hex[:6]
    out = easd.cli("rule", "add", "--device-type", dtype, "--access", "block").stdout
    rule_id = out.split()[2].rstrip(":")
    try:
        r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), device_type=dtype)
        assert status_of(r, "FolderHierarchy.Status") == "129"
        # Below 14.0 the refusal is HTTP 403 (MS-ASHTTP 3.2.5.1).
        r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), version="12.1", device_type=dtype)
        assert r.status_code == 403
        info = show(easd, d)
        assert info["access_state"] == "blocked" and f"rule {rule_id}" in info["access_reason"]
    finally:
        easd.cli("rule", "remove", rule_id)
    # The rule removed, the device is allowed at its next request.
    r = raw(easd, "Provision", user, "pw", d, provision_body(), device_type=dtype)
    assert status_of(r, "Provision.Status") == "1"


def test_blocked_for_one_user(easd):
    alice, bob = new_user(easd), new_user(easd)
    d = dev()
    easd.cli("device", "block", d, "--user", bob, "--reason", "lost phone")
    r = raw(easd, "FolderSync", bob, "pw", d, folder_sync())
    assert status_of(r, "FolderHierarchy.Status") == "129"
    c = client(easd, alice, "pw", d)
    c.provision()
    assert folder_id(c, "Inbox")
    assert show(easd, d, bob)["access_state"] == "blocked"
    assert show(easd, d, alice)["access_state"] == "allowed"


def test_quarantine_inbox_only_then_approval(easd):
    user = new_user(easd)
    mail = deliver_many(easd, user, 3, "before approval")
    d = dev()
    c = client(easd, user, "pw", d)
    easd.cli("device", "quarantine", d, "--user", user)  # no partnership yet: the user lists only
    # Quarantine by rule on this device's model is simplest through the admin state: first
    # contact creates the partnership, then the admin quarantines it.
    pk = c.provision()
    easd.cli("device", "quarantine", d, "--user", user, "--reason", "new device")
    inbox = folder_id(c, "Inbox")
    contacts = folder_id(c, "Contacts")
    # The Inbox syncs, and holds only the notice (not the user's mail).
    key = c.sync_folder(inbox, "0").sync_key
    r = c.sync_folder(inbox, key)
    assert len(r.added) == 1
    assert "Your device is waiting for approval" in str(r.added[0].fields)
    assert not any(m in str(r.added[0].fields) for m in mail)
    key = r.sync_key
    # Other collections and commands are refused.
    w = WBXMLWriter()
    w.tag("AirSync", "Sync", children=[wtag("AirSync", "Collections", children=[wtag("AirSync", "Collection", children=[
        wtag("AirSync", "SyncKey", text="0"), wtag("AirSync", "CollectionId", text=contacts)])])])
    resp = raw(easd, "Sync", user, "pw", d, w.render(), policy_key=str(pk), device_type="pyactivesync")
    assert status_of(resp, "AirSync.Status") == "129"
    # Approval: everything at once, the Inbox's mail too.
    easd.cli("device", "allow", d, "--user", user, "--reason", "approved")
    assert c.sync_folder(contacts, "0").sync_key != "0"
    r = c.sync_folder(inbox, key)
    assert sorted(str(a.fields.get("Email.Subject")) for a in r.added) == sorted(mail)
    info = show(easd, d)
    assert info["access_state"] == "allowed" and info["access_reason"] == "admin: approved"


def own_server(extra_config: str):
    return server_of_its_own("easd-dev-", {"boss@example.com": "boss-pw", "uma@example.com": "uma-pw"}, extra_config)


@pytest.fixture()
def own_easd():
    """A server of its own with admin_email and a small mailbox-log body limit."""
    yield from own_server('admin_email = "boss@example.com"\ndevice_log_max_body = 400\n')


class SmtpSink(socketserver.StreamRequestHandler):
    """The smallest SMTP server a relay can talk to: takes every message."""

    def handle(self):
        self.wfile.write(b"220 sink\r\n")
        envelope = {"rcpt": [], "data": b""}
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif verb == b"RCPT":
                envelope["rcpt"].append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    envelope["data"] += chunk
                self.server.messages.append(envelope)
                self.wfile.write(b"250 taken\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture()
def smarthost():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSink)
    server.daemon_threads = True
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_quarantine_notice_to_a_remote_admin_through_the_smarthost(smarthost):
    port = smarthost.server_address[1]
    gen = own_server(f'admin_email = "ops@elsewhere.example"\nsmarthost = "127.0.0.1:{port}"\n')
    easd = next(gen)
    try:
        d = dev()
        c = client(easd, "uma@example.com", "uma-pw", d)
        c.provision()
        easd.cli("device", "quarantine", d)
        folder_id(c, "Inbox")
        deadline = time.time() + 30
        while not smarthost.messages and time.time() < deadline:
            time.sleep(0.05)
        assert len(smarthost.messages) == 1
        m = smarthost.messages[0]
        assert m["rcpt"] == ["ops@elsewhere.example"]
        assert d.encode() in m["data"] and b"uma@example.com" in m["data"]
    finally:
        next(gen, None)


def inbox_subjects(easd, user, pw) -> list[str]:
    c = client(easd, user, pw, dev())
    c.provision()
    inbox = folder_id(c, "Inbox")
    key = c.sync_folder(inbox, "0").sync_key
    return [str(a.fields.get("Email.Subject")) for a in c.sync_folder(inbox, key).added]


def test_quarantine_notice_once_and_admin_told(own_easd):
    easd = own_easd
    dtype = "Qt" + uuid.uuid4().hex[:6]
    out = easd.cli("rule", "add", "--device-type", dtype, "--prefix", "--access", "quarantine").stdout
    rule_id = out.split()[2].rstrip(":")
    d = dev()
    for _ in range(2):
        r = raw(easd, "FolderSync", "uma@example.com", "uma-pw", d, folder_sync(), device_type=dtype + "x")
        assert r.status_code == 200
    info = show(easd, d)
    assert info["access_state"] == "quarantined" and f"rule {rule_id}" in info["access_reason"]
    # The notice once in the user's Inbox; the admin (a local account here) told once.
    assert inbox_subjects(easd, "uma@example.com", "uma-pw") == ["Your device is waiting for approval"]
    told = inbox_subjects(easd, "boss@example.com", "boss-pw")
    assert len(told) == 1 and d in told[0] and "uma@example.com" in told[0]
    assert "device quarantined" in (easd.data / "server.log").read_text()


def test_mailbox_log_bodies_cut_to_the_configured_size(own_easd):
    easd = own_easd
    deliver_many(easd, "uma@example.com", 5, "long enough to be cut")
    d = dev("LOG")
    easd.cli("log", "enable", "--device", d, "--hours", "1")
    c = client(easd, "uma@example.com", "uma-pw", d)
    c.provision()
    inbox = folder_id(c, "Inbox")
    key = c.sync_folder(inbox, "0").sync_key
    c.sync_folder(inbox, key)
    out = Path(tempfile.mkdtemp()) / "log.jsonl"
    easd.cli("log", "export", d, str(out))
    entries = [json.loads(x) for x in out.read_text().splitlines()]
    syncs = [e for e in entries if e["command"] == "Sync" and "<Add" in e["response_xml"]]
    assert syncs, "the Sync with the five messages was logged"
    for e in entries:
        for body in (e["request_xml"], e["response_xml"]):
            assert len(body.encode()) <= 400 + len("\n<!-- cut -->")
    assert syncs[0]["response_xml"].endswith("<!-- cut -->")
    # Neither the Authorization header nor the password is stored.
    text = out.read_text()
    assert "uma-pw" not in text and "authorization" not in text.lower()
    assert "basic " not in text.lower()


def test_remote_wipe_acknowledged(easd):
    user = new_user(easd)
    d = dev()
    c = client(easd, user, "pw", d)
    pk = str(c.provision())
    assert folder_id(c, "Inbox")
    easd.cli("device", "wipe", d)
    # Any command: re-provision (MS-ASPROV 3.2.5.1.2.2) ...
    r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=pk, device_type="pyactivesync")
    assert status_of(r, "FolderHierarchy.Status") == "142"
    r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=pk, version="12.1", device_type="pyactivesync")
    assert r.status_code == 449
    # ... Provision carries the RemoteWipe directive ...
    r = raw(easd, "Provision", user, "pw", d, provision_body(), device_type="pyactivesync")
    nodes = WBXMLReader(r.content).parse()
    assert find(nodes, "Provision.RemoteWipe") is not None
    assert show(easd, d)["wipe_state"] == "pending_full"
    # ... and the acknowledgement is recorded with its time.
    r = raw(easd, "Provision", user, "pw", d, provision_body(wipe_status="1"), device_type="pyactivesync")
    assert status_of(r, "Provision.Status") == "1"
    info = show(easd, d)
    assert info["wipe_state"] == "wiped" and info["wipe_acked_at"]
    # Afterwards the device is refused.
    r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=pk, device_type="pyactivesync")
    assert status_of(r, "FolderHierarchy.Status") == "129"


def test_removed_partnership_starts_clean(easd):
    user = new_user(easd)
    d = dev()
    c = client(easd, user, "pw", d)
    c.provision()
    inbox = folder_id(c, "Inbox")
    c.sync_folder(inbox, "0")
    easd.cli("device", "remove", d)
    out = json.loads(easd.cli("device", "list", "--user", user, "--json").stdout)
    assert out == []
    c2 = client(easd, user, "pw", d)
    c2.provision()
    assert folder_id(c2, "Inbox") == inbox


def test_device_list_json_shows_last_sync(easd):
    user = new_user(easd)
    d = dev()
    c = client(easd, user, "pw", d)
    c.provision()
    folder_id(c, "Inbox")
    out = json.loads(easd.cli("device", "list", "--user", user, "--json").stdout)
    assert [x["device_id"] for x in out] == [d]
    assert out[0]["user"] == user
    assert out[0]["last_sync_attempt_time"] and out[0]["last_success_sync_time"]
    assert out[0]["device_type"] == "pyactivesync"
    table = easd.cli("device", "list").stdout
    assert d in table


def test_mailbox_log_shows_xml_without_credentials(easd, tmp_path):
    user = new_user(easd)
    d = dev("LOG")
    easd.cli("log", "enable", "--device", d, "--hours", "1")
    c = client(easd, user, "pw", d)
    c.provision()
    inbox = folder_id(c, "Inbox")
    c.sync_folder(inbox, "0")
    out = easd.cli("log", "show", d).stdout
    assert "<FolderSync" in out and "<Sync" in out and "<Provision" in out
    assert "authorization" not in out.lower()
    easd.cli("log", "export", d, str(tmp_path / "log.jsonl"))
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert {x["command"] for x in lines} >= {"Provision", "FolderSync", "Sync"}
    assert all("duration_ms" in x["meta"] and x["meta"]["status"] == 200 for x in lines)
    easd.cli("log", "disable", "--device", d)
    n = len(lines)
    folder_id(c, "Inbox")
    easd.cli("log", "export", d, str(tmp_path / "log2.jsonl"))
    assert len((tmp_path / "log2.jsonl").read_text().splitlines()) == n


def provision_raw(easd, user, pw, d, version="16.1", ack_status="1"):
    """The two-step handshake with raw requests: (final key, the policy's settings)."""
    r = raw(easd, "Provision", user, pw, d, provision_body(), version=version)
    nodes = WBXMLReader(r.content).parse()
    assert text_of(find(nodes, "Provision.Status")) == "1"
    temp = text_of(find(nodes, "Provision.PolicyKey"))
    doc = find(nodes, "Provision.EASProvisionDoc")
    settings = {name: text_of((name, None, children)) for name, _, children in doc[2]}
    r = raw(easd, "Provision", user, pw, d, provision_body(ack_key=temp, ack_status=ack_status), version=version)
    nodes = WBXMLReader(r.content).parse()
    return nodes, settings


def final_key(nodes) -> str:
    assert text_of(find(nodes, "Provision.Status")) == "1"
    return text_of(find(nodes, "Provision.PolicyKey"))


def test_policy_change_makes_devices_reprovision(easd):
    user = new_user(easd)
    d = dev()
    nodes, settings = provision_raw(easd, user, "pw", d)
    # The default policy restricts nothing.
    assert settings[tok("DevicePasswordEnabled")] == "0" and settings[tok("AllowCamera")] == "1"
    key = final_key(nodes)
    assert status_of(raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=key),
                     "FolderHierarchy.Status") == "1"
    name = "strict" + uuid.uuid4().hex[:6]
    out = json.loads(easd.cli("policy", "set", name, "DevicePasswordEnabled=1", "MinDevicePasswordLength=6",
                              "AllowCamera=false", "MaxAttachmentSize=1048576", "--json").stdout)
    assert out["settings"]["MinDevicePasswordLength"] == "6" and out["revision"] == 1
    easd.cli("policy", "assign", user, name)
    # The old key gets "policy changed" (MS-ASCMD 2.2.2 Status 143), HTTP 449 below 14.0.
    r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=key)
    assert status_of(r, "FolderHierarchy.Status") == "143"
    assert raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=key, version="12.1").status_code == 449
    # Re-provisioning hands out the new policy's values and a new key that works.
    nodes, settings = provision_raw(easd, user, "pw", d)
    assert settings[tok("DevicePasswordEnabled")] == "1"
    assert settings[tok("MinDevicePasswordLength")] == "6"
    assert settings[tok("AllowCamera")] == "0"
    assert settings[tok("MaxAttachmentSize")] == "1048576"
    new_key = final_key(nodes)
    assert new_key != key
    assert status_of(raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=new_key),
                     "FolderHierarchy.Status") == "1"
    listed = {p["name"]: p for p in json.loads(easd.cli("policy", "list", "--json").stdout)}
    assert user in listed[name]["users"]
    shown = show(easd, d)
    assert shown["provisioned_policy"] == f"{name}#1" and shown["last_policy_update_time"]
    easd.cli("policy", "assign", user, "default")


def test_refresh_interval_asks_again_and_never_locks_out(easd):
    user = new_user(easd)
    name = "refresh" + uuid.uuid4().hex[:6]
    easd.cli("policy", "set", name, "DevicePolicyRefreshInterval=2")
    easd.cli("policy", "assign", user, name)
    d = dev()
    key = final_key(provision_raw(easd, user, "pw", d)[0])
    for _ in range(2):
        time.sleep(2.5)
        r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=key)
        assert status_of(r, "FolderHierarchy.Status") == "143"
        # The compliant device provisions again and goes on (on a very slow machine the
        # 2 s may run out again before its next request: it provisions once more).
        for _attempt in range(3):
            key = final_key(provision_raw(easd, user, "pw", d)[0])
            r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=key)
            if status_of(r, "FolderHierarchy.Status") != "143":
                break
        assert status_of(r, "FolderHierarchy.Status") == "1"


def test_devices_that_cannot_comply(easd):
    user = new_user(easd)
    name = "nocomply" + uuid.uuid4().hex[:6]
    easd.cli("policy", "set", name, "DevicePasswordEnabled=1")
    easd.cli("policy", "assign", user, name)
    # Allowed by default (the acknowledgement's Status 2: partial).
    nodes, _ = provision_raw(easd, user, "pw", dev(), ack_status="2")
    assert final_key(nodes)
    # Refused when the policy says so: Provision Status 139 (MS-ASPROV 3.1.5.2).
    easd.cli("policy", "set", name, "AllowNonProvisionableDevices=false")
    d = dev()
    nodes, _ = provision_raw(easd, user, "pw", d, ack_status="2")
    assert text_of(find(nodes, "Provision.Status")) == "139"
    assert find(nodes, "Provision.PolicyKey") is None
    # The same device applying all of it is admitted.
    nodes, _ = provision_raw(easd, user, "pw", d)
    assert final_key(nodes)


def test_account_only_wipe_acknowledged(easd):
    user = new_user(easd)
    d = dev()
    c = client(easd, user, "pw", d)
    pk = str(c.provision())
    easd.cli("device", "wipe", d, "--account-only")
    r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=pk, device_type="pyactivesync")
    assert status_of(r, "FolderHierarchy.Status") == "142"
    r = raw(easd, "Provision", user, "pw", d, provision_body(), device_type="pyactivesync")
    nodes = WBXMLReader(r.content).parse()
    assert find(nodes, tok("AccountOnlyRemoteWipe")) is not None
    assert find(nodes, "Provision.RemoteWipe") is None
    assert show(easd, d)["wipe_state"] == "pending_account"
    r = raw(easd, "Provision", user, "pw", d, provision_body(wipe_status="1", account_only=True),
            device_type="pyactivesync")
    assert status_of(r, "Provision.Status") == "1"
    info = show(easd, d)
    assert info["wipe_state"] == "wiped" and info["wipe_acked_at"]
    r = raw(easd, "FolderSync", user, "pw", d, folder_sync(), policy_key=pk, device_type="pyactivesync")
    assert status_of(r, "FolderHierarchy.Status") == "129"


def api(easd, method, path, body=None, token=True):
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + (easd.data / "admin.token").read_text().strip()
    return requests.request(method, easd.admin + path, json=body, headers=headers, timeout=30)


def parked(easd) -> int:
    text = requests.get(easd.admin + "/metrics", timeout=10).text
    m = re.search(r"^easd_parked_pings (\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def ping_body(inbox: str, heartbeat: int = 120) -> bytes:
    w = WBXMLWriter()
    w.tag("Ping", "Ping", children=[
        wtag("Ping", "HeartbeatInterval", text=str(heartbeat)),
        wtag("Ping", "Folders", children=[wtag("Ping", "Folder", children=[
            wtag("Ping", "Id", text=inbox), wtag("Ping", "Class", text="Email")])])])
    return w.render()


@pytest.mark.parametrize("via", ["api", "cli"])
def test_block_ends_a_parked_ping(easd, via):
    user = new_user(easd)
    d = dev()
    c = client(easd, user, "pw", d)
    pk = str(c.provision())
    inbox = folder_id(c, "Inbox")
    c.sync_folder(inbox, "0")
    before = parked(easd)
    answer = {}

    def ping():
        # The heartbeat (600 s) is far longer than the client's patience: only the block
        # ends the Ping in time.
        answer["r"] = raw(easd, "Ping", user, "pw", d, ping_body(inbox, 600), policy_key=pk,
                          device_type="pyactivesync", timeout=120)

    t = threading.Thread(target=ping)
    t.start()
    deadline = time.time() + 20
    while parked(easd) <= before and time.time() < deadline:
        time.sleep(0.05)
    assert parked(easd) > before, "the Ping parked"
    if via == "api":
        r = api(easd, "POST", f"/api/devices/{d}/block", {"reason": "lost"})
        assert r.status_code == 200, r.text
        assert r.json()[0]["access_state"] == "blocked"
    else:
        easd.cli("device", "block", d, "--reason", "lost")
    t.join(timeout=150)
    assert "r" in answer, (easd.data / "server.log").read_text()[-3000:]
    # The Ping answers with the block (MS-ASCMD 2.2.2 Status 129).
    assert status_of(answer["r"], "Ping.Status") == "129"
    assert show(easd, d)["access_reason"] == "admin: lost"


def test_admin_api(easd):
    user = new_user(easd)
    d = dev()
    c = client(easd, user, "pw", d)
    pk = str(c.provision())
    inbox = folder_id(c, "Inbox")
    assert api(easd, "GET", "/api/devices", token=False).status_code == 401
    listed = api(easd, "GET", f"/api/devices?user={user}").json()
    assert [x["device_id"] for x in listed] == [d] and listed[0]["user"] == user
    assert api(easd, "GET", f"/api/devices/{d}").json()["device_type"] == "pyactivesync"
    assert api(easd, "GET", "/api/devices/NOSUCHDEVICE").status_code == 404
    assert api(easd, "POST", f"/api/devices/{d}/frobnicate").status_code == 404
    assert api(easd, "POST", f"/api/devices/{d}/block", {"bogus": 1}).status_code == 400
    # Resync: the device's next Sync of that collection must start over (Status 3).
    key = c.sync_folder(inbox, "0").sync_key
    assert api(easd, "POST", f"/api/devices/{d}/resync", {"folder": inbox}).status_code == 200
    w = WBXMLWriter()
    w.tag("AirSync", "Sync", children=[wtag("AirSync", "Collections", children=[wtag("AirSync", "Collection", children=[
        wtag("AirSync", "SyncKey", text=key), wtag("AirSync", "CollectionId", text=inbox)])])])
    r = raw(easd, "Sync", user, "pw", d, w.render(), policy_key=pk, device_type="pyactivesync")
    assert status_of(r, "AirSync.Status") == "3"
    # Rules and the default level.
    dtype = "Api" + uuid.uuid4().hex[:6]
    rule = api(easd, "POST", "/api/rules", {"field": "device-type", "value": dtype, "access": "block"})
    assert rule.status_code == 201
    n = rule.json()["id"]
    assert any(x["id"] == n for x in api(easd, "GET", "/api/rules").json()["rules"])
    r = raw(easd, "FolderSync", user, "pw", dev(), folder_sync(), device_type=dtype)
    assert status_of(r, "FolderHierarchy.Status") == "129"
    assert api(easd, "DELETE", f"/api/rules/{n}").status_code == 200
    assert api(easd, "DELETE", f"/api/rules/{n}").status_code == 404
    assert api(easd, "PUT", "/api/rules/default", {"access": "sometimes"}).status_code == 400
    # Policies.
    name = "api" + uuid.uuid4().hex[:6]
    r = api(easd, "POST", f"/api/policies/{name}", {"settings": {"RequireDeviceEncryption": True}})
    assert r.status_code == 200 and r.json()["settings"]["RequireDeviceEncryption"] == "1"
    assert api(easd, "POST", f"/api/policies/{name}", {"settings": {"MinDevicePasswordLength": 99}}).status_code == 400
    assert api(easd, "POST", f"/api/policies/{name}/assign", {"user": user}).json()["users"] == [user]
    assert api(easd, "GET", f"/api/policies/{name}").json()["revision"] == 1
    assert api(easd, "GET", "/api/policies/nosuch").status_code == 404
    assert {p["name"] for p in api(easd, "GET", "/api/policies").json()} >= {"default", name}
    # Remove: the partnership goes.
    assert api(easd, "DELETE", f"/api/devices/{d}").status_code == 200
    assert d not in [x["device_id"] for x in api(easd, "GET", f"/api/devices?user={user}").json()]
    assert api(easd, "GET", f"/api/devices/{d}").status_code == 404


def test_device_statistics_count_exactly(easd):
    user = new_user(easd)
    deliver_many(easd, user, 3, "counted")
    d = dev()
    started = int(time.time())
    c = client(easd, user, "pw", d)
    pk = str(c.provision())
    inbox = folder_id(c, "Inbox")  # FolderSync: a sync, no items
    key = c.sync_folder(inbox, "0").sync_key  # nothing sent yet
    r = c.sync_folder(inbox, key)  # the three messages
    assert len(r.added) == 3
    ids = [a.server_id for a in r.added]
    res = c.apply_email_changes(inbox, r.sync_key, [EmailChange(server_id=ids[0], read=True),
                                                   EmailChange(server_id=ids[1], flagged=True)])
    assert set(res.statuses.values()) == {"1"}
    # A failed sync: an unknown sync key (Status 3) is the device's last error.
    w = WBXMLWriter()
    w.tag("AirSync", "Sync", children=[wtag("AirSync", "Collections", children=[wtag("AirSync", "Collection", children=[
        wtag("AirSync", "SyncKey", text="999"), wtag("AirSync", "CollectionId", text=inbox)])])])
    r = raw(easd, "Sync", user, "pw", d, w.render(), policy_key=pk, device_type="pyactivesync")
    assert status_of(r, "AirSync.Status") == "3"
    out = json.loads(easd.cli("device", "list", "--user", user, "--json").stdout)
    assert len(out) == 1
    s = out[0]
    assert s["device_id"] == d and s["user"] == user
    assert (s["items_sent"], s["items_received"]) == (3, 2)
    assert s["folders_synced"] == 1
    assert started <= s["first_sync"] <= s["last_sync"] <= s["last_sync_attempt"] <= int(time.time())
    assert s["last_success_sync_time"] and s["last_sync_attempt_time"]
    assert s["last_error"] == "Sync: Status 3" and s["last_error_time"]
    table = easd.cli("device", "list", "--user", user).stdout
    assert d in table
