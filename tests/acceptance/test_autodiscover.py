"""Issue 3: Autodiscover XML (mobilesync and Outlook schemas) and JSON."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import requests

MS = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
MR = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
OR = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
ENV = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"


def request_xml(schema: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{MS}"><Request>'
        f"<EMailAddress>alice@example.com</EMailAddress>"
        f"<AcceptableResponseSchema>{schema}</AcceptableResponseSchema></Request></Autodiscover>"
    )


def test_mobilesync_schema(easd):
    r = requests.post(
        f"{easd.http}/autodiscover/autodiscover.xml",
        data=request_xml(MR),
        auth=("alice@example.com", "alice-pw"),
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{ENV}}}Autodiscover"
    resp = root.find(f"{{{MR}}}Response")
    assert resp.find(f"{{{MR}}}User/{{{MR}}}EMailAddress").text == "alice@example.com"
    server = resp.find(f"{{{MR}}}Action/{{{MR}}}Settings/{{{MR}}}Server")
    assert server.find(f"{{{MR}}}Type").text == "MobileSync"
    assert server.find(f"{{{MR}}}Url").text == f"http://127.0.0.1:{easd.http_port}/Microsoft-Server-ActiveSync"


def test_outlook_schema_gets_mobilesync_url(easd):
    r = requests.post(
        f"{easd.http}/autodiscover/autodiscover.xml",
        data=request_xml(OR),
        auth=("alice@example.com", "alice-pw"),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    proto = root.find(f"{{{OR}}}Response/{{{OR}}}Account/{{{OR}}}Protocol")
    assert proto.find(f"{{{OR}}}Type").text == "MobileSync"
    assert proto.find(f"{{{OR}}}Server").text.endswith("/Microsoft-Server-ActiveSync")


def test_autodiscover_needs_credentials(easd):
    r = requests.post(f"{easd.http}/autodiscover/autodiscover.xml", data=request_xml(MR), timeout=10)
    assert r.status_code == 401


def test_json_endpoint(easd):
    r = requests.get(
        f"{easd.http}/autodiscover/autodiscover.json",
        params={"Email": "alice@example.com", "Protocol": "ActiveSync"},
        timeout=10,
    )
    assert r.status_code == 200
    assert r.json() == {"Protocol": "ActiveSync", "Url": f"http://127.0.0.1:{easd.http_port}/Microsoft-Server-ActiveSync"}
    r = requests.get(f"{easd.https}/autodiscover/autodiscover.json/v1.0/alice@example.com?Protocol=ActiveSync", verify=str(easd.cert), timeout=10)
    assert r.json()["Url"] == f"https://127.0.0.1:{easd.https_port}/Microsoft-Server-ActiveSync"
    r = requests.get(f"{easd.http}/autodiscover/autodiscover.json", params={"Protocol": "Pop3"}, timeout=10)
    assert r.status_code == 400
    assert r.json()["ErrorCode"] == "InvalidProtocol"
