//! The live-view SDP of reference §1.8: offer text, answer parsing, the 10-digit SSRC.

use gb28181::sdp::{self, PlayOffer, Sdp, SdpError, StreamKind};

#[test]
fn ssrc_is_kind_digit_then_domain_3_to_8_then_a_4_digit_sequence() {
    assert_eq!(
        sdp::ssrc(StreamKind::Live, "5201810043", 1).as_deref(),
        Ok("0181000001")
    );
    assert_eq!(
        sdp::ssrc(StreamKind::History, "5201810043", 12_345).as_deref(),
        Ok("1181002345")
    );
    assert!(matches!(
        sdp::ssrc(StreamKind::Live, "5201", 1),
        Err(SdpError::Domain(_))
    ));
    assert!(sdp::ssrc(StreamKind::Live, "520abc0043", 1).is_err());
}

#[test]
fn the_offer_has_the_lines_of_the_reference_in_order() {
    let offer = PlayOffer {
        origin: "52018100432002000001".into(),
        media_ip: "10.0.0.5".into(),
        port: 30_000,
        ssrc: "0181000001".into(),
    };
    let text = offer.to_sdp();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines,
        [
            "v=0",
            "o=52018100432002000001 0 0 IN IP4 10.0.0.5",
            "s=Play",
            "c=IN IP4 10.0.0.5",
            "t=0 0",
            "m=video 30000 RTP/AVP 96 97 98 99",
            "a=recvonly",
            "a=rtpmap:96 PS/90000",
            "a=rtpmap:98 H264/90000",
            "a=rtpmap:97 MPEG4/90000",
            "a=rtpmap:99 H265/90000",
            "y=0181000001",
        ]
    );
    let parsed = Sdp::parse(text.as_bytes()).expect("own offer parses");
    assert_eq!(parsed.video_port, 30_000);
    assert_eq!(parsed.direction.as_deref(), Some("recvonly"));
    assert_eq!(parsed.formats, [96, 97, 98, 99]);
}

#[test]
fn a_camera_answer_with_unknown_lines_and_lf_endings_parses() {
    let answer = "v=0\no=34020000001320000001 0 0 IN IP4 192.168.1.64\ns=Play\n\
                  c=IN IP4 192.168.1.64\nt=0 0\nm=video 15060 RTP/AVP 96\n\
                  a=sendonly\na=rtpmap:96 PS/90000\na=filesize:0\ny=0181000001\nf=v/2/5///a///\n";
    let s = Sdp::parse(answer.as_bytes()).expect("parses");
    assert_eq!(s.origin, "34020000001320000001");
    assert_eq!(s.connection.as_deref(), Some("192.168.1.64"));
    assert_eq!(s.video_port, 15060);
    assert_eq!(s.proto, "RTP/AVP");
    assert_eq!(s.direction.as_deref(), Some("sendonly"));
    assert_eq!(s.rtpmap, [(96, "PS/90000".to_string())]);
    assert_eq!(s.ssrc.as_deref(), Some("0181000001"));
}

#[test]
fn broken_answers_are_errors() {
    assert_eq!(Sdp::parse(b"v=0\ns=Play\n"), Err(SdpError::NoVideo));
    assert!(matches!(
        Sdp::parse(b"v=0\nm=video x RTP/AVP 96\n"),
        Err(SdpError::BadLine(_))
    ));
    assert!(matches!(
        Sdp::parse(b"v=0\nm=video 1 RTP/AVP 96\ny=12ab\n"),
        Err(SdpError::BadLine(_))
    ));
    assert_eq!(Sdp::parse(&[0xff, 0xfe]), Err(SdpError::NotText));
    assert!(matches!(Sdp::parse(b"garbage"), Err(SdpError::BadLine(_))));
}

#[test]
fn the_device_answer_mirrors_the_offer_ssrc() {
    let offer = Sdp::parse(
        PlayOffer {
            origin: "p".into(),
            media_ip: "127.0.0.1".into(),
            port: 1234,
            ssrc: "0181000007".into(),
        }
        .to_sdp()
        .as_bytes(),
    )
    .expect("offer");
    let a = Sdp::parse(sdp::answer(&offer, "dev", "127.0.0.1", 5555).as_bytes()).expect("answer");
    assert_eq!(a.ssrc.as_deref(), Some("0181000007"));
    assert_eq!(a.direction.as_deref(), Some("sendonly"));
    assert_eq!(a.video_port, 5555);
}
