//! Text forms of IPv4 addresses, as `inet_addr` and `inet_pton` read them.

use std::net::Ipv4Addr;

/// `inet_addr`'s reading (Doc: inet_addr function): "a.b.c.d", "a.b.c" (c fills 16 bits),
/// "a.b" (b fills 24 bits) or "a" (32 bits), each part decimal, octal (leading `0`) or
/// hexadecimal (`0x`). `None` is `INADDR_NONE`: a part too large, a bad digit, or an empty
/// string (Windows Server 2003 and later; XP returned `INADDR_ANY` for it).
pub fn inet_addr(text: &[u8]) -> Option<Ipv4Addr> {
    let text = std::str::from_utf8(text).ok()?;
    // A trailing space or tab ends the address, as in the BSD routine Windows follows.
    let text = text.split([' ', '\t']).next().unwrap_or("");
    let parts: Vec<u32> = text.split('.').map(part).collect::<Option<_>>()?;
    let value = match parts.as_slice() {
        [a] => *a,
        [a, b] if *a <= 0xff && *b <= 0xff_ffff => a << 24 | b,
        [a, b, c] if *a <= 0xff && *b <= 0xff && *c <= 0xffff => a << 24 | b << 16 | c,
        [a, b, c, d] if [a, b, c, d].iter().all(|p| **p <= 0xff) => a << 24 | b << 16 | c << 8 | d,
        _ => return None,
    };
    Some(Ipv4Addr::from(value))
}

/// One part of an `inet_addr` address, in its radix.
fn part(text: &str) -> Option<u32> {
    let (digits, radix) = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        (hex, 16)
    } else if text.len() > 1 && text.starts_with('0') {
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// `inet_pton(AF_INET, ...)`'s reading: exactly four decimal parts from 0 to 255, with no
/// leading zeros.
pub fn inet_pton4(text: &[u8]) -> Option<Ipv4Addr> {
    let text = std::str::from_utf8(text).ok()?;
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let p = parts.next()?;
        let well_formed = !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
        if !well_formed || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        *octet = p.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_addr_reads_every_form_windows_documents() {
        let table: &[(&str, Option<[u8; 4]>)] = &[
            ("192.0.2.1", Some([192, 0, 2, 1])),
            ("127.1", Some([127, 0, 0, 1])),
            ("10.1.258", Some([10, 1, 1, 2])),
            ("0x7f.0.0.01", Some([127, 0, 0, 1])),
            ("010.0.0.1", Some([8, 0, 0, 1])),
            ("3221225985", Some([192, 0, 2, 1])),
            ("255.255.255.255", Some([255, 255, 255, 255])),
            ("192.0.2.1 trailing", Some([192, 0, 2, 1])),
            ("", None),
            ("256.0.0.1", None),
            ("1.2.3.4.5", None),
            ("1..2.3", None),
            ("0x", None),
            ("08.1.1.1", None),
            ("a.b.c.d", None),
        ];
        for &(text, expected) in table {
            assert_eq!(inet_addr(text.as_bytes()), expected.map(Ipv4Addr::from), "{text:?}");
        }
    }

    #[test]
    fn inet_pton_reads_only_the_strict_dotted_quad() {
        let table: &[(&str, Option<[u8; 4]>)] = &[
            ("192.0.2.1", Some([192, 0, 2, 1])),
            ("0.0.0.0", Some([0, 0, 0, 0])),
            ("127.1", None),
            ("01.2.3.4", None),
            ("1.2.3.256", None),
            ("1.2.3.4 ", None),
            ("0x1.2.3.4", None),
            ("1.2.3.4.5", None),
        ];
        for &(text, expected) in table {
            assert_eq!(inet_pton4(text.as_bytes()), expected.map(Ipv4Addr::from), "{text:?}");
        }
    }
}
