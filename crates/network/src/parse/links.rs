//! A station's protocol links: `[[stations.links]]` tables, and `mn`/`pw`/`st` on the station
//! as the short form of one HJ 212 link. At most one link per protocol.

use super::{Check, Checker};
use crate::error::Problem;
use crate::model::{DeviceLink, Hj212Link};
use crate::raw::{RawLink, RawStation};
use std::collections::HashMap;
use toml::Spanned;

/// Characters that would break an HJ 212 frame if they appeared in MN, PW or ST.
fn is_frame_safe(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b'&' | b',' | b'=' | b'#'))
}

impl Checker<'_> {
    /// Every link of station `code`; a station with automatic instruments needs an HJ 212 one.
    pub(super) fn links(
        &self,
        s: &RawStation,
        code: &str,
        automatic: bool,
        mn_owner: &mut HashMap<String, String>,
        default_st: &str,
    ) -> Check<Vec<DeviceLink>> {
        let missing_hj212 = || {
            self.error(
                s.code.span(),
                Problem::MissingHj212 {
                    station: code.to_owned(),
                },
            )
        };
        let mut links = Vec::new();
        match (&s.mn, &s.pw) {
            (None, None) => {}
            (Some(mn), Some(pw)) => links.push(DeviceLink::Hj212(self.hj212_link(
                code,
                mn,
                pw,
                s.st.as_ref(),
                mn_owner,
                default_st,
            )?)),
            (Some(_), None) | (None, Some(_)) => return Err(missing_hj212()),
        }
        for link in &s.links {
            let parsed = self.link(code, link, mn_owner, default_st)?;
            if links.iter().any(|l| l.protocol() == parsed.protocol()) {
                return Err(self.error(
                    link.get_ref().protocol.span(),
                    Problem::DuplicateLink {
                        station: code.to_owned(),
                        protocol: parsed.protocol(),
                    },
                ));
            }
            links.push(parsed);
        }
        let has_hj212 = links.iter().any(|l| matches!(l, DeviceLink::Hj212(_)));
        if automatic && !has_hj212 {
            return Err(missing_hj212());
        }
        Ok(links)
    }

    /// One `[[stations.links]]` table.
    fn link(
        &self,
        code: &str,
        link: &Spanned<RawLink>,
        mn_owner: &mut HashMap<String, String>,
        default_st: &str,
    ) -> Check<DeviceLink> {
        let raw = link.get_ref();
        match raw.protocol.get_ref().as_str() {
            "hj212" => {
                let missing = |field| {
                    self.error(
                        link.span(),
                        Problem::MissingLinkField {
                            station: code.to_owned(),
                            protocol: "hj212",
                            field,
                        },
                    )
                };
                let mn = raw.mn.as_ref().ok_or_else(|| missing("mn"))?;
                let pw = raw.pw.as_ref().ok_or_else(|| missing("pw"))?;
                let h = self.hj212_link(code, mn, pw, raw.st.as_ref(), mn_owner, default_st)?;
                Ok(DeviceLink::Hj212(h))
            }
            other => Err(self.error(
                raw.protocol.span(),
                Problem::UnknownProtocol {
                    station: code.to_owned(),
                    protocol: other.to_owned(),
                },
            )),
        }
    }

    /// An HJ 212 link: MN, PW and ST frame-safe, the MN used by no other station.
    fn hj212_link(
        &self,
        code: &str,
        mn: &Spanned<String>,
        pw: &Spanned<String>,
        st: Option<&Spanned<String>>,
        mn_owner: &mut HashMap<String, String>,
        default_st: &str,
    ) -> Check<Hj212Link> {
        let mn_value = self.hj212_field("MN", mn, 24)?;
        let pw_value = self.hj212_field("PW", pw, 32)?;
        let st = match st {
            Some(st) => self.hj212_field("ST", st, 2)?,
            None => default_st.to_owned(),
        };
        if let Some(other) = mn_owner.get(&mn_value) {
            return Err(self.error(
                mn.span(),
                Problem::DuplicateMn {
                    mn: mn_value,
                    other_station: other.clone(),
                },
            ));
        }
        mn_owner.insert(mn_value.clone(), code.to_owned());
        Ok(Hj212Link {
            mn: mn_value,
            pw: pw_value,
            st,
        })
    }

    fn hj212_field(
        &self,
        what: &'static str,
        raw: &Spanned<String>,
        max_len: usize,
    ) -> Check<String> {
        let value = raw.get_ref();
        let reason = if !is_frame_safe(value) {
            Some("must be printable ASCII without ; & , = #")
        } else if value.len() > max_len {
            Some("too long")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(self.error(
                raw.span(),
                Problem::BadHj212Field {
                    what,
                    value: value.clone(),
                    reason,
                },
            )),
            None => Ok(value.clone()),
        }
    }
}
