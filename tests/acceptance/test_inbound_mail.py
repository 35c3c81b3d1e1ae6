"""Issue 3: LMTP and SMTP from a real client (smtplib); nothing acknowledged is lost."""
from __future__ import annotations

import signal
import smtplib
import sqlite3
import time
from email.message import EmailMessage


def inbox_count(data, email: str) -> int:
    con = sqlite3.connect(f"file:{data / 'easd.sqlite3'}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT COUNT(*) FROM items i JOIN folders f ON f.id = i.folder_id JOIN accounts a ON a.id = i.account_id "
            "WHERE a.email = ? AND f.folder_type = 2",
            (email,),
        ).fetchone()
        return row[0]
    finally:
        con.close()


def message(subject: str, to: str = "carol@example.com") -> EmailMessage:
    m = EmailMessage()
    m["From"] = "sender@example.net"
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = f"<{subject.replace(' ', '-')}@example.net>"
    m.set_content("Hello, Grüße.\n.\n..leading dots survive\n")
    return m


def test_lmtp_and_smtp_each_deliver_exactly_once(fresh_easd):
    before = inbox_count(fresh_easd.data, "carol@example.com")
    with smtplib.LMTP("127.0.0.1", fresh_easd.lmtp_port) as lmtp:
        refused = lmtp.send_message(message("via lmtp"), to_addrs=["carol@example.com"])
        assert refused == {}
    with smtplib.SMTP("127.0.0.1", fresh_easd.smtp_port) as smtp:
        refused = smtp.send_message(message("via smtp"))
        assert refused == {}
    assert inbox_count(fresh_easd.data, "carol@example.com") == before + 2


def test_unknown_recipient_refused_per_recipient(fresh_easd):
    with smtplib.LMTP("127.0.0.1", fresh_easd.lmtp_port) as lmtp:
        refused = lmtp.send_message(
            message("mixed"), to_addrs=["carol@example.com", "nobody@example.com"]
        )
        assert list(refused) == ["nobody@example.com"]
        assert refused["nobody@example.com"][0] == 550


def test_oversized_message_refused(fresh_easd):
    fresh_easd.stop()
    fresh_easd.extra_config = "max_message_bytes = 2000\n"
    fresh_easd.start()
    before = inbox_count(fresh_easd.data, "carol@example.com")
    big = message("big")
    big.set_content("x" * 5000)
    with smtplib.SMTP("127.0.0.1", fresh_easd.smtp_port) as smtp:
        try:
            smtp.send_message(big)
            raise AssertionError("accepted an oversized message")
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as e:
            # Refused at MAIL FROM (SIZE=) or after DATA, with 552 either way.
            assert e.smtp_code == 552
    assert inbox_count(fresh_easd.data, "carol@example.com") == before


def test_kill_9_right_after_250_loses_nothing(fresh_easd):
    before = inbox_count(fresh_easd.data, "carol@example.com")
    subjects = [f"durable {i}" for i in range(20)]
    with smtplib.LMTP("127.0.0.1", fresh_easd.lmtp_port) as lmtp:
        for s in subjects:
            assert lmtp.send_message(message(s), to_addrs=["carol@example.com"]) == {}
        # The last 250 has just arrived: kill the server without any chance to flush.
        fresh_easd.stop(signal.SIGKILL)
    assert inbox_count(fresh_easd.data, "carol@example.com") == before + len(subjects)
    fresh_easd.start()
    assert inbox_count(fresh_easd.data, "carol@example.com") == before + len(subjects)


def test_easd_deliver_cli(fresh_easd):
    before = inbox_count(fresh_easd.data, "carol@example.com")
    fresh_easd.cli("deliver", "--to", "carol@example.com", "-", input=message("cli").as_string())
    assert inbox_count(fresh_easd.data, "carol@example.com") == before + 1
