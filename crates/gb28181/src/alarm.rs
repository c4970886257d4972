//! The reference's Alarm method/type table (video.md §1.7): which alarms are intrusions,
//! which are video faults, and their labels.

use crate::manscdp::Alarm;

/// What an alarm means for the platform, from the reference's method/type table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmClass {
    /// Video alarm 5 tripwire, 6 intrusion, 8 loitering.
    Intrusion,
    /// Device alarm 1 video loss, 2 tamper, 3 disk full; video 13 occlusion; fault 1 disk.
    VideoFault,
    Other,
}

impl Alarm {
    pub fn class(&self) -> AlarmClass {
        let t = self.alarm_type;
        for m in &self.methods {
            match (m, t) {
                (5, Some(5 | 6 | 8)) => return AlarmClass::Intrusion,
                (2, Some(1..=3)) | (5, Some(13)) | (6, Some(1)) => return AlarmClass::VideoFault,
                _ => {}
            }
        }
        AlarmClass::Other
    }

    /// English label of the alarm type for messages (`tripwire`, `video_loss`…).
    pub fn type_label(&self) -> &'static str {
        let t = self.alarm_type.unwrap_or(0);
        for m in &self.methods {
            let l = match (m, t) {
                (5, 5) => "tripwire",
                (5, 6) => "intrusion",
                (5, 8) => "loitering",
                (5, 13) => "image_occlusion",
                (2, 1) => "video_loss",
                (2, 2) => "tamper",
                (2, 3) => "disk_full",
                (6, 1) => "disk_fault",
                _ => continue,
            };
            return l;
        }
        "other"
    }
}
