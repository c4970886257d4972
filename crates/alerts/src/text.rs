//! Alert messages in Chinese and English. A rule stores its message as a template key plus
//! parameters (`details.text`); each reader — the dashboard, an e-mail, a webhook — renders it
//! in their own language. A parameter that differs by language (a parameter's name, a class,
//! a fault) is stored as `{"zh": …, "en": …}`; numbers and codes as they are.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A message before rendering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Text {
    pub key: String,
    pub params: Map<String, Value>,
}

/// A value that reads differently in each language.
pub fn both(zh: impl Into<String>, en: impl Into<String>) -> Value {
    json!({ "zh": zh.into(), "en": en.into() })
}

impl Text {
    pub fn new(key: &str) -> Text {
        Text {
            key: key.into(),
            params: Map::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Text {
        self.params.insert(name.into(), value.into());
        self
    }

    /// The message in `lang`; `None` for a key this build does not know.
    pub fn render(&self, lang: Lang) -> Option<String> {
        let (_, zh, en) = TEMPLATES.iter().find(|(k, _, _)| *k == self.key)?;
        let template = match lang {
            Lang::Zh => zh,
            Lang::En => en,
        };
        Some(fill(template, &self.params, lang))
    }

    /// Stored beside the rule's facts.
    pub fn into_details(self, mut details: Value) -> Value {
        if let Value::Object(d) = &mut details {
            d.insert("text".into(), json!(self));
        }
        details
    }
}

fn param(v: &Value, lang: Lang) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => {
            let k = match lang {
                Lang::Zh => "zh",
                Lang::En => "en",
            };
            o.get(k).map(|x| param(x, lang)).unwrap_or_default()
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn fill(template: &str, params: &Map<String, Value>, lang: Lang) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match params.get(name) {
                    Some(v) => out.push_str(&param(v, lang)),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// (key, Chinese, English).
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "exceedance",
        "{station} {parameter} {value} {unit}，为{class}，劣于目标{target}（限值 {limit}）",
        "{station} {parameter} {value} {unit} is {class}, worse than the target {target} (limit {limit})",
    ),
    (
        "exceedance_separate",
        "{station} {parameter} {value} {unit}，为{class}，劣于目标{target}（限值 {limit}）；单独报告，不参与站点类别评价",
        "{station} {parameter} {value} {unit} is {class}, worse than the target {target} (limit {limit}); reported on its own line, not in the station class",
    ),
    (
        "exceedance_clear",
        "{station} {parameter} 恢复至目标{target}以内（{value} {unit}）",
        "{station} {parameter} back within {target} ({value} {unit})",
    ),
    (
        "bloom",
        "{station} {stage}：{parameter} {value} {unit}（预警 ≥{alert}，水华 ≥{bloom}）",
        "{station} {stage}: {parameter} {value} {unit} (alert ≥{alert}, bloom ≥{bloom})",
    ),
    (
        "bloom_clear",
        "{station} {parameter} 已低于水华预警值（{value} {unit}）",
        "{station} {parameter} below the bloom alert level ({value} {unit})",
    ),
    (
        "fault",
        "{station} {parameter}：{faults}",
        "{station} {parameter}: {faults}",
    ),
    (
        "maintenance",
        "{station} 维护/校准中（标记 {flags}）：{parameters}",
        "{station} under maintenance or calibration (flag {flags}): {parameters}",
    ),
    (
        "fault_clear",
        "{station} {parameter}：数据恢复正常",
        "{station} {parameter}: readings are healthy again",
    ),
    (
        "offline",
        "{station} 离线：已 {silent_s} 秒无数据（限值 {limit_s} 秒）",
        "{station} is offline: no data for {silent_s} s (limit {limit_s} s)",
    ),
    ("online", "{station} 恢复在线", "{station} is back online"),
    (
        "bloom_coverage",
        "影像 {scene} 显示{basin}水华覆盖 {coverage}%（{area} km²，阈值 {limit}%）",
        "Scene {scene}: bloom covers {coverage}% of {basin} ({area} km², limit {limit}%)",
    ),
    (
        "bloom_near_intake",
        "影像 {scene} 显示取水口 {distance} 米内出现水华（阈值 {limit} 米）",
        "Scene {scene}: bloom {distance} m from the intake (limit {limit} m)",
    ),
    (
        "credential_guessing",
        "{station} 疑似密码猜测：来自 {peer} 的 HJ 212 错误密码 {failures} 次（{sources} 个地址）",
        "possible password guessing on station {station} from {peer}: {failures} wrong HJ 212 passwords from {sources} address(es)",
    ),
    (
        "trend",
        "{station} {parameter} {value} {unit} 正趋近目标{target}限值 {limit}：按 {slope} {unit}/h 约 {hours} 小时后达到",
        "{station} {parameter} {value} {unit} is heading for the {target} limit {limit}: reached in about {hours} h at {slope} {unit}/h",
    ),
    (
        "trend_reached",
        "{station} {parameter}：已达限值（见超标告警）",
        "{station} {parameter}: the limit is reached (see the exceedance alert)",
    ),
    (
        "trend_clear",
        "{station} {parameter}：不再趋近限值",
        "{station} {parameter}: no longer heading for the limit",
    ),
];

/// An alert's message in `lang`: its stored template, or the `message_zh`/`message_en` pair its
/// source wrote, or (older alerts) the stored message as it is.
pub fn message(details: &Value, stored: &str, lang: Lang) -> String {
    if let Some(t) = details
        .get("text")
        .and_then(|t| serde_json::from_value::<Text>(t.clone()).ok())
        .and_then(|t| t.render(lang))
    {
        return t;
    }
    let key = match lang {
        Lang::Zh => "message_zh",
        Lang::En => "message_en",
    };
    details
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| stored.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp() -> Text {
        Text::new("exceedance")
            .with("station", "R01")
            .with("parameter", both("总磷", "total phosphorus"))
            .with("value", 0.332)
            .with("unit", "mg/L")
            .with("class", both("Ⅴ类", "Class V"))
            .with("target", both("Ⅲ类", "Class III"))
            .with("limit", "≤0.2")
    }

    #[test]
    fn one_message_reads_in_both_languages() {
        assert_eq!(
            tp().render(Lang::Zh).as_deref(),
            Some("R01 总磷 0.332 mg/L，为Ⅴ类，劣于目标Ⅲ类（限值 ≤0.2）")
        );
        assert_eq!(
            tp().render(Lang::En).as_deref(),
            Some(
                "R01 total phosphorus 0.332 mg/L is Class V, worse than the target Class III (limit ≤0.2)"
            )
        );
    }

    #[test]
    fn stored_in_details_and_rendered_per_reader() {
        let d = tp().into_details(json!({"value": 0.332}));
        assert!(message(&d, "stored", Lang::Zh).contains("总磷"));
        assert!(message(&d, "stored", Lang::En).contains("total phosphorus"));
        let video = json!({"message_zh": "入侵", "message_en": "intrusion"});
        assert_eq!(message(&video, "x", Lang::Zh), "入侵");
        assert_eq!(message(&json!({}), "old", Lang::Zh), "old");
        assert_eq!(Text::new("no such key").render(Lang::Zh), None);
    }

    #[test]
    fn every_template_names_the_same_parameters_in_both_languages() {
        let names = |t: &str| {
            let mut v: Vec<String> = t
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        for (key, zh, en) in TEMPLATES {
            assert_eq!(names(zh), names(en), "{key}");
        }
    }
}
