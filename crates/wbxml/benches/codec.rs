//! Decode and encode throughput on a ~1 MiB Sync response: 100 mails with ~10 KB
//! AirSyncBase bodies, on the AirSync, Email, AirSyncBase and Email2 pages.
//!
//! Times are the benchmark thread's CPU time, not wall-clock time: the machines this runs
//! on are shared, and CPU time does not count the time spent waiting for a core.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use easd_wbxml::tags::{airsync, airsyncbase, email, email2};
use easd_wbxml::{decode, encode, xml, Element, Limits, Writer};
use std::time::Duration;

/// A Sync response as a server sends it after an initial sync of an Inbox.
pub fn sync_response(mails: usize, body_bytes: usize) -> Element {
    let paragraph = "Dear team, the quarterly numbers are in — revenue is up 4 % and the \
                     Zürich office reports record attendance. Details follow below.\r\n";
    let mut body = String::with_capacity(body_bytes + paragraph.len());
    while body.len() < body_bytes {
        body.push_str(paragraph);
    }
    let mut commands = Element::new(airsync::COMMANDS);
    for i in 0..mails {
        let data = Element::new(airsync::APPLICATION_DATA)
            .with_text(email::TO, "\"Device User\" <deviceuser@example.com>")
            .with_text(
                email::FROM,
                format!("\"Sender {i}\" <sender{i}@example.com>"),
            )
            .with_text(email::SUBJECT, format!("Quarterly report #{i}"))
            .with_text(email::DATE_RECEIVED, "2024-05-02T18:12:01.000Z")
            .with_text(email::DISPLAY_TO, "Device User")
            .with_text(email::THREAD_TOPIC, format!("Quarterly report #{i}"))
            .with_text(email::IMPORTANCE, "1")
            .with_text(email::READ, if i % 3 == 0 { "1" } else { "0" })
            .with(
                Element::new(airsyncbase::BODY)
                    .with_text(airsyncbase::TYPE, "1")
                    .with_text(airsyncbase::ESTIMATED_DATA_SIZE, body.len().to_string())
                    .with_text(airsyncbase::DATA, body.clone()),
            )
            .with_text(email::MESSAGE_CLASS, "IPM.Note")
            .with_text(email::INTERNET_CPID, "65001")
            .with(Element::new(email::FLAG))
            .with_text(email::CONTENT_CLASS, "urn:content-classes:message")
            .with_text(airsyncbase::NATIVE_BODY_TYPE, "1")
            .with(Element::opaque_element(
                email2::CONVERSATION_ID,
                (0..16u8)
                    .map(|b| b.wrapping_mul(i as u8))
                    .collect::<Vec<u8>>(),
            ))
            .with(Element::opaque_element(
                email2::CONVERSATION_INDEX,
                vec![0x01, 0xCA, 0x7F, 0x3E, 0x55],
            ))
            .with_text(email2::RECEIVED_AS_BCC, "0");
        commands.push(
            Element::new(airsync::ADD)
                .with_text(airsync::SERVER_ID, format!("5:{i}"))
                .with(data),
        );
    }
    Element::new(airsync::SYNC).with(
        Element::new(airsync::COLLECTIONS).with(
            Element::new(airsync::COLLECTION)
                .with_text(airsync::SYNC_KEY, "944137012")
                .with_text(airsync::COLLECTION_ID, "5")
                .with_text(airsync::STATUS, "1")
                .with(commands)
                .with(Element::new(airsync::MORE_AVAILABLE)),
        ),
    )
}

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID).
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

/// Values are nanoseconds; throughput is shown in MiB/s or GiB/s.
struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let per_iter = match *t {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => n as f64,
            Throughput::Elements(n) => n as f64,
        };
        let per_sec = |ns: f64| per_iter * 1e9 / ns;
        let (factor, unit) = if per_sec(typical) >= 1024.0 * 1024.0 * 1024.0 {
            (1.0 / (1024.0 * 1024.0 * 1024.0), "GiB/s (CPU time)")
        } else {
            (1.0 / (1024.0 * 1024.0), "MiB/s (CPU time)")
        };
        values.iter_mut().for_each(|v| *v = per_sec(*v) * factor);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn bench(c: &mut Criterion<CpuTime>) {
    let tree = sync_response(100, 10 * 1024);
    let bytes = encode(&tree);
    assert_eq!(decode(&bytes).expect("benchmark document decodes"), tree);

    let mut g = c.benchmark_group("sync-response-1MiB");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("decode", |b| b.iter(|| decode(black_box(&bytes))));
    g.bench_function("encode", |b| b.iter(|| encode(black_box(&tree))));
    g.bench_function("writer-to-io", |b| {
        b.iter(|| {
            let mut w = Writer::new(std::io::sink());
            w.element(black_box(&tree)).expect("write");
            w.finish().expect("finish")
        })
    });
    g.bench_function("to_xml", |b| b.iter(|| xml::to_xml(black_box(&tree))));
    g.bench_function("transcode", |b| {
        b.iter(|| {
            xml::transcode(black_box(&bytes), &Limits::default(), std::io::sink())
                .expect("transcode")
        })
    });
    let text = xml::to_xml(&tree);
    g.bench_function("from_xml", |b| b.iter(|| xml::from_xml(black_box(&text))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench
}
criterion_main!(benches);
