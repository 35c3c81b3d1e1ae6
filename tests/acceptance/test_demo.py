"""Issue 3: `easd demo` starts on a fresh data dir, prints what to enter on a phone, and the
demo mailbox syncs with an independent client."""
from __future__ import annotations

import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pim_util  # noqa: F401  (names the Calendar code page for pyactivesync)
import pyactivesync
from conftest import EASD, free_port


def test_demo_runs_and_its_mailbox_syncs(monkeypatch):
    d = Path(tempfile.mkdtemp(prefix="easd-demo-"))
    http, https = free_port(), free_port()
    proc = subprocess.Popen(
        [EASD, "demo", "--dir", str(d / "demo"), "--http", f"127.0.0.1:{http}", "--https", f"127.0.0.1:{https}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"EASD_ADMIN_LISTEN": "", "PATH": "/usr/bin:/bin"},
    )
    try:
        out = ""
        deadline = time.time() + 60
        while "Ctrl-C stops it." not in out and time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
        assert "Ctrl-C stops it." in out, out
        password = re.search(r"Password\s*: (\S+)", out).group(1)
        assert "demo@example.com" in out and "SHA-256" in out
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(d / "demo" / "tls" / "cert.pem"))
        c = pyactivesync.Client(f"127.0.0.1:{https}", "demo@example.com", password, device_id="DEMOPHONE")
        inbox = next(f.id for f in c.list_folders() if f.name == "Inbox")
        key = c.sync_folder(inbox, "0").sync_key
        r = c.sync_folder(inbox, key)
        subjects = {i.fields.get("Email.Subject") for i in r.added}
        assert len(r.added) == 4
        assert any("Köln" in s and "東京" in s for s in subjects), subjects
        assert any(i.fields.get("AirSyncBase.FileReference") for i in r.added), "an attachment is listed"
        # The other classes have samples too: a phone shows a calendar and contacts at once.
        folders = {f.name: f.id for f in c.list_folders()}
        for name, field, want in [
            ("Calendar", "Calendar.Subject", {"Team standup", "Lunch with Renée", "Team offsite (all day)"}),
            ("Contacts", "Contacts.FileAs", {"Zoë Ångström", "Renée Dupont"}),
        ]:
            key = c.sync_folder(folders[name], "0").sync_key
            added = c.sync_folder(folders[name], key).added
            got = {i.fields.get(field) for i in added}
            assert got == want, (name, [i.fields for i in added])
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
