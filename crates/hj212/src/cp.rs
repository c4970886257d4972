//! The CP data area (`CP=&&…&&`, reference §8): a tolerant parser that keeps every value as the
//! exact string sent, an encoder, and the per-factor view.

use crate::codes::DataFlag;
use crate::error::Hj212Error;

/// One `NAME=value` pair of CP, both exactly as sent (trimmed of surrounding spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpField {
    pub key: String,
    pub value: String,
}

/// One `;`-separated item of CP: its `,`-separated fields (the fields of one factor, normally).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpItem {
    pub fields: Vec<CpField>,
}

/// The CP data area. Items and fields keep their order and grouping, so a conforming frame
/// re-encodes byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cp {
    pub items: Vec<CpItem>,
}

impl Cp {
    /// Parses the body between `CP=&&` and the closing `&&`, following the robust rules of
    /// reference §8.1: `//…//` Info payloads are cut out first (they may hold `;` and `,`),
    /// empty tokens are dropped, spaces trimmed. Field names are kept as sent; factor codes are
    /// lowercased only in the [`FactorValue`] view.
    pub fn parse(body: &str) -> Result<Cp, Hj212Error> {
        let bytes = body.as_bytes();
        let mut items: Vec<CpItem> = Vec::new();
        // A `;` seen since the last kept token starts a new item, even if empty tokens follow.
        let mut new_item = true;
        let mut i = 0;
        loop {
            let start = i;
            let mut j = i;
            while j < bytes.len() && bytes[j] != b';' && bytes[j] != b',' {
                if bytes[j] == b'=' && bytes[j + 1..].starts_with(b"//") {
                    let key = body[start..j].trim();
                    let close = find(&bytes[j + 3..], b"//")
                        .ok_or_else(|| Hj212Error::UnterminatedInfo(key.to_string()))?;
                    j += 3 + close + 2;
                } else {
                    j += 1;
                }
            }
            let token = body[start..j].trim();
            if !token.is_empty() {
                let field = parse_field(token)?;
                match items.last_mut() {
                    Some(item) if !new_item => item.fields.push(field),
                    _ => items.push(CpItem {
                        fields: vec![field],
                    }),
                }
                new_item = false;
            }
            if j >= bytes.len() {
                break;
            }
            if bytes[j] == b';' {
                new_item = true;
            }
            i = j + 1;
        }
        Ok(Cp { items })
    }

    /// The CP body (without `CP=&&` and `&&`): items joined by `;`, fields by `,`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.encode_into(&mut out);
        out
    }

    pub(crate) fn encode_into(&self, out: &mut String) {
        for (n, item) in self.items.iter().enumerate() {
            if n > 0 {
                out.push(';');
            }
            for (m, field) in item.fields.iter().enumerate() {
                if m > 0 {
                    out.push(',');
                }
                out.push_str(&field.key);
                out.push('=');
                out.push_str(&field.value);
            }
        }
    }

    /// CP with one item per `(key, value)` pair, as commands and answers are built.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Cp {
        Cp {
            items: pairs
                .into_iter()
                .map(|(k, v)| CpItem {
                    fields: vec![CpField {
                        key: k.into(),
                        value: v.into(),
                    }],
                })
                .collect(),
        }
    }

    pub fn fields(&self) -> impl Iterator<Item = &CpField> {
        self.items.iter().flat_map(|item| item.fields.iter())
    }

    /// The first value of a field by exact name (`DataTime`, `QnRtn`, `PolId`, `w01010-Rtd`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// `DataTime`: the measurement instant (2011) or interval start (2051/2061/2031).
    pub fn data_time(&self) -> Option<&str> {
        self.get("DataTime")
    }

    /// Fields that belong to no factor (`DataTime`, `PolId`, `RtdInterval`, …), in order.
    pub fn parameters(&self) -> impl Iterator<Item = &CpField> {
        self.fields().filter(|f| !f.key.contains('-'))
    }

    /// The factor view: fields `<code>-<Suffix>` grouped by lowercased code, in the order codes
    /// first appear. Grouping is by code, not by item, so `,` where `;` belongs is harmless.
    pub fn factors(&self) -> Vec<FactorValue> {
        let mut out: Vec<FactorValue> = Vec::new();
        for field in self.fields() {
            let Some((code, suffix)) = field.key.split_once('-') else {
                continue;
            };
            let code = code.trim();
            let index = match out.iter().position(|f| f.code.eq_ignore_ascii_case(code)) {
                Some(index) => index,
                None => {
                    out.push(FactorValue::new(code.to_ascii_lowercase()));
                    out.len() - 1
                }
            };
            out[index].set(suffix.trim(), &field.value);
        }
        out
    }
}

fn parse_field(token: &str) -> Result<CpField, Hj212Error> {
    match token.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok(CpField {
            key: key.trim().to_string(),
            value: value.trim().to_string(),
        }),
        _ => Err(Hj212Error::MalformedCpField(token.to_string())),
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The values of one factor in one frame. Values are the exact decimal strings sent: the
/// standard's data types are not enforced (devices send more decimals than Appendix B allows).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FactorValue {
    /// Factor code, lowercased (`w01010`; 2005 codes such as `060` stay as they are).
    pub code: String,
    /// `-Rtd` real-time value.
    pub rtd: Option<String>,
    /// `-Min` / `-Avg` / `-Max` over the interval.
    pub min: Option<String>,
    pub avg: Option<String>,
    pub max: Option<String>,
    /// `-Cou` cumulative value.
    pub cou: Option<String>,
    /// `-Flag` data flag; `None` when absent (treated as N when a value is present).
    pub flag: Option<DataFlag>,
    /// `-EFlag` instrument-defined extended flag, verbatim.
    pub eflag: Option<String>,
    /// `-SampleTime` (N14): when the water was drawn; the phenomenon time when present.
    pub sample_time: Option<String>,
    /// `-Info` text, without the `//…//` delimiters.
    pub info: Option<String>,
    /// `-SN` instrument serial number.
    pub sn: Option<String>,
    /// Any other suffix (`ZsRtd`, `RS`, `RT`, 2005 `Ala`, `UpValue`, …) with its value.
    pub other: Vec<(String, String)>,
}

impl FactorValue {
    pub fn new(code: String) -> FactorValue {
        FactorValue {
            code,
            ..FactorValue::default()
        }
    }

    fn set(&mut self, suffix: &str, value: &str) {
        let value_owned = || Some(value.to_string());
        match suffix {
            "Rtd" => self.rtd = value_owned(),
            "Min" => self.min = value_owned(),
            "Avg" => self.avg = value_owned(),
            "Max" => self.max = value_owned(),
            "Cou" => self.cou = value_owned(),
            "Flag" => self.flag = Some(DataFlag::parse(value)),
            "EFlag" => self.eflag = value_owned(),
            "SampleTime" => self.sample_time = value_owned(),
            "SN" => self.sn = value_owned(),
            "Info" => {
                let text = value
                    .strip_prefix("//")
                    .and_then(|v| v.strip_suffix("//"))
                    .unwrap_or(value);
                self.info = Some(text.to_string());
            }
            other => self.other.push((other.to_string(), value.to_string())),
        }
    }

    /// The data flag, with the reference's default: absent flag and a value present → N.
    pub fn effective_flag(&self) -> Option<DataFlag> {
        self.flag.clone().or_else(|| {
            [&self.rtd, &self.avg, &self.min, &self.max, &self.cou]
                .iter()
                .any(|v| v.is_some())
                .then_some(DataFlag::Normal)
        })
    }

    /// A value as a number, naming the field when it is not one (`w01010-Rtd`).
    pub fn number(&self, suffix: &str, value: &str) -> Result<f64, Hj212Error> {
        value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| Hj212Error::BadNumber {
                field: format!("{}-{}", self.code, suffix),
                value: value.to_string(),
            })
    }

    /// `-Rtd` as a number, if present.
    pub fn rtd_f64(&self) -> Option<Result<f64, Hj212Error>> {
        self.rtd.as_deref().map(|v| self.number("Rtd", v))
    }

    /// `-Avg` as a number, if present.
    pub fn avg_f64(&self) -> Option<Result<f64, Hj212Error>> {
        self.avg.as_deref().map(|v| self.number("Avg", v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_round_trip() {
        let body = "DataTime=20260315093000;w01010-Rtd=14.6,w01010-Flag=N;w01001-Rtd=7.82";
        let cp = Cp::parse(body).expect("parses");
        assert_eq!(cp.items.len(), 3);
        assert_eq!(cp.encode(), body);
        assert_eq!(cp.data_time(), Some("20260315093000"));
        let f = cp.factors();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].rtd.as_deref(), Some("14.6"));
        assert_eq!(f[0].flag, Some(DataFlag::Normal));
        assert_eq!(f[1].effective_flag(), Some(DataFlag::Normal));
    }

    #[test]
    fn tolerant_rules() {
        // Trailing `;`, spaces, `,` where `;` belongs, uppercase codes, signed values.
        let cp = Cp::parse(" PolId=w01018; W01003-Rtd=-0.3 , w01003-Flag=N;;i12003-Info =0;")
            .expect("parses");
        assert_eq!(cp.get("PolId"), Some("w01018"));
        let f = cp.factors();
        assert_eq!(f[0].code, "w01003");
        assert_eq!(f[0].rtd.as_deref(), Some("-0.3"));
        assert_eq!(f[1].code, "i12003");
        assert_eq!(f[1].info.as_deref(), Some("0"));
        assert_eq!(cp.items.len(), 3);
    }

    #[test]
    fn info_may_hold_separators() {
        let cp = Cp::parse("i11001-Info=//a;b,c=d//;w01010-Rtd=1").expect("parses");
        let f = cp.factors();
        assert_eq!(f[0].info.as_deref(), Some("a;b,c=d"));
        assert_eq!(f[1].rtd.as_deref(), Some("1"));
        assert_eq!(cp.encode(), "i11001-Info=//a;b,c=d//;w01010-Rtd=1");
    }

    #[test]
    fn malformed() {
        assert_eq!(
            Cp::parse("DataTime"),
            Err(Hj212Error::MalformedCpField("DataTime".into()))
        );
        assert_eq!(
            Cp::parse("i11001-Info=//open"),
            Err(Hj212Error::UnterminatedInfo("i11001-Info".into()))
        );
        assert_eq!(
            Cp::parse("=5"),
            Err(Hj212Error::MalformedCpField("=5".into()))
        );
        let f = &Cp::parse("w01010-Rtd=abc").expect("parses").factors()[0];
        assert!(matches!(
            f.rtd_f64(),
            Some(Err(Hj212Error::BadNumber { .. }))
        ));
    }
}
