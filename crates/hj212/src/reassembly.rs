//! Split-frame (拆分包) reassembly as a pure state machine (reference §2.3).
//!
//! By default every sub-packet is a standalone record (each has its own QN and gets its own
//! 9014; storage merges on the observation key), so frames pass straight through. For
//! `concat_split_cp` stations, whose devices cut CP in the middle of an item, the decoder leaves
//! CP unparsed and this machine joins the CP bodies in PNO order once all parts are in.
//! Time is passed in by the caller (any monotonic milliseconds), which keeps this module pure.

use crate::codes::{Cn, Flag};
use crate::cp::Cp;
use crate::error::Hj212Error;
use crate::frame::Hj212Frame;
use crate::segment::DataSegment;

/// Result of offering a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reassembly {
    /// A complete record: the frame itself, or the merged sub-packets.
    Complete(DataSegment),
    /// A part was stored; more are expected.
    Pending,
}

/// An incomplete group dropped by [`SplitReassembler::expire`] or evicted for room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteSplit {
    pub mn: String,
    pub cn: Cn,
    pub pnum: u16,
    /// PNOs that had arrived.
    pub received: Vec<u16>,
}

#[derive(Debug)]
struct Group {
    mn: String,
    cn: Cn,
    pnum: u16,
    first_seen_ms: u64,
    /// Index PNO-1: (header of that part, raw CP body).
    parts: Vec<Option<(DataSegment, String)>>,
}

impl Group {
    fn incomplete(&self) -> IncompleteSplit {
        IncompleteSplit {
            mn: self.mn.clone(),
            cn: self.cn,
            pnum: self.pnum,
            received: (1..=self.pnum)
                .zip(&self.parts)
                .filter_map(|(pno, part)| part.as_ref().map(|_| pno))
                .collect(),
        }
    }
}

/// Buffers the parts of split uploads of `concat_split_cp` stations, bounded in groups and age.
#[derive(Debug)]
pub struct SplitReassembler {
    max_groups: usize,
    timeout_ms: u64,
    groups: Vec<Group>,
    evicted: Vec<IncompleteSplit>,
}

impl Default for SplitReassembler {
    /// 64 open groups, 10 minutes (a split upload arrives within seconds; retries within 30 s).
    fn default() -> Self {
        SplitReassembler::new(64, 10 * 60 * 1000)
    }
}

impl SplitReassembler {
    pub fn new(max_groups: usize, timeout_ms: u64) -> SplitReassembler {
        SplitReassembler {
            max_groups: max_groups.max(1),
            timeout_ms,
            groups: Vec::new(),
            evicted: Vec::new(),
        }
    }

    /// Number of open groups.
    pub fn pending(&self) -> usize {
        self.groups.len()
    }

    /// Offers a decoded frame. Frames whose CP was parsed (unsplit, or standalone mode) come back
    /// at once. Parts are keyed by (MN, CN, PNUM); a resent part replaces the earlier copy.
    /// An error means the joined CP did not parse; the group is dropped.
    pub fn offer(&mut self, frame: &Hj212Frame, now_ms: u64) -> Result<Reassembly, Hj212Error> {
        let segment = &frame.segment;
        let split = match segment.split {
            Some(split) if frame.cp_deferred => split,
            _ => return Ok(Reassembly::Complete(segment.clone())),
        };
        let body = frame.cp_body().unwrap_or_default().to_string();
        let index = match self
            .groups
            .iter()
            .position(|g| g.mn == segment.mn && g.cn == segment.cn && g.pnum == split.pnum)
        {
            Some(index) => index,
            None => {
                if self.groups.len() >= self.max_groups {
                    let oldest = self.groups.remove(0);
                    self.evicted.push(oldest.incomplete());
                }
                self.groups.push(Group {
                    mn: segment.mn.clone(),
                    cn: segment.cn,
                    pnum: split.pnum,
                    first_seen_ms: now_ms,
                    parts: vec![None; usize::from(split.pnum)],
                });
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[index];
        if let Some(slot) = group.parts.get_mut(usize::from(split.pno) - 1) {
            let mut header = segment.clone();
            header.cp = Cp::default();
            *slot = Some((header, body));
        }
        if group.parts.iter().any(Option::is_none) {
            return Ok(Reassembly::Pending);
        }
        let group = self.groups.remove(index);
        let mut parts = group.parts.into_iter().flatten();
        let Some((mut merged, mut cp_text)) = parts.next() else {
            return Ok(Reassembly::Pending);
        };
        // Raw concatenation: the device cut the CP text wherever its buffer was full.
        parts.for_each(|(_, body)| cp_text.push_str(&body));
        merged.cp = Cp::parse(&cp_text)?;
        merged.split = None;
        merged.flag = merged.flag.map(|f| Flag(f.0 & !Flag::D));
        Ok(Reassembly::Complete(merged))
    }

    /// Drops groups older than the timeout, and returns them with any evicted for room.
    pub fn expire(&mut self, now_ms: u64) -> Vec<IncompleteSplit> {
        let timeout = self.timeout_ms;
        let (old, keep): (Vec<Group>, Vec<Group>) = std::mem::take(&mut self.groups)
            .into_iter()
            .partition(|g| now_ms.saturating_sub(g.first_seen_ms) >= timeout);
        self.groups = keep;
        let mut out = std::mem::take(&mut self.evicted);
        out.extend(old.iter().map(Group::incomplete));
        out
    }
}
