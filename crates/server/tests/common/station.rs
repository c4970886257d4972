//! A test HJ 212 station (data logger): opens a real TCP connection, sends frames and reads the
//! platform's answers. Written independently of the `hj212` crate (its own CRC and framing), so
//! the tests check the server against the protocol, not against the codec's own encoder.
//! Shared by the server's tests and bench and the qingshui SIGKILL test (`#[path]` include).
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The HJ 212 CRC (reference §4): register shifted right by 8 before each byte is mixed in.
pub fn hj212_crc(data: &[u8]) -> u16 {
    let mut r: u16 = 0xFFFF;
    for &b in data {
        r = (r >> 8) ^ u16::from(b);
        for _ in 0..8 {
            let lsb = r & 1;
            r >>= 1;
            if lsb == 1 {
                r ^= 0xA001;
            }
        }
    }
    r
}

/// `##` + 4-digit length + segment + CRC + CR LF.
pub fn encode_frame(segment: &str) -> Vec<u8> {
    format!(
        "##{:04}{segment}{:04X}\r\n",
        segment.len(),
        hj212_crc(segment.as_bytes())
    )
    .into_bytes()
}

/// A value of a `KEY=value` field in an answer's data segment.
pub fn field<'a>(segment: &'a str, key: &str) -> Option<&'a str> {
    segment
        .split([';', ','])
        .find_map(|kv| kv.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
}

/// Unix seconds as Beijing local time `YYYYMMDDhhmmss` (HJ 212 DataTime).
pub fn beijing_time(unix_s: i64) -> String {
    let t = unix_s + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

pub struct TestStation {
    pub mn: String,
    pub pw: String,
    stream: TcpStream,
    pending: Vec<u8>,
}

impl TestStation {
    pub async fn connect(addr: SocketAddr, mn: &str, pw: &str) -> io::Result<TestStation> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(TestStation {
            mn: mn.to_owned(),
            pw: pw.to_owned(),
            stream,
            pending: Vec::new(),
        })
    }

    /// A data segment of this station (ST=21). `flag` 5 = 2017 with an answer requested.
    pub fn segment(&self, qn: &str, cn: &str, flag: u8, extra: &str, cp: &str) -> String {
        format!(
            "QN={qn};ST=21;CN={cn};PW={};MN={};Flag={flag};{extra}CP=&&{cp}&&",
            self.pw, self.mn
        )
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// The next answer's data segment, or `None` when nothing arrives within `wait`.
    /// `Err(UnexpectedEof)` when the server closed the connection.
    pub async fn answer(&mut self, wait: Duration) -> io::Result<Option<String>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.pending.drain(..end + 2).collect();
                let text = String::from_utf8_lossy(&line).into_owned();
                // ##LLLL<segment>CCCC\r\n
                let segment = text
                    .get(6..text.len().saturating_sub(6))
                    .unwrap_or_default()
                    .to_owned();
                return Ok(Some(segment));
            }
            let mut buf = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_) => return Ok(None),
                Ok(Ok(0)) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(Ok(n)) => self.pending.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => return Err(e),
            }
        }
    }

    /// Sends an upload with A=1 and waits for its answer.
    pub async fn upload(
        &mut self,
        qn: &str,
        cn: &str,
        cp: &str,
        wait: Duration,
    ) -> io::Result<Option<String>> {
        let frame = encode_frame(&self.segment(qn, cn, 5, "", cp));
        self.send(&frame).await?;
        self.answer(wait).await
    }
}

/// Unix seconds as an ISO 8601 UTC instant the way the STA API prints it (`…T01:30:00Z`: whole
/// seconds carry no fraction).
pub fn utc_iso(unix_s: i64) -> String {
    let local = beijing_time(unix_s - 8 * 3600);
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &local[0..4],
        &local[4..6],
        &local[6..8],
        &local[8..10],
        &local[10..12],
        &local[12..14]
    )
}

/// HJ 212 factor codes of the probes every synthetic station has (the lake probe set).
pub const SYNTHETIC_FACTORS: [&str; 7] = [
    "w01010", "w01001", "w01009", "w01014", "w01003", "w01016", "w19011",
];

/// (code, MN, PW) of synthetic station `i`.
pub fn synthetic_station(i: usize) -> (String, String, String) {
    (
        format!("S{i:04}"),
        format!("01000052018199{i:010}"),
        format!("pw{i:04}"),
    )
}

/// `config/hongfeng.toml` plus `n` synthetic river stations (`S0000`…) with seven probes each,
/// for tests and benchmarks that need many stations.
pub fn synthetic_network(hongfeng: &str, n: usize) -> String {
    let mut text = hongfeng.to_owned();
    for i in 0..n {
        let (code, mn, pw) = synthetic_station(i);
        text.push_str(&format!(
            "\n[[stations]]\ncode = \"{code}\"\nname_zh = \"测试站{i}\"\nname_en = \"Synthetic station {i}\"\nkind = \"river\"\n\
             role = \"inflow\"\nbasin = \"south\"\ntarget_class = \"III\"\nlon = 106.375\nlat = 26.425\nmn = \"{mn}\"\npw = \"{pw}\"\n\
             probes = [\"water_temp\", \"ph\", \"do\", \"conductivity\", \"turbidity\", \"chl_a\", \"algal_density\"]\n"
        ));
    }
    text
}

/// A real-time CP of the synthetic probes at `unix_s`, values derived from (station, sequence).
pub fn synthetic_cp(unix_s: i64, station: usize, seq: u64) -> (String, Vec<String>) {
    let mut cp = format!("DataTime={}", beijing_time(unix_s));
    let mut values = Vec::with_capacity(SYNTHETIC_FACTORS.len());
    for (k, code) in SYNTHETIC_FACTORS.iter().enumerate() {
        let v = format!("{}.{:03}", (station + k) % 50, seq % 1000);
        cp.push_str(&format!(";{code}-Rtd={v},{code}-Flag=N"));
        values.push(v);
    }
    (cp, values)
}
