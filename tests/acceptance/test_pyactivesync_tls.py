"""Issue 3: the independent client pyactivesync reaches easd over HTTPS with the generated
certificate (REQUESTS_CA_BUNDLE), provisions and lists folders."""
from __future__ import annotations

import pyactivesync


def test_provision_and_folders_over_tls(easd, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(easd.cert))
    with pyactivesync.Client(
        f"127.0.0.1:{easd.https_port}", "alice@example.com", "alice-pw", device_id="PYTLS0001"
    ) as client:
        key = client.provision()
        assert key and key != "0"
        names = {f.name for f in client.list_folders()}
        assert {"Inbox", "Drafts", "Deleted Items", "Sent Items", "Outbox", "Calendar", "Contacts", "Tasks", "Notes"} <= names
