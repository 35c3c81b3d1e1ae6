"""Issue 7: `easd selftest`, the six-message test between two simulated devices, against
the real server; and the failure it reports when the server drops client deletes (the
test-only switch `fault_drop_client_deletes`)."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import uuid

import pytest
from conftest import EASD, server_of_its_own


def selftest(easd, user: str, password: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [EASD, "selftest", "--url", easd.eas_url, "--user", user, "--password", password, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def results(out: str) -> dict[tuple[str, str], dict]:
    doc = json.loads(out)
    return {(c["check"], c["direction"]): c for c in doc["checks"]}


def test_selftest_passes_and_cleans_up(easd):
    user = f"st{uuid.uuid4().hex[:6]}@example.com"
    easd.add_user(user, "pw")
    r = selftest(easd, user, "pw")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    for check in ("send", "delete", "move", "read"):
        for direction in ("A→B", "B→A"):
            assert any(l.startswith("PASS") and f" {check} " in l and direction in l for l in lines), r.stdout
    assert "FAIL" not in r.stdout and lines[-1] == "result: PASS"
    # Nothing of the run is left in the mailbox: no message, no folder.
    db = sqlite3.connect(easd.data / "easd.sqlite3")
    try:
        (account,) = db.execute("select id from accounts where email = ?", (user,)).fetchone()
        assert db.execute("select count(*) from items where account_id = ?", (account,)).fetchone() == (0,)
        names = [n for (n,) in db.execute("select display_name from folders where account_id = ?", (account,))]
        assert not [n for n in names if "selftest" in n], names
    finally:
        db.close()
    # Each run uses devices of its own.
    devices = json.loads(easd.cli("device", "list", "--user", user, "--json").stdout)
    ids = {d["device_id"] for d in devices}
    assert len(ids) == 2 and all(i.startswith("selftest") for i in ids), ids


def test_selftest_json(easd):
    user = f"sj{uuid.uuid4().hex[:6]}@example.com"
    easd.add_user(user, "pw")
    r = selftest(easd, user, "pw", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    checks = results(r.stdout)
    assert {k for k in checks if k[0] != "folder"} == {
        (c, d) for c in ("send", "delete", "move", "read") for d in ("A→B", "B→A")
    }
    assert all(c["result"] == "PASS" and c["detail"] == "" for c in checks.values())


def test_selftest_over_tls(easd):
    user = f"tl{uuid.uuid4().hex[:6]}@example.com"
    easd.add_user(user, "pw")
    r = subprocess.run(
        [EASD, "selftest", "--url", f"{easd.https}/Microsoft-Server-ActiveSync", "--user", user,
         "--password", "pw", "--ca", str(easd.cert), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["pass"] is True
    # Without the server's certificate the system roots refuse the self-signed one.
    r = subprocess.run(
        [EASD, "selftest", "--url", easd.https, "--user", user, "--password", "pw", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode != 0
    assert "certificate" in json.loads(r.stdout)["error"].lower()


def test_selftest_wrong_password_fails_cleanly(easd):
    r = selftest(easd, "alice@example.com", "wrong", "--json")
    assert r.returncode != 0
    doc = json.loads(r.stdout)
    assert doc["pass"] is False and "401" in doc["error"], doc


@pytest.fixture()
def faulty_easd():
    """A server of its own that acknowledges client Sync Deletes without applying them."""
    yield from server_of_its_own(
        "easd-fault-", {"carol@example.com": "carol-pw"}, "fault_drop_client_deletes = true\n", signal.SIGKILL
    )


def test_selftest_reports_dropped_deletes(faulty_easd):
    r = selftest(faulty_easd, "carol@example.com", "carol-pw", "--json")
    assert r.returncode != 0, r.stdout + r.stderr
    checks = results(r.stdout)
    a_to_b, b_to_a = checks[("delete", "A→B")], checks[("delete", "B→A")]
    assert a_to_b["result"] == "FAIL" and "B still has" in a_to_b["detail"] and "#1" in a_to_b["detail"]
    assert b_to_a["result"] == "FAIL" and "A still has" in b_to_a["detail"] and "#2" in b_to_a["detail"]
    # The fault is in deletes only: the other changes still reach the other device.
    others = [c for k, c in checks.items() if k[0] != "delete"]
    assert others and all(c["result"] == "PASS" for c in others), others
    # The text form names the failed check and its direction.
    r = selftest(faulty_easd, "carol@example.com", "carol-pw")
    assert r.returncode != 0
    assert any(l.startswith("FAIL") and "delete" in l and "A→B" in l for l in r.stdout.splitlines()), r.stdout
    assert "still in the Inbox after the clean-up" in r.stdout
