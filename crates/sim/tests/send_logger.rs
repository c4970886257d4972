//! The HJ 212 logger against a real TCP peer played by the test: a platform that answers,
//! withholds or drops. Checks the resend rule (same frame, same QN, up to 3 times), the failure
//! after the last resend, and the reconnect after a lost connection.

use hj212::{Cn, DataSegment, Flag, Hj212Decoder, StationOptions, data_answer};
use sim::send::{LoggerTiming, SendError, SendStats, StationLogger};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// What the fake platform does with the n-th frame it receives (0-based, over all connections).
#[derive(Clone, Copy, Debug)]
enum Reply {
    Answer,
    Withhold,
    CloseConnection,
}

/// A platform on 127.0.0.1 that replies per `script` (then answers everything) and reports the
/// QN of every frame it receives.
async fn fake_platform(
    script: Vec<Reply>,
) -> (std::net::SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut n = 0usize;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut decoder = Hj212Decoder::default();
            let mut buf = [0u8; 4096];
            'conn: while let Ok(read) = socket.read(&mut buf).await {
                if read == 0 {
                    break;
                }
                decoder.push(&buf[..read]);
                while let Some(item) = decoder.next_item() {
                    let Ok(frame) = item else { continue };
                    let _ = tx.send(frame.segment.qn.clone().unwrap_or_default());
                    let reply = script.get(n).copied().unwrap_or(Reply::Answer);
                    n += 1;
                    match reply {
                        Reply::Answer => {
                            let answer = data_answer(&frame.segment, &StationOptions::default());
                            if socket.write_all(&answer).await.is_err() {
                                break 'conn;
                            }
                        }
                        Reply::Withhold => {}
                        Reply::CloseConnection => break 'conn,
                    }
                }
            }
        }
    });
    (addr, rx)
}

fn upload(qn: &str) -> DataSegment {
    DataSegment {
        qn: Some(qn.to_owned()),
        st: "21".into(),
        cn: Cn::REALTIME_DATA,
        pw: "520001".into(),
        mn: "010000520181000000000001".into(),
        flag: Some(Flag::new(1, true, false)),
        split: None,
        extra: Vec::new(),
        cp: hj212::Cp::from_pairs([("DataTime", "20260720080000"), ("w01010-Rtd", "24.1")]),
    }
}

fn timing() -> LoggerTiming {
    LoggerTiming {
        answer_timeout: Duration::from_millis(200),
        retries: 3,
        reconnect_delay: Duration::from_millis(20),
        connect_timeout: Duration::from_secs(2),
    }
}

fn drain(rx: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(qn) = rx.try_recv() {
        out.push(qn);
    }
    out
}

#[tokio::test]
async fn resends_the_same_qn_until_answered() {
    let (addr, mut seen) =
        fake_platform(vec![Reply::Answer, Reply::Withhold, Reply::Withhold]).await;
    let stats = Arc::new(SendStats::default());
    let mut logger = StationLogger::new(addr, "MN", timing(), 8 * 3600, stats.clone());
    logger
        .send(&upload("20260720080000000"))
        .await
        .expect("answered at once");
    logger
        .send(&upload("20260720080500000"))
        .await
        .expect("answered at the third attempt");
    assert_eq!(
        drain(&mut seen),
        [
            "20260720080000000",
            "20260720080500000",
            "20260720080500000",
            "20260720080500000"
        ]
    );
    let s = stats.snapshot();
    assert_eq!(
        (s.answered, s.resends, s.timeouts, s.connects),
        (2, 2, 2, 1)
    );
}

#[tokio::test]
async fn gives_up_after_three_resends() {
    let (addr, mut seen) = fake_platform(vec![Reply::Withhold; 10]).await;
    let stats = Arc::new(SendStats::default());
    let mut logger = StationLogger::new(addr, "MN", timing(), 8 * 3600, stats.clone());
    let result = logger.send(&upload("20260720081000000")).await;
    assert!(
        matches!(result, Err(SendError::NoAnswer { attempts: 4, .. })),
        "{result:?}"
    );
    assert_eq!(
        drain(&mut seen).len(),
        4,
        "the first send and three resends"
    );
    assert_eq!(stats.snapshot().failed, 1);
}

#[tokio::test]
async fn reconnects_and_resends_after_the_connection_drops() {
    let (addr, mut seen) = fake_platform(vec![Reply::CloseConnection]).await;
    let stats = Arc::new(SendStats::default());
    let mut logger = StationLogger::new(addr, "MN", timing(), 8 * 3600, stats.clone());
    logger
        .send(&upload("20260720081500000"))
        .await
        .expect("delivered on the second connection");
    assert_eq!(drain(&mut seen), ["20260720081500000", "20260720081500000"]);
    let s = stats.snapshot();
    assert_eq!((s.connects, s.reconnects, s.answered), (2, 1, 1));
}

#[tokio::test]
async fn fails_cleanly_when_nobody_listens() {
    // Bind and drop to get a port with no listener.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let stats = Arc::new(SendStats::default());
    let mut logger = StationLogger::new(addr, "MN", timing(), 8 * 3600, stats);
    let result = logger.send(&upload("20260720082000000")).await;
    assert!(
        matches!(result, Err(SendError::Connect { .. })),
        "{result:?}"
    );
}

#[test]
fn qns_are_unique_per_station() {
    let stats = Arc::new(SendStats::default());
    let addr = "127.0.0.1:9".parse().expect("addr");
    let mut logger = StationLogger::new(addr, "MN", timing(), 8 * 3600, stats);
    let t = 1_784_505_600; // 2026-07-20T00:00:00Z = 08:00 Beijing time
    assert_eq!(logger.next_qn(t), "20260720080000000");
    assert_eq!(logger.next_qn(t), "20260720080000001", "+1 ms on collision");
    assert_eq!(logger.next_qn(t + 300), "20260720080500000");
}
