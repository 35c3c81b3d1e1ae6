"""Issue 7: the operations toolkit: the admin listener (/metrics, /healthz, /readyz),
`easd probe` and `easd doctor`."""
from __future__ import annotations

import concurrent.futures as cf
import http.server
import json
import os
import sqlite3
import stat
import subprocess
import threading
import time

import pytest
import requests
from conftest import EASD, free_port
from pyactivesync import EmailChange
from test_email_sync import client, folder_id, raw_sync, sync_body
from test_ping import deliver, synced  # noqa: F401 (a fixture)


def run(easd, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [EASD, "--data", str(easd.data), *args], capture_output=True, text=True, timeout=timeout
    )


# ----- admin listener -----


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def test_health_and_readiness(easd):
    assert requests.get(f"{easd.admin}/healthz", timeout=5).status_code == 200
    r = requests.get(f"{easd.admin}/readyz", timeout=5)
    assert r.status_code == 200, r.text


def test_admin_token_created_private(easd):
    p = easd.data / "admin.token"
    assert p.exists()
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert len(p.read_text().strip()) == 64


def test_metrics_count_commands(easd):
    c = client(easd, "alice@example.com", "alice-pw", "OPSMETRICS1")
    fid = folder_id(c, "Inbox")
    c.sync_folder(fid, "0")
    requests.post(
        f"{easd.eas_url}?Cmd=FolderSync&User=alice@example.com&DeviceId=OPSBAD&DeviceType=T",
        auth=("alice@example.com", "wrong"),
        headers={"MS-ASProtocolVersion": "14.1"},
        timeout=10,
    )
    text = requests.get(f"{easd.admin}/metrics", timeout=5).text
    assert metric(text, "easd_requests_total", command="FolderSync") >= 1, text
    assert metric(text, "easd_requests_total", command="Sync", http="200") >= 1, text
    assert metric(text, "easd_request_duration_seconds_count", command="Sync") >= 1
    assert metric(text, "easd_auth_failures_total") >= 1
    assert "easd_parked_pings " in text
    assert "easd_store_query_seconds " in text
    assert "easd_http_5xx_total " in text


def test_metrics_push_latency_and_items_synced(easd, synced):
    c, inbox, key, pk, user = synced
    before = requests.get(f"{easd.admin}/metrics", timeout=5).text
    with cf.ThreadPoolExecutor(1) as ex:
        fut = ex.submit(c.ping, inbox, heartbeat=300, timeout=60)
        time.sleep(0.5)
        deliver(easd, user, "measure me")
        assert fut.result(timeout=30).status == "2"
    r = c.sync_folder(inbox, key)
    assert len(r.added) == 1
    changes = c.apply_email_changes(inbox, r.sync_key, [EmailChange(server_id=r.added[0].server_id, read=True)])
    assert set(changes.statuses.values()) <= {"1"}
    after = requests.get(f"{easd.admin}/metrics", timeout=5).text
    grew = lambda name, **labels: metric(after, name, **labels) - metric(before, name, **labels)
    assert grew("easd_push_latency_seconds_count") >= 1, after
    assert grew("easd_push_latency_seconds_bucket", le="+Inf") >= 1
    assert grew("easd_items_synced_total", **{"class": "Email", "direction": "to_device"}) >= 1, after
    assert grew("easd_items_synced_total", **{"class": "Email", "direction": "from_device"}) >= 1, after


# ----- probe -----


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(3)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture()
def slow_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/slow"
    srv.shutdown()


def test_probe_reachable_server(easd, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# the EAS endpoint and the health check\n{easd.eas_url}\n{easd.admin}/healthz\n")
    r = run(easd, "probe", str(urls), "--json", "--timeout", "5")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    assert [l["event"] for l in lines] == [1000, 1000]
    assert lines[0]["method"] == "OPTIONS" and lines[0]["status"] == 200
    assert all(isinstance(l["ms"], int) for l in lines)


def test_probe_closed_port_and_slow_endpoint(easd, tmp_path, slow_server):
    closed = f"http://127.0.0.1:{free_port()}/Microsoft-Server-ActiveSync"
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{easd.eas_url}\n{closed}\n{slow_server}\n")
    started = time.monotonic()
    r = run(easd, "probe", str(urls), "--json", "--timeout", "1")
    assert time.monotonic() - started < 10
    assert r.returncode != 0
    lines = {l["url"]: l for l in map(json.loads, r.stdout.splitlines())}
    assert lines[easd.eas_url]["event"] == 1000
    assert lines[closed]["event"] == 1001 and lines[closed]["error"]
    assert lines[slow_server]["event"] == 1001 and "timed out" in lines[slow_server]["error"]


def test_probe_syslog_lines(easd):
    # GET on the EAS endpoint answers 400 (POST only): down, as an error-level line.
    r = run(easd, "probe", "--url", f"GET {easd.eas_url}", "--syslog", "--timeout", "5")
    assert r.stdout.startswith("<"), r.stdout
    assert " easd-probe " in r.stdout and " 1001 " in r.stdout
    assert r.stdout.startswith("<11>1 ")
    assert r.returncode != 0


def test_probe_interval_reports_changes_only(easd, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/x"
    p = subprocess.Popen(
        [EASD, "probe", "--url", url, "--interval", "0.3", "--json", "--timeout", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Ok)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        time.sleep(1.5)
        srv.shutdown()
        srv.server_close()
    finally:
        p.terminate()
        out, _ = p.communicate(timeout=10)
    events = [json.loads(l)["event"] for l in out.splitlines()]
    # down, up while served, down again: one line per change, not per round
    assert events[0] == 1001 and 1000 in events, events
    assert len(events) <= 3, events


# ----- doctor -----


def test_doctor_flags_short_load_balancer_timeout(easd):
    r = run(easd, "doctor", "--proxy-timeout", "lb=900", "--json")
    assert r.returncode != 0, r.stdout + r.stderr
    findings = [json.loads(l) for l in r.stdout.splitlines()]
    lb = [f for f in findings if f["id"] == "proxy-timeout"]
    assert len(lb) == 1, findings
    assert "900" in lb[0]["message"] and "3540" in lb[0]["message"]
    assert "raise lb's idle timeout above 3600" in lb[0]["fix"]
    assert lb[0]["severity"] == "error"


def test_doctor_sane_config_is_clean(fresh_easd):
    # A server of its own: the shared one's access log holds other tests' deliberate abuse.
    easd = fresh_easd
    r = run(
        easd,
        "doctor",
        "--proxy-timeout",
        "lb=3700",
        "--url",
        easd.eas_url,
        "--user",
        "carol@example.com",
        "--password",
        "carol-pw",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no problems found" in r.stdout
    # Provision (both phases), FolderSync and the Pings ran on a throwaway device...
    lines = [l for l in easd.access_log().splitlines() if "device=easddoctor" in l]
    cmds = [l.split(" cmd=")[1].split()[0] for l in lines]
    assert cmds.count("Provision") == 2 and "FolderSync" in cmds, cmds
    pings = [l for l in lines if " cmd=Ping " in l]
    assert any(" eas=5 " in l for l in pings) and any(" eas=1 " in l for l in pings), pings
    # ... which doctor removed afterwards.
    devices = json.loads(easd.cli("device", "list", "--json").stdout)
    assert not [d for d in devices if d["device_id"].startswith("easddoctor")], devices
    # Over TLS the served certificate is checked too (the self-signed one names 127.0.0.1).
    r = run(
        easd, "doctor", "--proxy-timeout", "lb=3700", "--url", f"{easd.https}/Microsoft-Server-ActiveSync",
        "--user", "carol@example.com", "--password", "carol-pw", "--ca", str(easd.cert), "--json",
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_doctor_certificate_near_expiry_and_wrong_name(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "10", "-subj", "/CN=mail.example.com", "-addext", "subjectAltName=DNS:mail.example.com"],
        check=True, capture_output=True,
    )
    config = f'tls_cert = "{cert}"\ntls_key = "{key}"\n'
    (data / "easd.toml").write_text(config + 'public_url = "https://mail.example.com/Microsoft-Server-ActiveSync"\n')
    r = subprocess.run([EASD, "--data", str(data), "doctor", "--json"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    findings = {f["id"]: f for f in map(json.loads, r.stdout.splitlines())}
    assert set(findings) == {"tls-expiry"}, findings
    assert "expires in 9 days" in findings["tls-expiry"]["message"] or "expires in 10 days" in findings["tls-expiry"]["message"]
    assert "renew" in findings["tls-expiry"]["fix"]
    # The host phones are given is not in the certificate.
    (data / "easd.toml").write_text(config + 'public_url = "https://mx.example.org/Microsoft-Server-ActiveSync"\n')
    r = subprocess.run([EASD, "--data", str(data), "doctor", "--json"], capture_output=True, text=True, timeout=60)
    findings = {f["id"]: f for f in map(json.loads, r.stdout.splitlines())}
    assert set(findings) == {"tls-expiry", "tls-name"}, findings
    assert "mx.example.org" in findings["tls-name"]["message"] and "mx.example.org" in findings["tls-name"]["fix"]


def test_doctor_device_stuck_in_quarantine(fresh_easd):
    easd = fresh_easd
    c = client(easd, "carol@example.com", "carol-pw", "OPSQUAR1")
    c.provision()
    easd.cli("device", "quarantine", "OPSQUAR1", "--user", "carol@example.com", "--reason", "new device")
    r = run(easd, "doctor", "--json")
    assert r.returncode == 0, r.stdout  # just quarantined: the administrator has time
    db = sqlite3.connect(easd.data / "easd.sqlite3")
    try:
        db.execute("update partnerships set created_at = created_at - 2 * 86400 where device_id = 'OPSQUAR1'")
        db.commit()
    finally:
        db.close()
    r = run(easd, "doctor", "--json")
    assert r.returncode != 0
    findings = [json.loads(l) for l in r.stdout.splitlines()]
    q = [f for f in findings if f["id"] == "quarantine"]
    assert len(q) == 1, findings
    assert "OPSQUAR1" in q[0]["message"] and "48 h" in q[0]["message"] and "new device" in q[0]["message"]
    assert "easd device allow OPSQUAR1" in q[0]["fix"]


def test_doctor_sync_key_reset_loop(fresh_easd):
    easd = fresh_easd
    c = client(easd, "carol@example.com", "carol-pw", "OPSLOOP1")
    pk = c.provision()
    inbox = folder_id(c, "Inbox")
    c.sync_folder(inbox, "0")
    for _ in range(5):  # a device that keeps replaying a key the server never gave
        raw_sync(easd, "carol@example.com", "carol-pw", "OPSLOOP1", pk, sync_body(inbox, "999", 10))
    r = run(easd, "doctor", "--json")
    assert r.returncode != 0
    loops = [f for f in map(json.loads, r.stdout.splitlines()) if f["id"] == "sync-loop"]
    assert len(loops) == 1 and "OPSLOOP1" in loops[0]["message"], r.stdout
    assert "easd log enable" in loops[0]["fix"]


class FakeEas(http.server.BaseHTTPRequestHandler):
    """Answers OPTIONS like an EAS server, refuses every login, has no Autodiscover."""

    def do_OPTIONS(self):
        self.send_response(200)
        self.send_header("MS-ASProtocolVersions", "14.1,16.1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="x"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def test_doctor_autodiscover_missing_and_auth_refused(tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeEas)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/Microsoft-Server-ActiveSync"
        r = subprocess.run(
            [EASD, "--data", str(tmp_path), "doctor", "--url", url, "--user", "u@example.com", "--password", "p", "--json"],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        srv.shutdown()
    assert r.returncode != 0
    findings = {f["id"]: f for f in map(json.loads, r.stdout.splitlines())}
    assert set(findings) == {"autodiscover", "auth"}, findings
    assert "HTTP 404" in findings["autodiscover"]["message"]
    assert "/autodiscover/" in findings["autodiscover"]["fix"]


def test_doctor_wrong_password(easd):
    r = run(easd, "doctor", "--url", easd.eas_url, "--user", "alice@example.com", "--password", "nope", "--json")
    assert r.returncode != 0
    ids = [json.loads(l)["id"] for l in r.stdout.splitlines()]
    assert "auth" in ids


# ----- top -----


def test_top_draws_one_screen(fresh_easd):
    easd = fresh_easd
    c = client(easd, "carol@example.com", "carol-pw", "OPSTOP1")
    c.sync_folder(folder_id(c, "Inbox"), "0")
    r = run(easd, "top", "--iterations", "1")
    assert r.returncode == 0, r.stderr
    assert "parked Pings" in r.stdout
    assert "Sync " in r.stdout and "FolderSync" in r.stdout
    assert "slowest devices" in r.stdout and "OPSTOP1" in r.stdout
