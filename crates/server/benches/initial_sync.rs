//! End-to-end initial sync of a 10,000-message Inbox in windows of 100, through the real
//! HTTP server on a loopback port. Prints the total time and the server's items per second.
//!
//! `cargo bench -p easd-server --bench initial_sync` (EASD_BENCH_MESSAGES to change the size)

use bytes::Bytes;
use easd_store::{password, ItemClass, NewItem, Store};
use easd_wbxml::tags::{airsync, folder_hierarchy as fh, provision as pv};
use easd_wbxml::{decode, encode, Element};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Instant;

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

struct Device {
    client: HttpClient,
    base: String,
    policy_key: Option<String>,
}

impl Device {
    async fn post(&self, cmd: &str, body: &Element) -> Element {
        let mut req = hyper::Request::post(format!(
            "{}?Cmd={cmd}&User=bench@example.com&DeviceId=BENCH1&DeviceType=Bench",
            self.base
        ))
        .header("MS-ASProtocolVersion", "16.1")
        .header("Content-Type", "application/vnd.ms-sync.wbxml")
        .header("Authorization", "Basic YmVuY2hAZXhhbXBsZS5jb206YmVuY2g="); // bench@example.com:bench
        if let Some(k) = &self.policy_key {
            req = req.header("X-MS-PolicyKey", k);
        }
        let req = req
            .body(Full::new(Bytes::from(encode(body))))
            .expect("request");
        let resp = self.client.request(req).await.expect("response");
        assert_eq!(resp.status(), 200);
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        decode(&bytes).expect("WBXML")
    }
}

fn find_text(e: &Element, tag: easd_wbxml::Tag) -> Option<String> {
    if e.tag == tag {
        return e.text();
    }
    e.elements().find_map(|c| find_text(c, tag))
}

fn count(e: &Element, tag: easd_wbxml::Tag) -> usize {
    usize::from(e.tag == tag) + e.elements().map(|c| count(c, tag)).sum::<usize>()
}

fn sync_request(collection: &str, key: &str, window: u32) -> Element {
    Element::new(airsync::SYNC).with(
        Element::new(airsync::COLLECTIONS).with(
            Element::new(airsync::COLLECTION)
                .with_text(airsync::SYNC_KEY, key)
                .with_text(airsync::COLLECTION_ID, collection)
                .with_text(airsync::WINDOW_SIZE, window.to_string()),
        ),
    )
}

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: \"Sender {i}\" <sender{i}@example.net>\r\nTo: bench@example.com\r\nSubject: Message number {i}\r\n\
         Message-ID: <{i}@bench>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        "Some body text of a typical short mail. ".repeat(20)
    )
    .into_bytes()
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields after the command: state is 0, utime 11, stime 12 (clock ticks of 1/100 s).
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let n: usize = std::env::var("EASD_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = easd_store::SqliteStore::open_data_dir(dir.path()).expect("store");
        let account = store.create_account("bench@example.com", &password::hash_password("bench")).expect("account");
        let inbox = store.default_folder(account.id, easd_store::folder_type::INBOX).expect("inbox").expect("inbox");
        let fill = Instant::now();
        let items: Vec<NewItem> = (0..n)
            .map(|i| {
                let raw = message(i);
                let fields = easd_engine::content::mail::fields_from_mime(&raw, 1_764_000_000 + i as i64).expect("fields");
                NewItem { folder: inbox.id, class: ItemClass::Email, content: raw, fields }
            })
            .collect();
        store.add_items(account.id, items).expect("add");
        drop(store);
        println!("filled the Inbox with {n} messages in {:.2?}", fill.elapsed());

        let config = easd_server::config::Config {
            http_listen: "127.0.0.1:0".into(),
            https_listen: String::new(),
            admin_listen: String::new(),
            access_log: "off".into(),
            ..Default::default()
        };
        let server = easd_server::Server::start(config, dir.path().to_owned()).await.expect("server");
        let base = format!("http://{}/Microsoft-Server-ActiveSync", server.bound.http.expect("http"));
        let mut device = Device { client: Client::builder(TokioExecutor::new()).build_http(), base, policy_key: None };

        let policy = |key: Option<&str>| {
            let mut p = Element::new(pv::POLICY).with_text(pv::POLICY_TYPE, "MS-EAS-Provisioning-WBXML");
            if let Some(k) = key {
                p = p.with_text(pv::POLICY_KEY, k).with_text(pv::STATUS, "1");
            }
            Element::new(pv::PROVISION).with(Element::new(pv::POLICIES).with(p))
        };
        let r = device.post("Provision", &policy(None)).await;
        let temp = find_text(&r, pv::POLICY_KEY).expect("temporary key");
        let r = device.post("Provision", &policy(Some(&temp))).await;
        device.policy_key = find_text(&r, pv::POLICY_KEY);
        let r = device.post("FolderSync", &Element::new(fh::FOLDER_SYNC).with_text(fh::SYNC_KEY, "0")).await;
        assert_eq!(find_text(&r, fh::STATUS).as_deref(), Some("1"));
        let collection = inbox.server_id.clone();

        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let r = device.post("Sync", &sync_request(&collection, "0", 100)).await;
        let mut key = find_text(&r, airsync::SYNC_KEY).expect("key");
        let mut total = 0usize;
        let mut windows = 0usize;
        let mut slowest = std::time::Duration::ZERO;
        loop {
            let t = Instant::now();
            let r = device.post("Sync", &sync_request(&collection, &key, 100)).await;
            slowest = slowest.max(t.elapsed());
            windows += 1;
            total += count(&r, airsync::ADD);
            key = find_text(&r, airsync::SYNC_KEY).expect("key");
            if count(&r, airsync::MORE_AVAILABLE) == 0 {
                break;
            }
        }
        let elapsed = started.elapsed();
        let cpu = cpu_seconds() - cpu_before;
        assert_eq!(total, n, "every message exactly once");
        println!(
            "initial sync: {total} items in {windows} windows of 100 in {elapsed:.2?} = {:.0} items/s (slowest window {slowest:.2?})",
            total as f64 / elapsed.as_secs_f64()
        );
        // Wall time depends on what else the machine runs; CPU time much less so. The client
        // runs in this process too, so this is server and client together.
        println!("cpu: {cpu:.2} s for server and client together = {:.0} items per CPU second", total as f64 / cpu.max(0.01));
        server.shutdown().await;
    });
}
