//! What the collector answered (exporter thread): the records a partial
//! success rejected, and how long a `Retry-After` asks to wait.

use std::time::{Duration, SystemTime};

/// The rejected records of an `ExportLogsServiceResponse`'s
/// `partial_success` (field 1: `rejected_log_records` = 1, `error_message`
/// = 2), protobuf or JSON; `None` without one.
pub(super) fn partial_success(body: &[u8], json: bool) -> Option<u64> {
    if json {
        let text = std::str::from_utf8(body).ok()?;
        let at = text.find("\"rejectedLogRecords\"")?;
        let rest = &text[at + "\"rejectedLogRecords\"".len()..];
        let digits: String = rest
            .chars()
            .skip_while(|c| *c == ':' || *c == '"' || c.is_whitespace())
            .take_while(char::is_ascii_digit)
            .collect();
        let n = digits.parse().ok()?;
        return (n > 0).then_some(n);
    }
    let inner = proto_field(body, 1)?;
    let n = proto_varint_field(inner, 1).unwrap_or(0);
    (n > 0).then_some(n)
}

/// Reads a varint at the start of `b`: its value and length.
fn read_varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Walks the fields of a message: `(field, wire type, value or bytes)`.
fn proto_fields(mut b: &[u8], mut f: impl FnMut(u64, u64, u64, &[u8]) -> bool) -> Option<()> {
    while !b.is_empty() {
        let (key, n) = read_varint(b)?;
        b = &b[n..];
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                let (v, n) = read_varint(b)?;
                b = &b[n..];
                if f(field, wire, v, &[]) {
                    return Some(());
                }
            }
            1 => b = b.get(8..)?,
            5 => b = b.get(4..)?,
            2 => {
                let (len, n) = read_varint(b)?;
                let end = n.checked_add(usize::try_from(len).ok()?)?;
                let bytes = b.get(n..end)?;
                b = &b[end..];
                if f(field, wire, 0, bytes) {
                    return Some(());
                }
            }
            _ => return None,
        }
    }
    Some(())
}

fn proto_field(b: &[u8], field: u64) -> Option<&[u8]> {
    let mut found = None;
    proto_fields(b, |f, w, _, bytes| {
        if f == field && w == 2 {
            found = Some(bytes.as_ptr() as usize - b.as_ptr() as usize..bytes.len());
            true
        } else {
            false
        }
    })?;
    found.map(|r| &b[r.start..r.start + r.end])
}

fn proto_varint_field(b: &[u8], field: u64) -> Option<u64> {
    let mut found = None;
    proto_fields(b, |f, w, v, _| {
        if f == field && w == 0 {
            found = Some(v);
            true
        } else {
            false
        }
    })?;
    found
}

/// A `Retry-After` value (RFC 9110 10.2.3): delay-seconds (any number of
/// digits: one past `u64` is as long as the longest wait) or an HTTP-date
/// (in any of the three formats RFC 9110 requires a recipient to read), as
/// the time to wait from `now` (a date in the past: none). `None` for
/// anything else. The caller bounds the wait ([`MAX_RETRY_AFTER`](super::MAX_RETRY_AFTER)).
pub(super) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::partial_success;

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        use super::retry_after;
        use std::time::{Duration, UNIX_EPOCH};
        // 2015-10-21T07:28:00Z, RFC 9110's example date.
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let s = Duration::from_secs;
        assert_eq!(retry_after("120", now), Some(s(120)));
        assert_eq!(retry_after(" 0 ", now), Some(s(0)));
        assert_eq!(
            retry_after("99999999999999999999999", now),
            Some(s(u64::MAX))
        );
        for date in [
            "Wed, 21 Oct 2015 07:28:30 GMT",     // IMF-fixdate
            "Wednesday, 21-Oct-15 07:28:30 GMT", // obsolete RFC 850
            "Wed Oct 21 07:28:30 2015",          // asctime
        ] {
            assert_eq!(retry_after(date, now), Some(s(30)), "{date}");
        }
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(s(0))
        );
        for bad in ["", "-1", "1.5", "soon", "Wed, 32 Oct 2015 07:28:30 GMT"] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn partial_successes_are_read() {
        // partial_success { rejected_log_records: 3, error_message: "bad" }
        let inner = [0x08, 0x03, 0x12, 0x03, b'b', b'a', b'd'];
        let mut body = vec![0x0a, inner.len() as u8];
        body.extend_from_slice(&inner);
        assert_eq!(partial_success(&body, false), Some(3));
        assert_eq!(partial_success(&[], false), None);
        assert_eq!(partial_success(&[0xff], false), None);
        let json = br#"{"partialSuccess":{"rejectedLogRecords":"7","errorMessage":"x"}}"#;
        assert_eq!(partial_success(json, true), Some(7));
        assert_eq!(partial_success(b"{}", true), None);
    }
}
