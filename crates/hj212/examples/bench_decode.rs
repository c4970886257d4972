//! Throughput of the decoder alone (framing, CRC, data segment and CP parsing):
//! `cargo run --release -p hj212 --example bench_decode [frames]`.
//!
//! The stream mixes the reference's example frames (real-time, hourly, split, log with Chinese
//! text, 2005 style, answers), fed in 8 KiB reads like a TCP socket would deliver them.

use std::hint::black_box;
use std::time::Instant;

use hj212::Hj212Decoder;

const FRAMES: [&str; 6] = [
    "##0260QN=20260315093000123;ST=21;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20260315093000;w01010-Rtd=14.6,w01010-Flag=N;w01001-Rtd=7.82,w01001-Flag=N;w01009-Rtd=9.41,w01009-Flag=N;w01014-Rtd=312.5,w01014-Flag=N;w01003-Rtd=4.7,w01003-Flag=N&&C181\r\n",
    "##0358QN=20260315100000456;ST=21;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20260315090000;w01019-Min=2.1,w01019-Avg=2.3,w01019-Max=2.4,w01019-Flag=N;w21003-Min=0.12,w21003-Avg=0.15,w21003-Max=0.19,w21003-Flag=N;w21011-Min=0.021,w21011-Avg=0.024,w21011-Max=0.027,w21011-Flag=N;w21001-Min=0.88,w21001-Avg=0.95,w21001-Max=1.02,w21001-Flag=M&&D581\r\n",
    "##0182QN=20260315100000457;ST=21;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20260315090000;w01019-Avg=2.3,w01019-Flag=N;w21003-Avg=0.15,w21003-Flag=N&&7EC0\r\n",
    "##0152QN=20260315103000001;ST=21;CN=3020;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&DataTime=20260315103000;PolId=w21011;i11001-Info=//清洗管路//&&D081\r\n",
    "##0136ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20260315093000;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&AA01\r\n",
    "##0087QN=20260315093100000;ST=21;CN=9015;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&&&DBC1\r\n",
];

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(600_000);
    let stream: Vec<u8> = FRAMES
        .iter()
        .cycle()
        .take(total)
        .flat_map(|f| f.as_bytes().iter().copied())
        .collect();

    // Warm-up pass, then the measured pass.
    let mut best = f64::MAX;
    let mut decoded = 0u64;
    for _ in 0..3 {
        let mut decoder = Hj212Decoder::default();
        let start = Instant::now();
        let mut frames = 0u64;
        for read in stream.chunks(8192) {
            decoder.push(read);
            for item in decoder.drain() {
                if black_box(item).is_ok() {
                    frames += 1;
                }
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
        decoded = frames;
    }
    assert_eq!(decoded, total as u64, "every frame decodes");
    let mb = stream.len() as f64 / 1e6;
    println!(
        "hj212 decoder: {decoded} frames, {mb:.1} MB in {best:.3} s (best of 3): {:.0} frames/s, {:.1} MB/s",
        decoded as f64 / best,
        mb / best
    );
}
