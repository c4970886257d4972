//! The 20-digit GB/T 28181 code (国标编码, 2016 Annex D):
//! center(8) industry(2) type(3) network(1) serial(6).
//!
//! Validation is only "20 ASCII digits": many deployments keep vendor default
//! codes, so the fields are decoded for display, never required to be meaningful.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a 20-digit GB/T 28181 code: {0:?}")]
pub struct IdError(pub String);

impl DeviceId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(IdError(s.chars().take(40).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits 1–8: administrative division (GB/T 2260) plus grassroots digits.
    pub fn center(&self) -> &str {
        &self.0[0..8]
    }

    /// Digits 9–10: industry (43 = water production and supply).
    pub fn industry(&self) -> &str {
        &self.0[8..10]
    }

    /// Digits 11–13: device type (132 IPC, 118 NVR, 200 platform…).
    pub fn type_code(&self) -> u16 {
        // Three ASCII digits checked in `parse`, so this cannot fail.
        self.0[10..13].parse().unwrap_or_default()
    }

    /// Digit 14: network (7 = public network).
    pub fn network(&self) -> u8 {
        self.0.as_bytes()[13] - b'0'
    }

    /// Digits 15–20.
    pub fn serial(&self) -> &str {
        &self.0[14..20]
    }

    /// The conventional SIP domain (realm): the first 10 digits.
    pub fn domain(&self) -> &str {
        &self.0[0..10]
    }

    /// What the type code says the device is, in English.
    pub fn kind(&self) -> &'static str {
        match self.type_code() {
            111 => "dvr",
            112 => "video_server",
            113 => "encoder",
            118 => "nvr",
            131 => "camera",
            132 => "ipc",
            134 => "alarm_input",
            200 => "signalling_server",
            215 => "business_group",
            216 => "virtual_organisation",
            114..=130 => "front_end_device",
            133..=199 => "peripheral",
            201..=299 => "platform",
            _ => "other",
        }
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
