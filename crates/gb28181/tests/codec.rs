//! Table-driven tests against /work/shared/reference/video.md (GB/T 28181).

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use gb28181::device::{CatalogProgress, RegisterOutcome};
use gb28181::digest::{self, Credentials};
use gb28181::manscdp::{AlarmClass, Body, CatalogItem, CatalogPage, ControlCmd};
use gb28181::sip::{self, Framed, Limits, SipError};
use gb28181::{CatalogAssembler, DeviceId, Liveness, Message, Registration};

// The reference's golden vector (§1.3, recomputed with Python hashlib).
#[test]
fn digest_golden_vector() {
    let c = Credentials {
        username: "34020000001320000001".into(),
        realm: "3402000000".into(),
        nonce: "b7b9f68d8c1d4f6f90c0".into(),
        uri: "sip:34020000002000000001@3402000000".into(),
        response: "73c592989b1004347d71d1e3694428de".into(),
        qop: Some("auth".into()),
        nc: Some("00000001".into()),
        cnonce: Some("7a1b2c3d".into()),
        ..Credentials::default()
    };
    assert_eq!(
        digest::response("REGISTER", "12345678", &c).unwrap(),
        "73c592989b1004347d71d1e3694428de"
    );
    assert!(digest::verify("REGISTER", "12345678", &c));
    assert!(!digest::verify("REGISTER", "12345679", &c));
    // The header form round-trips through the parser.
    let parsed = Credentials::parse(&c.header_value()).unwrap();
    assert!(digest::verify("REGISTER", "12345678", &parsed));
}

#[test]
fn authorization_header_forms() {
    let sipp = r#"Digest username="52018100431322000001",realm="5201810043",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="abc",response="0123",algorithm=MD5"#;
    let c = Credentials::parse(sipp).unwrap();
    assert_eq!(c.uri, "sip:127.0.0.1:5060");
    assert_eq!(c.qop.as_deref(), Some("auth"));
    // RFC 2069 form (no qop): MD5(HA1:nonce:HA2).
    let mut old = c.clone();
    old.qop = None;
    old.response = digest::response("REGISTER", "pw", &old).unwrap();
    assert!(digest::verify("REGISTER", "pw", &old));
    for (bad, why) in [
        ("Basic abc", "scheme"),
        (
            r#"Digest realm="r", nonce="n", uri="u", response="x""#,
            "username",
        ),
        (
            r#"Digest username="u", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-256"#,
            "algorithm",
        ),
    ] {
        assert!(Credentials::parse(bad).is_err(), "{why}");
    }
    let ch = digest::parse_challenge(
        &gb28181::Challenge {
            realm: "5201810043".into(),
            nonce: "n1".into(),
            qop_auth: true,
        }
        .header_value(),
    )
    .unwrap();
    assert_eq!(
        (ch.realm.as_str(), ch.nonce.as_str(), ch.qop_auth),
        ("5201810043", "n1", true)
    );
}

const REGISTER: &str = "REGISTER sip:52018100432002000001@5201810043 SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:15071;rport;branch=z9hG4bK-1\r\n\
f: <sip:52018100431322000001@5201810043>;tag=1r1\r\n\
t: <sip:52018100431322000001@5201810043>\r\n\
i: 1-abc@127.0.0.1\r\n\
CSeq: 1 REGISTER\r\n\
m: <sip:52018100431322000001@127.0.0.1:15071>\r\n\
X-Vendor-Thing: whatever\r\n\
expires: 3600\r\n\
l: 0\r\n\r\n";

#[test]
fn sip_request_compact_forms_and_unknown_headers() {
    let m = sip::parse_datagram(REGISTER.as_bytes(), Limits::default()).unwrap();
    assert_eq!(m.method(), Some("REGISTER"));
    assert_eq!(m.call_id().unwrap(), "1-abc@127.0.0.1");
    assert_eq!(m.cseq().unwrap(), (1, "REGISTER"));
    assert_eq!(m.expires().unwrap(), Some(3600));
    assert_eq!(m.from_user().unwrap(), "52018100431322000001");
    assert_eq!(m.header("CALL-ID"), Some("1-abc@127.0.0.1"));
    assert_eq!(m.header("x-vendor-thing"), Some("whatever"));
    let r = Message::response_to(&m, 200, "OK", "t1");
    let text = String::from_utf8(r.to_bytes()).unwrap();
    assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
    assert!(text.contains("To: <sip:52018100431322000001@5201810043>;tag=t1\r\n"));
    assert!(text.contains("Call-ID: 1-abc@127.0.0.1\r\n"));
    assert!(text.ends_with("Content-Length: 0\r\n\r\n"));
    let back = sip::parse_datagram(&r.to_bytes(), Limits::default()).unwrap();
    assert_eq!(back.status(), Some(200));
}

type ErrCheck = fn(&SipError) -> bool;

#[test]
fn sip_malformed_and_oversized_are_typed_errors() {
    let lim = Limits {
        max_message: 600,
        max_headers: 8,
    };
    let many: String = (0..9).map(|i| format!("X-{i}: v\r\n")).collect();
    let cases: Vec<(Vec<u8>, ErrCheck)> = vec![
        (vec![b'A'; 601], |e| matches!(e, SipError::Oversized { .. })),
        (
            b"REGISTER sip:x SIP/2.0\r\nCSeq: 1 REGISTER\r\n".to_vec(),
            |e| matches!(e, SipError::NoHeaderEnd),
        ),
        (b"HELLO\r\n\r\n".to_vec(), |e| {
            matches!(e, SipError::StartLine(_))
        }),
        (b"SIP/2.0 99 Odd\r\n\r\n".to_vec(), |e| {
            matches!(e, SipError::StartLine(_))
        }),
        (b"register sip:x SIP/2.0\r\n\r\n".to_vec(), |e| {
            matches!(e, SipError::StartLine(_))
        }),
        (b"MESSAGE sip:x SIP/2.0\r\nno colon\r\n\r\n".to_vec(), |e| {
            matches!(e, SipError::HeaderLine(_))
        }),
        (b"MESSAGE sip:x SIP/2.0\r\nl: 10\r\n\r\nabc".to_vec(), |e| {
            matches!(
                e,
                SipError::BodyLength {
                    declared: 10,
                    available: 3
                }
            )
        }),
        (b"MESSAGE sip:x SIP/2.0\r\nl: -1\r\n\r\n".to_vec(), |e| {
            matches!(e, SipError::BadHeader { .. })
        }),
        (
            format!("MESSAGE sip:x SIP/2.0\r\n{many}\r\n").into_bytes(),
            |e| matches!(e, SipError::TooManyHeaders { limit: 8 }),
        ),
        (
            b"MESSAGE sip:x SIP/2.0\r\nX: \xff\xfe\r\n\r\n".to_vec(),
            |e| matches!(e, SipError::NotText(_)),
        ),
    ];
    for (input, check) in cases {
        let err = sip::parse_datagram(&input, lim).unwrap_err();
        assert!(
            check(&err),
            "{:?} → {err:?}",
            String::from_utf8_lossy(&input)
        );
    }
    // A message missing Call-ID parses but the accessor names what is missing.
    let m = sip::parse_datagram(b"MESSAGE sip:x SIP/2.0\r\n\r\n", lim).unwrap();
    assert_eq!(m.call_id(), Err(SipError::MissingHeader("Call-ID")));
}

#[test]
fn tcp_stream_framing() {
    let body = "<x/>";
    let one = format!(
        "MESSAGE sip:a@b SIP/2.0\r\nCall-ID: 1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let two = format!("\r\n\r\n{one}{one}");
    let lim = Limits::default();
    let Framed::Complete(m, used) = sip::parse_stream(two.as_bytes(), lim).unwrap() else {
        panic!("first message complete");
    };
    assert_eq!(m.body, body.as_bytes());
    assert_eq!(used, 4 + one.len());
    assert_eq!(
        sip::parse_stream(&two.as_bytes()[used..used + 10], lim).unwrap(),
        Framed::Incomplete
    );
    // On a stream Content-Length is mandatory.
    assert_eq!(
        sip::parse_stream(b"MESSAGE sip:a@b SIP/2.0\r\n\r\n", lim),
        Err(SipError::MissingHeader("Content-Length"))
    );
    let huge = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 999999\r\n\r\n";
    assert!(matches!(
        sip::parse_stream(huge.as_bytes(), lim),
        Err(SipError::Oversized { .. })
    ));
}

#[test]
fn via_gets_received_and_rport() {
    let v = sip::via_with_source(
        "SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1",
        "1.2.3.4",
        40000,
    );
    assert_eq!(
        v,
        "SIP/2.0/UDP 10.0.0.5:5060;rport=40000;branch=z9hG4bK1;received=1.2.3.4"
    );
    assert_eq!(sip::param("<sip:a@b>;tag=x1", "tag"), Some("x1"));
    assert_eq!(sip::param("<sip:a@b;transport=udp>", "transport"), None);
}

#[test]
fn device_id_fields() {
    let id = DeviceId::parse("52018100431322000001").unwrap();
    assert_eq!(
        (
            id.center(),
            id.industry(),
            id.type_code(),
            id.network(),
            id.serial(),
            id.domain()
        ),
        ("52018100", "43", 132, 2, "000001", "5201810043")
    );
    assert_eq!(id.kind(), "ipc");
    assert_eq!(
        DeviceId::parse("52018100432002000001").unwrap().kind(),
        "signalling_server"
    );
    for bad in [
        "",
        "5201810043132200000",
        "520181004313220000011",
        "5201810043132200000a",
    ] {
        assert!(DeviceId::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn manscdp_bodies_from_the_reference() {
    let keepalive = "<?xml version=\"1.0\" encoding=\"GB2312\"?>\n<Notify>\n<CmdType>Keepalive</CmdType>\n<SN>2001</SN>\n<DeviceID>34020000001320000001</DeviceID>\n<Status>OK</Status>\n<Vendor>ignored</Vendor>\n</Notify>";
    let Body::Keepalive(k) = Body::parse(keepalive.as_bytes()).unwrap() else {
        panic!("keepalive");
    };
    assert_eq!(
        (k.sn, k.device_id.as_str(), k.status.as_str()),
        (2001, "34020000001320000001", "OK")
    );

    let alarm = "<Notify><CmdType>Alarm</CmdType><SN>5001</SN><DeviceID>34020000001310000001</DeviceID>\
<AlarmPriority>1</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>2026-06-01T08:30:00</AlarmTime>\
<AlarmDescription>a &amp; b</AlarmDescription><Longitude>106.41</Longitude><Latitude>26.55</Latitude>\
<Info><AlarmType>6</AlarmType><AlarmTypeParam><EventType>1</EventType></AlarmTypeParam></Info></Notify>";
    let Body::Alarm(a) = Body::parse(alarm.as_bytes()).unwrap() else {
        panic!("alarm");
    };
    assert_eq!(a.methods, vec![5]);
    assert_eq!(
        (a.alarm_type, a.event_type, a.priority),
        (Some(6), Some(1), Some(1))
    );
    assert_eq!(a.description.as_deref(), Some("a & b"));
    assert_eq!(
        a.time,
        NaiveDate::from_ymd_opt(2026, 6, 1).and_then(|d| d.and_hms_opt(8, 30, 0))
    );
    assert_eq!(a.class(), AlarmClass::Intrusion);
    // Round trip through our own serialiser.
    assert_eq!(
        Body::parse(&Body::Alarm(a.clone()).encode()).unwrap(),
        Body::Alarm(a)
    );

    let status = "<Response><CmdType>DeviceStatus</CmdType><SN>3003</SN><DeviceID>x</DeviceID>\
<Result>OK</Result><Online>ONLINE</Online><Status>OK</Status><Encode>ON</Encode><Record>ON</Record>\
<DeviceTime>2026-06-14T12:00:00</DeviceTime></Response>";
    let Body::DeviceStatus(s) = Body::parse(status.as_bytes()).unwrap() else {
        panic!("status");
    };
    assert_eq!(
        s.device_time,
        NaiveDate::from_ymd_opt(2026, 6, 14).and_then(|d| d.and_hms_opt(12, 0, 0))
    );
    assert_eq!(s.online.as_deref(), Some("ONLINE"));

    let info = "<Response><CmdType>DeviceInfo</CmdType><SN>3002</SN><DeviceID>x</DeviceID>\
<DeviceName>cam</DeviceName><Result>OK</Result><Manufacturer>SIM</Manufacturer><Model>IPC</Model>\
<Firmware>1.0</Firmware><Channel>1</Channel></Response>";
    let Body::DeviceInfo(d) = Body::parse(info.as_bytes()).unwrap() else {
        panic!("info");
    };
    assert_eq!((d.firmware.as_deref(), d.channels), (Some("1.0"), Some(1)));
}

#[test]
fn alarm_classes_follow_the_method_type_table() {
    let base = |methods: &str, top: &str, info: &str| {
        format!(
            "<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>d</DeviceID><AlarmMethod>{methods}</AlarmMethod>{top}{info}</Notify>"
        )
    };
    let table = [
        (
            "5",
            "",
            "<Info><AlarmType>5</AlarmType></Info>",
            AlarmClass::Intrusion,
            "tripwire",
        ),
        (
            "5",
            "",
            "<Info><AlarmType>6</AlarmType></Info>",
            AlarmClass::Intrusion,
            "intrusion",
        ),
        (
            "5",
            "",
            "<Info><AlarmType>8</AlarmType></Info>",
            AlarmClass::Intrusion,
            "loitering",
        ),
        // Top-level AlarmType, as some devices send it.
        (
            "5",
            "<AlarmType>6</AlarmType>",
            "",
            AlarmClass::Intrusion,
            "intrusion",
        ),
        (
            "5",
            "",
            "<Info><AlarmType>2</AlarmType></Info>",
            AlarmClass::Other,
            "other",
        ),
        (
            "5",
            "",
            "<Info><AlarmType>13</AlarmType></Info>",
            AlarmClass::VideoFault,
            "image_occlusion",
        ),
        (
            "2",
            "",
            "<Info><AlarmType>1</AlarmType></Info>",
            AlarmClass::VideoFault,
            "video_loss",
        ),
        (
            "2",
            "",
            "<Info><AlarmType>2</AlarmType></Info>",
            AlarmClass::VideoFault,
            "tamper",
        ),
        (
            "2",
            "",
            "<Info><AlarmType>3</AlarmType></Info>",
            AlarmClass::VideoFault,
            "disk_full",
        ),
        (
            "2",
            "",
            "<Info><AlarmType>4</AlarmType></Info>",
            AlarmClass::Other,
            "other",
        ),
        (
            "6",
            "",
            "<Info><AlarmType>1</AlarmType></Info>",
            AlarmClass::VideoFault,
            "disk_fault",
        ),
        // Combined methods "12": telephone + device alarm video loss.
        (
            "12",
            "",
            "<Info><AlarmType>1</AlarmType></Info>",
            AlarmClass::VideoFault,
            "video_loss",
        ),
        ("1", "", "", AlarmClass::Other, "other"),
    ];
    for (m, top, info, class, label) in table {
        let Body::Alarm(a) = Body::parse(base(m, top, info).as_bytes()).unwrap() else {
            panic!("alarm {m}");
        };
        assert_eq!(
            (a.class(), a.type_label()),
            (class, label),
            "method {m} {top}{info}"
        );
    }
    assert!(Body::parse(base("x", "", "").as_bytes()).is_err());
}

#[test]
fn charsets_utf8_gb2312_gb18030() {
    let xml = "<Response><CmdType>Catalog</CmdType><SN>7</SN><DeviceID>d</DeviceID><SumNum>1</SumNum>\
<DeviceList Num=\"1\"><Item><DeviceID>c1</DeviceID><Name>红枫湖取水口</Name><Longitude>106.41</Longitude></Item></DeviceList></Response>";
    let utf8 = xml.as_bytes().to_vec();
    let gb = encoding_rs::GB18030.encode(xml).0.into_owned();
    assert_ne!(utf8, gb);
    // A 4-byte GB18030 character (outside GB2312/GBK): 𠀀 U+20000.
    let rare = xml.replace("取水口", "𠀀");
    let gb4 = encoding_rs::GB18030.encode(&rare).0.into_owned();
    for (bytes, name) in [
        (utf8, "红枫湖取水口"),
        (gb, "红枫湖取水口"),
        (gb4, "红枫湖𠀀"),
    ] {
        let Body::Catalog(c) = Body::parse(&bytes).unwrap() else {
            panic!("catalog");
        };
        assert_eq!(c.items[0].name.as_deref(), Some(name));
        assert_eq!(c.items[0].longitude, Some(106.41));
    }
    // Our encoder writes GB18030, which parses back.
    let page = Body::Catalog(CatalogPage {
        sn: 1,
        device_id: "d".into(),
        sum_num: 1,
        items: vec![CatalogItem {
            device_id: "c".into(),
            name: Some("一级保护区".into()),
            ..CatalogItem::default()
        }],
    });
    let bytes = page.encode();
    assert!(std::str::from_utf8(&bytes).is_err(), "GB18030, not UTF-8");
    assert_eq!(Body::parse(&bytes).unwrap(), page);
}

#[test]
fn control_and_query_bodies_round_trip() {
    for cmd in [
        ControlCmd::Guard { arm: true },
        ControlCmd::Guard { arm: false },
        ControlCmd::ResetAlarm,
        ControlCmd::Snapshot {
            count: 1,
            interval: 1,
            upload_url: "http://127.0.0.1:8080/api/v1/video/snapshots/s1?a=1&b=2".into(),
            session_id: "s1".into(),
        },
    ] {
        let b = Body::Control(gb28181::manscdp::Control {
            sn: 9,
            device_id: "d".into(),
            cmd,
        });
        assert_eq!(Body::parse(&b.encode()).unwrap(), b);
    }
    let set_guard = Body::Control(gb28181::manscdp::Control {
        sn: 1,
        device_id: "d".into(),
        cmd: ControlCmd::Guard { arm: true },
    })
    .to_xml();
    assert!(
        set_guard.contains("<CmdType>DeviceControl</CmdType>")
            && set_guard.contains("<GuardCmd>SetGuard</GuardCmd>")
    );
    let q = Body::Query(gb28181::manscdp::Query {
        cmd: "Catalog".into(),
        sn: 3001,
        device_id: "d".into(),
    });
    assert_eq!(Body::parse(&q.encode()).unwrap(), q);
    let ack = Body::Ack(gb28181::manscdp::Ack {
        cmd: "Alarm".into(),
        sn: 5001,
        device_id: "d".into(),
        ok: true,
    });
    assert!(ack.to_xml().contains("<Result>OK</Result>"));
    assert_eq!(Body::parse(&ack.encode()).unwrap(), ack);
    for bad in [
        "<Notify>",
        "<Notify><SN>1</SN><DeviceID>d</DeviceID></Notify>",
        "<Foo><CmdType>X</CmdType><SN>1</SN><DeviceID>d</DeviceID></Foo>",
        "<Notify><CmdType>Keepalive</CmdType><SN>x</SN><DeviceID>d</DeviceID></Notify>",
    ] {
        assert!(Body::parse(bad.as_bytes()).is_err(), "{bad}");
    }
}

fn t(s: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + Duration::seconds(s)
}

#[test]
fn registration_and_offline_rule() {
    let live = Liveness {
        interval_s: 60,
        count: 3,
    };
    let mut r = Registration::default();
    assert!(!r.is_online(t(0), live));
    assert!(!r.keepalive(t(0)), "keepalive before REGISTER is refused");
    assert_eq!(r.register(t(0), 3600, "c1"), RegisterOutcome::New);
    // Offline after interval × count = 180 s of silence.
    let table = [(179, true), (180, false)];
    for (s, online) in table {
        assert_eq!(r.is_online(t(s), live), online, "{s}");
    }
    assert!(r.keepalive(t(170)));
    assert!(r.is_online(t(349), live));
    assert!(!r.is_online(t(350), live));
    // Back: a keepalive after going offline (registration still valid).
    assert!(r.keepalive(t(400)));
    assert!(r.is_online(t(401), live));
    assert_eq!(r.register(t(500), 3600, "c1"), RegisterOutcome::Refresh);
    assert_eq!(r.register(t(501), 3600, "c2"), RegisterOutcome::New);
    // Short Expires bounds the window: min(expires, 180) = 100.
    let mut short = Registration::default();
    short.register(t(0), 100, "c");
    assert!(short.is_online(t(99), live));
    assert!(!short.is_online(t(100), live));
    assert!(!short.keepalive(t(101)), "registration expired");
    // Expires: 0 unregisters.
    assert_eq!(r.register(t(600), 0, "c2"), RegisterOutcome::Unregistered);
    assert!(!r.is_online(t(600), live));
}

#[test]
fn catalog_pages_out_of_order_and_repeated() {
    let item = |id: &str| CatalogItem {
        device_id: id.into(),
        ..CatalogItem::default()
    };
    let page = |sn, ids: &[&str]| CatalogPage {
        sn,
        device_id: "dev".into(),
        sum_num: 4,
        items: ids.iter().map(|i| item(i)).collect(),
    };
    let mut a = CatalogAssembler::new(1000, Duration::seconds(30));
    assert_eq!(
        a.feed(t(0), page(1, &["c3", "c4"])),
        CatalogProgress::Partial { have: 2, of: 4 }
    );
    // Repeated page counts once.
    assert_eq!(
        a.feed(t(1), page(1, &["c3", "c4"])),
        CatalogProgress::Partial { have: 2, of: 4 }
    );
    // Another query (SN 2) is a separate assembly.
    assert_eq!(
        a.feed(t(1), page(2, &["c1"])),
        CatalogProgress::Partial { have: 1, of: 4 }
    );
    let CatalogProgress::Complete(items) = a.feed(t(2), page(1, &["c1", "c2"])) else {
        panic!("complete");
    };
    let ids: Vec<_> = items.iter().map(|i| i.device_id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4"]);
    // Stale assemblies are dropped after the timeout.
    assert_eq!(a.pending(), 1);
    let _ = a.feed(
        t(100),
        CatalogPage {
            sum_num: 0,
            ..page(3, &[])
        },
    );
    assert_eq!(a.pending(), 0);
    // SumNum 0 is an empty catalog.
    assert_eq!(
        a.feed(
            t(0),
            CatalogPage {
                sum_num: 0,
                ..page(9, &[])
            }
        ),
        CatalogProgress::Complete(vec![])
    );
}

#[test]
fn gb_date_header() {
    let d = NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|d| d.and_hms_milli_opt(8, 5, 9, 42))
        .unwrap();
    assert_eq!(gb28181::time::sip_date(d), "2026-12-01T08:05:09.042");
    assert_eq!(gb28181::time::parse("2026-12-01T08:05:09.042"), Some(d));
    assert!(gb28181::time::parse("2026-12-01 08:05:09").is_some());
    assert!(gb28181::time::parse("01/12/2026").is_none());
}
