//! The data segment (数据段, reference §3): header fields by name, then `CP=&&…&&`.

use crate::codes::{Cn, Flag, ProtocolVersion};
use crate::cp::Cp;
use crate::error::Hj212Error;

/// PNUM/PNO of a split sub-packet (拆分包).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SplitInfo {
    /// PNUM: total number of sub-packets.
    pub pnum: u16,
    /// PNO: 1-based index of this sub-packet.
    pub pno: u16,
}

/// A parsed data segment. Values are kept as sent; MN and PW lengths are not validated
/// (real devices send 13–20 character MNs and 24-character PWs; reference §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment {
    /// QN request code (17 digits, ms); absent in many 2005 frames.
    pub qn: Option<String>,
    /// ST system code.
    pub st: String,
    pub cn: Cn,
    pub pw: String,
    pub mn: String,
    /// Flag; absent in 2005 frames (treated as version 0, no answer wanted).
    pub flag: Option<Flag>,
    /// PNUM/PNO, when PNUM is present (D without PNUM is ignored: 2005 devices send Flag=3).
    pub split: Option<SplitInfo>,
    /// Header fields this crate does not know, in order; re-emitted before CP.
    pub extra: Vec<(String, String)>,
    pub cp: Cp,
}

const HEADER_KEYS: [&str; 8] = ["QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO"];

impl DataSegment {
    /// Parses a data segment (the text between the length field and the CRC).
    pub fn parse(segment: &str) -> Result<DataSegment, Hj212Error> {
        let (mut seg, body) = parse_header(segment)?;
        seg.cp = Cp::parse(body)?;
        Ok(seg)
    }

    /// Parses the header only and returns the raw CP body unparsed: used for split sub-packets of
    /// `concat_split_cp` stations, whose CP may be cut in the middle of an item.
    pub fn parse_deferring_cp(segment: &str) -> Result<(DataSegment, &str), Hj212Error> {
        parse_header(segment)
    }

    /// The data segment text, fields in the standard's order: QN, ST, CN, PW, MN, Flag, PNUM,
    /// PNO, unknown fields, CP.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(96 + self.cp.items.len() * 32);
        let mut push = |key: &str, value: &str| {
            out.push_str(key);
            out.push('=');
            out.push_str(value);
            out.push(';');
        };
        if let Some(qn) = &self.qn {
            push("QN", qn);
        }
        push("ST", &self.st);
        push("CN", &self.cn.to_string());
        push("PW", &self.pw);
        push("MN", &self.mn);
        if let Some(flag) = self.flag {
            push("Flag", &flag.0.to_string());
        }
        if let Some(split) = self.split {
            push("PNUM", &split.pnum.to_string());
            push("PNO", &split.pno.to_string());
        }
        for (key, value) in &self.extra {
            push(key, value);
        }
        out.push_str("CP=&&");
        self.cp.encode_into(&mut out);
        out.push_str("&&");
        out
    }

    /// A=1: the sender wants an answer. 2005 frames without Flag never do.
    pub fn answer_requested(&self) -> bool {
        self.flag.is_some_and(Flag::answer_requested)
    }

    /// Version announced by Flag; 2005 when Flag is absent.
    pub fn protocol(&self) -> ProtocolVersion {
        self.flag
            .map_or(ProtocolVersion::Hj212_2005, Flag::protocol)
    }
}

/// Header fields up to `CP=&&`, by name and not by position. `;` and `,` both separate them,
/// because the standard's own examples contain `QN=…,ST=32`.
fn parse_header(segment: &str) -> Result<(DataSegment, &str), Hj212Error> {
    let cp_at = segment.find("CP=&&").ok_or(Hj212Error::MissingCp)?;
    let body = segment[cp_at + 5..]
        .strip_suffix("&&")
        .ok_or(Hj212Error::MissingCp)?;
    let mut values: [Option<&str>; 8] = [None; 8];
    let mut extra = Vec::new();
    for token in segment[..cp_at].split([';', ',']) {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        let (key, value) = token
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| Hj212Error::MalformedHeaderField(token.to_string()))?;
        let (key, value) = (key.trim(), value.trim());
        match HEADER_KEYS.iter().position(|k| *k == key) {
            Some(i) if values[i].is_some() => {
                return Err(Hj212Error::DuplicateField(key.to_string()));
            }
            Some(i) => values[i] = Some(value),
            None => extra.push((key.to_string(), value.to_string())),
        }
    }
    let [qn, st, cn, pw, mn, flag, pnum, pno] = values;
    let cn = Cn(number("CN", cn.ok_or(Hj212Error::MissingField("CN"))?, 4)?);
    let flag = flag
        .map(|f| {
            u8::try_from(number("Flag", f, 3)?)
                .map(Flag)
                .map_err(|_| bad_number("Flag", f))
        })
        .transpose()?;
    let split = match (pnum, pno) {
        (None, None) => None,
        (Some(_), None) => return Err(Hj212Error::MissingField("PNO")),
        (None, Some(_)) => return Err(Hj212Error::MissingField("PNUM")),
        (Some(pnum), Some(pno)) => {
            let pnum = number("PNUM", pnum, 4)?;
            let pno = number("PNO", pno, 4)?;
            if pnum == 0 || pno == 0 || pno > pnum {
                return Err(Hj212Error::BadPacketNumber { pnum, pno });
            }
            Some(SplitInfo { pnum, pno })
        }
    };
    let seg = DataSegment {
        qn: qn.map(str::to_string),
        st: st.ok_or(Hj212Error::MissingField("ST"))?.to_string(),
        cn,
        pw: pw.ok_or(Hj212Error::MissingField("PW"))?.to_string(),
        mn: mn.ok_or(Hj212Error::MissingField("MN"))?.to_string(),
        flag,
        split,
        extra,
        cp: Cp::default(),
    };
    Ok((seg, body))
}

fn bad_number(field: &str, value: &str) -> Hj212Error {
    Hj212Error::BadNumber {
        field: field.to_string(),
        value: value.to_string(),
    }
}

/// An unsigned decimal of 1..=`max_digits` digits.
fn number(field: &str, value: &str, max_digits: usize) -> Result<u16, Hj212Error> {
    if value.is_empty() || value.len() > max_digits || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_number(field, value));
    }
    value.parse().map_err(|_| bad_number(field, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";

    #[test]
    fn parses_and_re_encodes() {
        let seg = DataSegment::parse(P1).expect("parses");
        assert_eq!(seg.cn, Cn(1062));
        assert_eq!(seg.flag, Some(Flag(5)));
        assert_eq!(seg.cp.get("RtdInterval"), Some("30"));
        assert_eq!(seg.encode(), P1);
    }

    #[test]
    fn tolerates_standard_typos() {
        // `Flag=5CP=&&` has no `;`; the parser locates CP=&& by search, so Flag=5 still parses.
        let seg = DataSegment::parse("QN=1,ST=32;CN=2011;PW=1;MN=2;Flag=5CP=&&&&").expect("parses");
        assert_eq!(seg.st, "32");
        assert_eq!(seg.flag, Some(Flag(5)));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                "ST=32;CN=2011;PW=1;Flag=4;CP=&&&&",
                Hj212Error::MissingField("MN"),
            ),
            ("ST=32;PW=1;MN=2;CP=&&&&", Hj212Error::MissingField("CN")),
            ("ST=32;CN=20x1;PW=1;MN=2;CP=&&&&", bad_number("CN", "20x1")),
            (
                "ST=32;CN=2011;PW=1;MN=2;Flag=256;CP=&&&&",
                bad_number("Flag", "256"),
            ),
            (
                "ST=32;CN=2011;PW=1;MN=2;Flag=7;PNUM=2;CP=&&&&",
                Hj212Error::MissingField("PNO"),
            ),
            (
                "ST=32;CN=2011;PW=1;MN=2;Flag=7;PNUM=2;PNO=3;CP=&&&&",
                Hj212Error::BadPacketNumber { pnum: 2, pno: 3 },
            ),
            (
                "ST=32;CN=2011;PW=1;MN=2;MN=3;CP=&&&&",
                Hj212Error::DuplicateField("MN".into()),
            ),
            (
                "ST=32;CN=2011;PW=1;MN=2;bogus;CP=&&&&",
                Hj212Error::MalformedHeaderField("bogus".into()),
            ),
            ("ST=32;CN=2011;PW=1;MN=2;", Hj212Error::MissingCp),
            ("ST=32;CN=2011;PW=1;MN=2;CP=&&x=1&", Hj212Error::MissingCp),
        ];
        for (text, expected) in cases {
            assert_eq!(DataSegment::parse(text), Err(expected), "{text}");
        }
    }

    #[test]
    fn flag_d_without_pnum_is_ignored() {
        let seg = DataSegment::parse("ST=32;CN=1011;PW=1;MN=2;Flag=3;CP=&&&&").expect("parses");
        assert_eq!(seg.split, None);
        assert!(seg.answer_requested());
    }
}
