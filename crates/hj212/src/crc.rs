//! The HJ 212 checksum (reference §4) and the MODBUS variant some devices send instead.
//!
//! HJ 212 Appendix A calls it "ANSI CRC16", but it is neither CRC-16/ARC nor CRC-16/MODBUS: the
//! register is shifted right by 8 *before* each byte is mixed in, so only the high byte of the
//! register survives from one byte to the next. We use the table form `r = T[(r >> 8) ^ b]`,
//! which the reference states is equivalent to the bitwise definition (tested below).

/// Reflected CRC-16 table for polynomial 0xA001 (the same table MODBUS uses).
const TABLE: [u16; 256] = build_table();

const fn build_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = i as u16;
        let mut k = 0;
        while k < 8 {
            r = if r & 1 == 1 {
                (r >> 1) ^ 0xA001
            } else {
                r >> 1
            };
            k += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
}

/// HJ 212 CRC over the data segment bytes (from `QN=`/`ST=` to the closing `&&`).
pub fn hj212_crc(data: &[u8]) -> u16 {
    data.iter()
        .fold(0xFFFF, |r: u16, &b| TABLE[usize::from((r >> 8) as u8 ^ b)])
}

/// The HJ 212 CRC as char-based Java/C# implementations compute it: over UTF-16 code units,
/// each unit XORed whole into the register. Only used for stations with `text_units = utf16`.
pub fn hj212_crc_utf16(text: &str) -> u16 {
    text.encode_utf16().fold(0xFFFF, |r: u16, unit| {
        let mut r = (r >> 8) ^ unit;
        for _ in 0..8 {
            r = if r & 1 == 1 {
                (r >> 1) ^ 0xA001
            } else {
                r >> 1
            };
        }
        r
    })
}

/// CRC-16/MODBUS (init 0xFFFF, `r ^= b`), sent by some non-conforming devices (reference §15).
pub fn modbus_crc(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFF, |r: u16, &b| {
        (r >> 8) ^ TABLE[usize::from((r as u8) ^ b)]
    })
}

/// Four uppercase hex digits, high byte first, as the standard prints it.
pub fn format_crc(crc: u16) -> [u8; 4] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [
        HEX[usize::from(crc >> 12)],
        HEX[usize::from((crc >> 8) & 0xF)],
        HEX[usize::from((crc >> 4) & 0xF)],
        HEX[usize::from(crc & 0xF)],
    ]
}

/// Parses 4 hex digits in either case. Returns the value and whether any letter was lowercase.
pub fn parse_crc_field(field: &[u8]) -> Option<(u16, bool)> {
    if field.len() != 4 {
        return None;
    }
    let mut value = 0u16;
    let mut lowercase = false;
    for &c in field {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            b'a'..=b'f' => {
                lowercase = true;
                c - b'a' + 10
            }
            _ => return None,
        };
        value = (value << 4) | u16::from(digit);
    }
    Some((value, lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bitwise definition from reference §4, kept only to check the table form.
    fn bitwise(data: &[u8]) -> u16 {
        let mut r: u16 = 0xFFFF;
        for &b in data {
            r = (r >> 8) ^ u16::from(b);
            for _ in 0..8 {
                let low = r & 1;
                r >>= 1;
                if low == 1 {
                    r ^= 0xA001;
                }
            }
        }
        r
    }

    #[test]
    fn table_matches_reference_entries() {
        assert_eq!(TABLE[1], 0xC0C1);
        assert_eq!(TABLE[255], 0x4040);
    }

    #[test]
    fn table_form_equals_bitwise_form() {
        let inputs: [&[u8]; 4] = [b"", b"123456789", b"\xff\x00\x80&&", "清洗管路".as_bytes()];
        for input in inputs {
            assert_eq!(hj212_crc(input), bitwise(input));
        }
    }

    #[test]
    fn format_and_parse() {
        assert_eq!(&format_crc(0x1C80), b"1C80");
        assert_eq!(&format_crc(0x0A0B), b"0A0B");
        assert_eq!(parse_crc_field(b"7d00"), Some((0x7D00, true)));
        assert_eq!(parse_crc_field(b"7D00"), Some((0x7D00, false)));
        assert_eq!(parse_crc_field(b"7G00"), None);
        assert_eq!(parse_crc_field(b"7D0"), None);
    }
}
