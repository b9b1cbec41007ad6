//! Escaping record data, from one byte table for both kinds of line: a
//! JSON string (every control character, `"` and `\\`, and the line
//! separators U+2028/U+2029 escaped: one record is one line) and term text
//! (every control and format character made visible: record data can
//! neither forge a line nor reach the terminal raw). Pure; any thread.

use std::fmt;
use std::io::{self, Write as _};

/// The non-ASCII characters the term formats escape, as sorted ranges of
/// code points: the C1 controls, the line and paragraph separators, and
/// every format character (general category Cf) of Unicode 16.0, which a
/// terminal does not show but which change what it shows: bidirectional
/// controls reorder text (Trojan Source, CVE-2021-42574), zero-width ones
/// hide or join it. `tests/fixtures/unicode-cf.txt` lists Cf as the Unicode
/// Character Database does; a unit test compares the two.
pub(crate) const ESCAPED: &[(u32, u32)] = &[
    (0x80, 0x9f),       // C1 controls (Cc)
    (0xad, 0xad),       // soft hyphen
    (0x600, 0x605),     // Arabic number signs
    (0x61c, 0x61c),     // Arabic letter mark (bidi)
    (0x6dd, 0x6dd),     // Arabic end of ayah
    (0x70f, 0x70f),     // Syriac abbreviation mark
    (0x890, 0x891),     // Arabic pound and piastre marks above
    (0x8e2, 0x8e2),     // Arabic disputed end of ayah
    (0x180e, 0x180e),   // Mongolian vowel separator
    (0x200b, 0x200f),   // zero-width space, non-joiner, joiner; LRM, RLM (bidi)
    (0x2028, 0x2029),   // line and paragraph separators (Zl, Zp)
    (0x202a, 0x202e),   // bidi embeddings and overrides: LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x2064),   // word joiner, invisible operators
    (0x2066, 0x206f),   // bidi isolates LRI, RLI, FSI, PDI; deprecated format characters
    (0xfeff, 0xfeff),   // zero-width no-break space (byte order mark)
    (0xfff9, 0xfffb),   // interlinear annotation
    (0x110bd, 0x110bd), // Kaithi number sign
    (0x110cd, 0x110cd), // Kaithi number sign above
    (0x13430, 0x1343f), // Egyptian hieroglyph format controls
    (0x1bca0, 0x1bca3), // shorthand format controls
    (0x1d173, 0x1d17a), // musical symbol format controls
    (0xe0001, 0xe0001), // language tag
    (0xe0020, 0xe007f), // tag characters
];

/// The class bits of a byte ([`CLASS`]).
///
/// Starts something a JSON string escapes: C0, DEL, `"`, `\`, and the lead
/// bytes of C1 (0xC2 0x80..0x9F) and U+2028/U+2029 (0xE2 0x80 0xA8/0xA9).
const JSON: u8 = 1;
/// Escaped by itself in term text: C0, DEL, backslash.
const TERM_ASCII: u8 = 2;
/// The first byte of some character of [`ESCAPED`] (and of others): term
/// text looks the character up.
const TERM_LEAD: u8 = 4;
/// Something term text may escape.
const TERM: u8 = TERM_ASCII | TERM_LEAD;

/// The first UTF-8 byte of `c` (not ASCII).
const fn lead_byte(c: u32) -> usize {
    (if c < 0x800 {
        0xc0 | (c >> 6)
    } else if c < 0x10000 {
        0xe0 | (c >> 12)
    } else {
        0xf0 | (c >> 18)
    }) as usize
}

/// What each byte may start, for both escapers.
static CLASS: [u8; 256] = {
    let mut t = [0; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = JSON | TERM_ASCII;
        b += 1;
    }
    t[0x7f] = JSON | TERM_ASCII;
    t[b'\\' as usize] = JSON | TERM_ASCII;
    t[b'"' as usize] = JSON;
    t[0xc2] |= JSON;
    t[0xe2] |= JSON;
    let mut r = 0;
    while r < ESCAPED.len() {
        let mut c = ESCAPED[r].0;
        while c <= ESCAPED[r].1 {
            t[lead_byte(c)] |= TERM_LEAD;
            c += 1;
        }
        r += 1;
    }
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lowercase hex.
pub(crate) fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

/// JSON string bodies.
pub(crate) mod json {
    use super::*;

    /// Writes `s` as a JSON string.
    pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        escape(out, s.as_bytes());
        out.push(b'"');
    }

    /// Appends `s` (UTF-8) escaped for a JSON string, runs of safe bytes at once.
    pub(crate) fn escape(out: &mut Vec<u8>, s: &[u8]) {
        let mut start = 0;
        let mut i = 0;
        while i < s.len() {
            let b = s[i];
            if CLASS[b as usize] & JSON == 0 {
                i += 1;
                continue;
            }
            let (len, esc): (usize, Option<u32>) = match b {
                0xc2 => match s.get(i + 1) {
                    Some(&c) if (0x80..=0x9f).contains(&c) => (2, Some(u32::from(c))),
                    _ => (1, None),
                },
                0xe2 => match (s.get(i + 1), s.get(i + 2)) {
                    (Some(0x80), Some(&c)) if c == 0xa8 || c == 0xa9 => {
                        (3, Some(0x2000 + u32::from(c) - 0x80))
                    }
                    _ => (1, None),
                },
                _ => (1, Some(u32::from(b))),
            };
            let Some(cp) = esc else {
                i += len;
                continue;
            };
            out.extend_from_slice(&s[start..i]);
            match cp {
                0x22 => out.extend_from_slice(b"\\\""),
                0x5c => out.extend_from_slice(b"\\\\"),
                0x0a => out.extend_from_slice(b"\\n"),
                0x0d => out.extend_from_slice(b"\\r"),
                0x09 => out.extend_from_slice(b"\\t"),
                cp => {
                    out.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[(cp >> shift) as usize & 0xf]);
                    }
                }
            }
            i += len;
            start = i;
        }
        out.extend_from_slice(&s[start..]);
    }

    /// An `fmt::Write` that escapes what it is given into a JSON string body.
    pub(crate) struct Escaped<'a>(&'a mut Vec<u8>);

    impl<'a> Escaped<'a> {
        /// Starts a string: writes the opening quote.
        pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
            out.push(b'"');
            Escaped(out)
        }
    }

    impl fmt::Write for Escaped<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            escape(self.0, s.as_bytes());
            Ok(())
        }
    }

    impl io::Write for Escaped<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            escape(self.0, buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

/// Term text.
pub(crate) mod term {
    use super::*;

    /// Whether the non-ASCII character `c` is escaped ([`ESCAPED`]).
    #[inline]
    pub(crate) fn is_escaped(c: char) -> bool {
        let c = u32::from(c);
        ESCAPED
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Whether `s` may hold a character to escape: any byte below 0x20, DEL,
    /// backslash or non-ASCII (eight bytes at a time; non-ASCII text then takes
    /// the exact path).
    #[inline]
    fn suspect(s: &[u8]) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        let mut chunks = s.chunks_exact(8);
        for chunk in &mut chunks {
            let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
            let found = (x & HIGH)
                | below_space
                | has_zero(x ^ (ONES * 0x7f))
                | has_zero(x ^ (ONES * u64::from(b'\\')));
            if found != 0 {
                return true;
            }
        }
        chunks
            .remainder()
            .iter()
            .any(|&b| CLASS[usize::from(b)] & TERM != 0)
    }

    /// Appends `s` with every control and format character escaped (see
    /// [`TermFormat`](crate::drain::TermFormat)).
    #[inline]
    pub(crate) fn escape(out: &mut Vec<u8>, s: &str) {
        if suspect(s.as_bytes()) {
            escape_runs(out, s);
        } else {
            out.extend_from_slice(s.as_bytes());
        }
    }

    /// [`escape`] for text that may need it: each run of safe bytes is
    /// copied at once; only a character whose first byte may start an escaped
    /// one is decoded and looked up.
    fn escape_runs(out: &mut Vec<u8>, text: &str) {
        let s = text.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < s.len() {
            let class = CLASS[usize::from(s[i])];
            let (width, c) = match class {
                _ if class & TERM == 0 => {
                    i += 1;
                    continue;
                }
                _ if class & TERM_ASCII != 0 => (1, u32::from(s[i])),
                _ => {
                    // A lead byte: `i` is a character boundary of `text`.
                    let c = text[i..].chars().next().unwrap_or_default();
                    if !is_escaped(c) {
                        i += c.len_utf8().max(1);
                        continue;
                    }
                    (c.len_utf8(), u32::from(c))
                }
            };
            out.extend_from_slice(&s[start..i]);
            match c {
                0x0a => out.extend_from_slice(br"\n"),
                0x0d => out.extend_from_slice(br"\r"),
                0x09 => out.extend_from_slice(br"\t"),
                0x5c => out.extend_from_slice(br"\\"),
                c => {
                    let _ = write!(out, "\\u{{{c:x}}}");
                }
            }
            i += width;
            start = i;
        }
        out.extend_from_slice(&s[start..]);
    }

    /// Appends `args` (record data: a message, a `Display` value) escaped.
    pub(crate) fn escape_fmt(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
        /// A `fmt::Write` that escapes into a buffer.
        struct Escape<'a>(&'a mut Vec<u8>);

        impl fmt::Write for Escape<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                escape(self.0, s);
                Ok(())
            }
        }

        match args.as_str() {
            Some(s) => escape(out, s),
            // Writing into a Vec cannot fail; a Display impl that returns an
            // error leaves what it wrote so far.
            None => {
                let _ = fmt::write(&mut Escape(out), args);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::term::escape as escape_into;
    use super::*;

    fn esc(s: &str) -> String {
        let mut out = Vec::new();
        json::escape(&mut out, s.as_bytes());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_every_control_and_line_separator() {
        assert_eq!(esc("plain text é ü 日本"), "plain text é ü 日本");
        assert_eq!(esc("a\"b\\c"), r#"a\"b\\c"#);
        assert_eq!(esc("\n\r\t\u{0}\u{1b}"), r"\n\r\t\u0000\u001b");
        assert_eq!(esc("\u{7f}"), r"\u007f");
        assert_eq!(
            esc("\u{80}\u{85}\u{9f}\u{a0}"),
            "\\u0080\\u0085\\u009f\u{a0}"
        );
        assert_eq!(
            esc("\u{2027}\u{2028}\u{2029}\u{202a}"),
            "\u{2027}\\u2028\\u2029\u{202a}"
        );
        for c in (0u32..0x110000).filter_map(char::from_u32) {
            let e = esc(c.encode_utf8(&mut [0; 4]));
            let control = c.is_control() || c == '\u{2028}' || c == '\u{2029}';
            assert_eq!(
                e.starts_with('\\'),
                control || c == '"' || c == '\\',
                "{c:?} -> {e}"
            );
            let back: String = serde_json::from_str(&format!("\"{e}\"")).unwrap();
            assert_eq!(back, c.to_string());
        }
    }

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_every_control_character_visibly() {
        assert_eq!(escaped("a\nb\r\tc"), r"a\nb\r\tc");
        assert_eq!(escaped("\u{1b}[2J\u{7}"), r"\u{1b}[2J\u{7}");
        assert_eq!(escaped("\0\u{7f}"), r"\u{0}\u{7f}");
        assert_eq!(
            escaped("\u{80}x\u{85}\u{9b}\u{9f}"),
            r"\u{80}x\u{85}\u{9b}\u{9f}"
        );
        assert_eq!(escaped("a\u{2028}b\u{2029}"), r"a\u{2028}b\u{2029}");
        assert_eq!(escaped(r"C:\dir"), r"C:\\dir");
        // Trojan Source: what a reader sees is what the text holds.
        assert_eq!(
            escaped("admin\u{202e}\u{2066}// check\u{2069}\u{2066}"),
            r"admin\u{202e}\u{2066}// check\u{2069}\u{2066}"
        );
        assert_eq!(
            escaped("zero\u{200b}width\u{feff}\u{ad}é\u{e0041}"),
            r"zero\u{200b}width\u{feff}\u{ad}é\u{e0041}"
        );
        // Past the eight-byte chunks, and inside them.
        assert_eq!(escaped("0123456789abcdef\n"), r"0123456789abcdef\n");
        assert_eq!(escaped("0123\u{1b}56789abcdef"), r"0123\u{1b}56789abcdef");
    }

    /// The format characters (Cf) of Unicode 16.0, from the fixture (see
    /// `tests/fixtures/README.md`).
    fn format_characters() -> Vec<char> {
        let text = include_str!("../../tests/fixtures/unicode-cf.txt");
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (range, rest) = line.split_once(';').unwrap();
            assert!(rest.trim_start().starts_with("Cf"), "{line}");
            let range = range.trim();
            let (lo, hi) = range.split_once("..").unwrap_or((range, range));
            let (lo, hi) = (
                u32::from_str_radix(lo, 16).unwrap(),
                u32::from_str_radix(hi, 16).unwrap(),
            );
            out.extend((lo..=hi).map(|c| char::from_u32(c).unwrap()));
        }
        out
    }

    /// Whether `c` is escaped: C0, DEL, C1, U+2028, U+2029, a format
    /// character of `cf`.
    fn escapes(c: char, cf: &[char]) -> bool {
        c < ' '
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || c == '\u{2028}'
            || c == '\u{2029}'
            || cf.binary_search(&c).is_ok()
    }

    /// The escaping, one character at a time: the reference for the
    /// chunked scan.
    fn reference(s: &str) -> String {
        thread_local! {
            static CF: Vec<char> = format_characters();
        }
        CF.with(|cf| {
            s.chars()
                .map(|c| match c {
                    '\n' => r"\n".to_owned(),
                    '\r' => r"\r".to_owned(),
                    '\t' => r"\t".to_owned(),
                    '\\' => r"\\".to_owned(),
                    c if escapes(c, cf) => format!("\\u{{{:x}}}", c as u32),
                    c => c.to_string(),
                })
                .collect()
        })
    }

    #[test]
    fn every_format_character_is_escaped_and_nothing_else() {
        let cf = format_characters();
        assert_eq!(cf.len(), 170, "Unicode 16.0 has 170 Cf code points");
        assert!(cf.windows(2).all(|w| w[0] < w[1]), "sorted, each once");
        let mut escaped_count = 0;
        for c in (0u32..0x110000).filter_map(char::from_u32) {
            let text = c.encode_utf8(&mut [0; 4]).to_owned();
            let out = escaped(&text);
            // Also inside text, past the eight-byte chunks.
            let long = format!("0123456789{c}x");
            assert_eq!(escaped(&long), format!("0123456789{out}x"), "{c:?}");
            if matches!(c, '\n' | '\r' | '\t' | '\\') {
                assert_eq!(out, reference(&text), "{c:?}");
            } else if escapes(c, &cf) {
                assert_eq!(out, format!("\\u{{{:x}}}", c as u32), "{c:?}");
                escaped_count += 1;
            } else {
                assert_eq!(out, text, "{c:?} is not escaped");
            }
        }
        // C0 but \n \r \t (29), DEL, C1 (32), U+2028/9, Cf.
        assert_eq!(escaped_count, 29 + 1 + 32 + 2 + 170);
    }

    use proptest::prelude::*;

    /// One character that may need an escape.
    fn special() -> impl Strategy<Value = char> {
        prop_oneof![
            proptest::char::range('\0', ' '),
            proptest::char::range('\u{7f}', '\u{a0}'),
            proptest::sample::select(vec![
                '\\',
                '\u{2028}',
                '\u{2029}',
                '\u{2027}',
                '\u{202a}',
                'é',
                '\u{ad}',
                '\u{ae}',
                '\u{61c}',
                '\u{200b}',
                '\u{200f}',
                '\u{2010}',
                '\u{202e}',
                '\u{202f}',
                '\u{2069}',
                '\u{feff}',
                '\u{fffc}',
                '\u{1343f}',
                '\u{e0041}',
                '\u{e0080}',
            ]),
            any::<char>(),
        ]
    }

    proptest::proptest! {
        /// One special character anywhere in plain text (in an eight-byte
        /// chunk or in the remainder), and mixes of many.
        #[test]
        fn escaping_matches_the_reference_at_every_position(
            (before, c, after) in ("[ -~]{0,24}", special(), "[ -~]{0,24}"),
            mixed in proptest::collection::vec(
                prop_oneof![3 => proptest::char::range(' ', '~'), 1 => special()],
                0..40,
            )
        ) {
            let one = format!("{before}{c}{after}");
            prop_assert_eq!(escaped(&one), reference(&one));
            let mixed: String = mixed.into_iter().collect();
            prop_assert_eq!(escaped(&mixed), reference(&mixed));
        }
    }

    #[test]
    fn other_text_is_unchanged() {
        for s in [
            "",
            "plain ascii: 1, 2 = 3 {ok} ~ and more than eight bytes",
            "\u{a0}\u{bf}\u{c0}é ü ß", // after C1, lead byte 0xc2/0xc3
            "\u{2000}\u{2027}\u{202f}\u{2030}—…€", // lead byte 0xe2, not escaped
            "\u{ae}\u{5ff}\u{606}\u{1bca4}\u{e0080}\u{fffc}", // next to Cf ranges
            "عربي שלום",               // right-to-left scripts: their letters are no controls
            "日本語 😀",
        ] {
            assert_eq!(escaped(s), s);
        }
    }
}
