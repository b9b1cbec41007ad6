//! The term formats (`full`, `compact`) escape record data (issue 11): a
//! message, key, value or child-logger value can neither forge a line nor
//! send an escape sequence to the terminal, piped or on a pseudo-terminal
//! with colors, through slog and through the `log` bridge. Nor can it reach
//! the terminal with an invisible character (issue 19): every format
//! character (Unicode general category Cf: bidirectional controls, the
//! "Trojan Source" class of CVE-2021-42574, zero-width characters, tags) is
//! shown as `\u{202e}`, as controls are.
//!
//! `init()` installs process-wide state (the global logger, the `log`
//! bridge) and colors need a terminal on stdout, so those scenarios run in a
//! fresh copy of this binary (`SLOG_HOST_SCENARIO`); the others run pipelines
//! in this process with `global(false)`.
//!
//! The term formats write the host fields once, in a banner before the first
//! record (`term_banner.rs`): every check here first makes sure the
//! banner is there and holds no raw control character (the hostile child's
//! banner shows a hostile `OTEL_RESOURCE_ATTRIBUTES` value), then looks at
//! the records after it.
//!
//! A suite of the `format` test binary (`main.rs`, `harness = false`).

use crate::support::{capture, pty, runner};

use std::fmt::Write as _;
use std::process::{Command, Stdio};

use capture::Buf;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use slog::{crit, error, info, o, warn, Level, Logger};
use slog_host::{Builder, Format, LogGuard, Output};

/// `hostile` or `benign`: which data the `inject` scenario logs.
const DATA: &str = "SLOG_HOST_DATA";

/// A fake record, as the attacker would like it to appear on its own line.
const FORGED: &str = "Jan 01 00:00:00.000 CRIT FORGED admin login";

/// The injection cases: line forging (CWE-117) and terminal escapes (CWE-150).
fn hostile() -> Vec<String> {
    [
        "a\nJan 01 00:00:00.000 CRIT FORGED admin login",
        "a\r\nJan 01 00:00:00.000 CRIT FORGED admin login",
        "ok\rJan 01 00:00:00.000 CRIT FORGED admin login",
        "\u{1b}]0;pwned title\u{7}", // OSC: sets the window title
        "\u{1b}]8;;https://evil.example\u{1b}\\x", // OSC 8 hyperlink, ST
        "\u{1b}[2J\u{1b}[H",         // clears the screen
        "\u{1b}[1A\u{1b}[2Kerased the line above", // cursor up, erase line
        "\u{1b}P+q544e\u{1b}\\",     // DCS query
        "\u{9b}31mC1 CSI\u{9d}0;C1 OSC\u{9c}", // 8-bit controls
        "next\u{85}line",            // NEL
        "line\u{2028}separator\u{2029}paragraph",
        "tab\tnul\0del\u{7f}bell\u{7}bs\u{8}vt\u{b}ff\u{c}fs\u{1c}",
        r"back\slash \n \u{1b} stays text",
        // Trojan Source (CVE-2021-42574): RLO, and isolates that make a
        // terminal show `admin; // user` for text that ends `// user; admin`.
        "user=\u{202e}nimda\u{202c} ok",
        "\u{2067}\u{2066}admin\u{2069}\u{2066}// user\u{2069}\u{2069}",
        // Zero-width and invisible characters: `admin` that is not `admin`.
        "ad\u{200b}min \u{200c}\u{200d}\u{2060}\u{feff}\u{ad}\u{180e}",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format_characters().into_iter().collect()])
    .collect()
}

/// Every format character (general category Cf) of Unicode 16.0, from
/// `tests/fixtures/unicode-cf.txt` (its source: `tests/fixtures/README.md`).
fn format_characters() -> Vec<char> {
    let text = include_str!("../fixtures/unicode-cf.txt");
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let range = line.split(';').next().unwrap().trim();
        let (lo, hi) = range.split_once("..").unwrap_or((range, range));
        let (lo, hi) = (
            u32::from_str_radix(lo, 16).unwrap(),
            u32::from_str_radix(hi, 16).unwrap(),
        );
        out.extend((lo..=hi).map(|c| char::from_u32(c).unwrap()));
    }
    assert_eq!(out.len(), 170, "the fixture lists Unicode 16.0's Cf");
    out
}

/// As many strings as [`hostile`], without special characters.
fn benign() -> Vec<String> {
    (0..hostile().len())
        .map(|i| format!("benign {i}"))
        .collect()
}

/// Records logged per datum by [`log_cases`] (the `log` bridge adds more).
const SLOG_RECORDS: usize = 5;
/// Records logged per datum through the `log` crate in the `inject` child.
const LOG_RECORDS: usize = 2;

/// Logs each datum as a message, a value (`&str` and `Display`), a key and a
/// child-logger value; each child logger's record is the datum's last.
fn log_cases(log: &Logger, data: &[String]) {
    for (i, s) in data.iter().enumerate() {
        info!(log, "{}", s);
        info!(log, "value case"; "v" => s.as_str());
        warn!(log, "display case"; "v" => %s);
        // slog keys are `&'static str`; a test may leak a few.
        let key: &'static str = Box::leak(format!("k{i}{s}").into_boxed_str());
        error!(log, "key case"; key => i);
        let child = log.new(o!("peer" => s.clone()));
        crit!(child, "child logger case");
    }
}

/// How a term format shows `s`: the reference for the crate's escaping.
fn visible(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '\\' => out.push_str(r"\\"),
            c if is_control(c) => write!(out, "\\u{{{:x}}}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`visible`]: a reader can recover the text.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                assert_eq!(chars.next(), Some('{'), "in {s:?}");
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let code = u32::from_str_radix(&hex, 16).unwrap();
                out.push(char::from_u32(code).unwrap());
            }
            other => panic!("unknown escape \\{other:?} in {s:?}"),
        }
    }
    out
}

/// C0, DEL, C1, U+2028, U+2029, and the format characters (Cf): what a
/// term format never writes raw.
fn is_control(c: char) -> bool {
    thread_local! {
        static CF: Vec<char> = format_characters();
    }
    c < ' '
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || c == '\u{2028}'
        || c == '\u{2029}'
        || (c > '\u{9f}' && CF.with(|cf| cf.contains(&c)))
}

/// Fails unless `out` is UTF-8 whose only control character is the `\n`
/// ending each line; returns its lines.
fn clean_lines(out: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(out).map_err(|e| format!("not UTF-8: {e}"))?;
    if let Some(c) = text.chars().find(|c| *c != '\n' && is_control(*c)) {
        return Err(format!("raw control {c:?} in {text:?}"));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(format!("unterminated last line in {text:?}"));
    }
    Ok(text.lines().map(str::to_owned).collect())
}

/// A hostile resource attribute (percent-encoded for
/// `OTEL_RESOURCE_ATTRIBUTES`): the banner shows it, escaped.
const HOSTILE_ATTRIBUTE: &str = "evil=a%0AJan 01 00:00:00.000 CRIT FORGED admin login%1B%5B2J";

/// The lines after the banner, which must come first: the term formats
/// show the host fields once, before the first record (`host fields`,
/// `process.pid: ...`), not on every record.
fn after_banner(lines: Vec<String>) -> Result<Vec<String>, String> {
    let banner = lines.first().map_or("", String::as_str);
    let is_banner = banner.contains(&format!(
        " INFO slog_host: {}, host.name: ",
        slog_host::format::BANNER_MESSAGE
    )) && banner.contains(", process.pid: ");
    if !is_banner {
        return Err(format!("the first line is not the banner: {lines:?}"));
    }
    if let Some(l) = lines[1..].iter().find(|l| l.contains("process.pid")) {
        return Err(format!("host fields on a record in banner mode: {l:?}"));
    }
    Ok(lines[1..].to_vec())
}

/// The banner of the `inject` child with hostile data shows the hostile
/// attribute, escaped, on its one line.
fn banner_shows_the_attribute_escaped(out: &[u8]) -> Result<(), String> {
    let lines = clean_lines(out)?;
    let shown = format!(
        ", evil: {}",
        visible("a\nJan 01 00:00:00.000 CRIT FORGED admin login\u{1b}[2J")
    );
    match lines.first() {
        Some(banner) if banner.contains(&shown) => Ok(()),
        _ => Err(format!("no {shown:?} in the banner: {lines:?}")),
    }
}

/// Checks the output of [`log_cases`] (and `log_records` records per datum
/// from the `log` crate) in `format`.
fn check_cases(
    format: &str,
    out: &[u8],
    data: &[String],
    log_records: usize,
) -> Result<(), String> {
    let lines = after_banner(clean_lines(out)?)?;
    let text = lines.join("\n");
    let records = data.len() * (SLOG_RECORDS + log_records);
    // Compact writes a child logger's fields on a line of their own when they
    // change: here, once per child logger.
    let context = if format == "compact" { data.len() } else { 0 };
    if lines.len() != records + context {
        return Err(format!(
            "{format}: {} lines for {records} records and {context} context lines:\n{text}",
            lines.len()
        ));
    }
    if let Some(l) = lines.iter().find(|l| l.trim_start().starts_with(FORGED)) {
        return Err(format!("{format}: forged line {l:?}"));
    }
    for s in data {
        let shown = visible(s);
        for expected in [
            format!(" INFO format::term_escape: {shown}"),
            format!("value case, v: {shown}"),
            format!("display case, v: {shown}"),
        ] {
            if !lines.iter().any(|l| l.contains(&expected)) {
                return Err(format!("{format}: no line has {expected:?}:\n{text}"));
            }
        }
        if !lines
            .iter()
            .any(|l| l.contains("key case") && l.contains(&shown))
        {
            return Err(format!("{format}: key {shown:?} not shown:\n{text}"));
        }
        let child = if format == "compact" {
            lines.iter().any(|l| *l == format!("peer: {shown}"))
        } else {
            lines.iter().any(|l| {
                l.contains("child logger case") && l.ends_with(&format!(", peer: {shown}"))
            })
        };
        if !child {
            return Err(format!(
                "{format}: child value {shown:?} not shown:\n{text}"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- children

fn child(name: &str) {
    match name {
        "inject" => {
            let data = match std::env::var(DATA).as_deref() {
                Ok("benign") => benign(),
                _ => hostile(),
            };
            let guard = slog_host::init().unwrap();
            log_cases(guard.logger(), &data);
            for s in &data {
                log::info!("{s}");
                log::warn!("log value {s}");
            }
            drop(guard);
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn command(format: &str, data: &str) -> Command {
    let mut cmd = runner::scenario_command("inject", &[]);
    cmd.env(DATA, data)
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            if data == "hostile" {
                HOSTILE_ATTRIBUTE
            } else {
                "evil=benign"
            },
        )
        .env("LOG_FORMAT", format)
        .env("LOG_FLOOD", "off")
        .env("TERM", "xterm-256color");
    cmd
}

// ---------------------------------------------------------------- tests

/// slog and `log` records, piped (no colors): lines == records, no escape
/// sequence, no raw control character.
fn injected_data_stays_one_escaped_line_per_record_when_piped() -> Result<(), String> {
    for format in ["full", "compact"] {
        let out = command(format, "hostile")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        check_cases(format, &out.stdout, &hostile(), LOG_RECORDS)?;
        banner_shows_the_attribute_escaped(&out.stdout)?;
    }
    Ok(())
}

/// The escape sequences in `out`, and `out` without them. Only SGR (`ESC [
/// digits ; m`) and `ESC ( B` (part of xterm's reset) are accepted.
fn color_sequences(out: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<u8>), String> {
    let (mut seqs, mut rest) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < out.len() {
        if out[i] != 0x1b {
            rest.push(out[i]);
            i += 1;
            continue;
        }
        let len = match out.get(i + 1) {
            Some(b'(') if out.get(i + 2) == Some(&b'B') => 3,
            Some(b'[') => {
                let params = out[i + 2..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit() || **b == b';')
                    .count();
                if out.get(i + 2 + params) != Some(&b'm') {
                    return Err(format!("not a color: {:?}", seq_text(&out[i..])));
                }
                params + 3
            }
            _ => return Err(format!("not a color: {:?}", seq_text(&out[i..]))),
        };
        seqs.push(out[i..i + len].to_vec());
        i += len;
    }
    Ok((seqs, rest))
}

fn seq_text(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(12)]).into_owned()
}

/// On a pseudo-terminal with colors: the only escape sequences are the
/// decorator's colors, exactly the ones the same records with benign data
/// get; without them the output passes the piped checks. With `NO_COLOR`
/// there is no escape byte at all.
fn on_a_terminal_injected_data_gets_only_the_colors_benign_data_gets() -> Result<(), String> {
    for format in ["full", "compact"] {
        let run = |data: &str, no_color: bool| {
            let mut cmd = command(format, data);
            if no_color {
                cmd.env("NO_COLOR", "1");
            }
            let (status, out, err) = pty::run(cmd).map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(String::from_utf8_lossy(&err).into_owned());
            }
            Ok(out)
        };
        let hostile_out = run("hostile", false)?;
        let (colors, rest) = color_sequences(&hostile_out)?;
        let (benign_colors, _) = color_sequences(&run("benign", false)?)?;
        if colors.is_empty() {
            return Err(format!(
                "{format}: no colors on the terminal (terminfo for xterm-256color?)"
            ));
        }
        if colors != benign_colors {
            return Err(format!(
                "{format}: {} escape sequences with hostile data, {} with benign data",
                colors.len(),
                benign_colors.len()
            ));
        }
        check_cases(format, &rest, &hostile(), LOG_RECORDS)?;

        let plain = run("hostile", true)?;
        if plain.contains(&0x1b) {
            return Err(format!("{format} NO_COLOR: an escape byte on the terminal"));
        }
        check_cases(format, &plain, &hostile(), LOG_RECORDS)?;
        banner_shows_the_attribute_escaped(&plain)?;
    }
    Ok(())
}

fn pipeline(format: Format, out: &Buf) -> LogGuard {
    Builder::new()
        .global(false)
        .format(format)
        .filter("trace")
        .unwrap()
        .flood(None)
        .output(Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap()
}

/// The same cases through `Builder` with a writer output, in this process.
fn injected_data_stays_one_escaped_line_per_record_through_a_writer() -> Result<(), String> {
    for (format, name) in [(Format::Full, "full"), (Format::Compact, "compact")] {
        let out = Buf::default();
        let guard = pipeline(format, &out);
        log_cases(guard.logger(), &hostile());
        drop(guard);
        check_cases(name, &out.0.lock().unwrap(), &hostile(), 0)?;
    }
    Ok(())
}

/// Term formats keep slog-term's short level names, after the timestamp.
fn term_formats_keep_short_level_names() -> Result<(), String> {
    for format in [Format::Full, Format::Compact] {
        let out = Buf::default();
        let guard = pipeline(format, &out);
        let log = guard.logger();
        // slog's macros compile TRACE out of this build; `Logger::log` does not.
        macro_rules! at {
            ($($level:ident),*) => {
                $(log.log(&slog::record!(Level::$level, "", &format_args!("m"), slog::b!()));)*
            };
        }
        at!(Trace, Debug, Info, Warning, Error, Critical);
        drop(guard);
        let levels: Vec<String> = after_banner(clean_lines(&out.0.lock().unwrap())?)?
            .iter()
            .map(|l| level_and_rest(l).0.to_owned())
            .collect();
        if levels != ["TRCE", "DEBG", "INFO", "WARN", "ERRO", "CRIT"] {
            return Err(format!("{format:?}: {levels:?}"));
        }
    }
    Ok(())
}

/// A record line's level and what follows it, whatever the timestamp's
/// layout: the first level name between spaces (the timestamp holds none).
/// The level of a term line and what follows its target (`LEVEL target: `).
fn level_and_rest(line: &str) -> (&str, &str) {
    ["TRCE", "DEBG", "INFO", "WARN", "ERRO", "CRIT"]
        .iter()
        .filter_map(|l| line.find(&format!(" {l} ")).map(|at| (at, *l)))
        .min()
        .map_or(("", ""), |(at, l)| {
            let rest = &line[at + l.len() + 2..];
            (
                l,
                rest.strip_prefix("format::term_escape: ").unwrap_or(rest),
            )
        })
}

/// Strings mixing ordinary text with every character the term formats
/// escape.
fn text() -> impl Strategy<Value = String> {
    let special = prop_oneof![
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        (0x7fu32..0xa0).prop_map(|c| char::from_u32(c).unwrap()),
        Just('\u{2028}'),
        Just('\u{2029}'),
        Just('\\'),
        proptest::sample::select(format_characters()),
    ];
    let c = prop_oneof![3 => any::<char>(), 2 => special, 2 => proptest::char::range(' ', '~')];
    proptest::collection::vec(c, 0..24).prop_map(|v| v.into_iter().collect())
}

/// Random strings as message, key, value and child-logger value, through
/// both term formats: one line per record (compact: plus the child logger's
/// line), no byte below 0x20 but the final `\n`, no DEL, no C1, no U+2028/9,
/// and each string is recoverable from where it is shown.
fn random_strings_stay_on_one_visible_line() -> Result<(), String> {
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(text(), text(), text(), text()),
            |(msg, key, value, peer)| {
                for format in [Format::Full, Format::Compact] {
                    let out = Buf::default();
                    let guard = pipeline(format, &out);
                    let key: &'static str = Box::leak(key.clone().into_boxed_str());
                    info!(guard.logger(), "{}", msg; key => value.as_str());
                    let child = guard.logger().new(o!("peer" => peer.clone()));
                    info!(child, "{}", msg; key => value.as_str());
                    drop(guard);
                    let lines = clean_lines(&out.0.lock().unwrap())
                        .and_then(after_banner)
                        .map_err(TestCaseError::fail)?;
                    let (first, second) = match format {
                        Format::Compact => {
                            prop_assert_eq!(lines.len(), 3, "{:?}", lines);
                            prop_assert_eq!(
                                &unescape(lines[1].strip_prefix("peer: ").unwrap()),
                                &peer
                            );
                            (&lines[0][..], lines[2].strip_prefix(' ').unwrap())
                        }
                        _ => {
                            prop_assert_eq!(lines.len(), 2, "{:?}", lines);
                            let end = format!(", peer: {}", visible(&peer));
                            prop_assert!(lines[1].ends_with(&end), "{:?}", lines[1]);
                            let shown = &lines[1][lines[1].len() - end.len() + 8..];
                            prop_assert_eq!(&unescape(shown), &peer);
                            (&lines[0][..], &lines[1][..])
                        }
                    };
                    // Banner mode: nothing follows the record's fields but
                    // the child logger's (full layout).
                    let peer_end = match format {
                        Format::Full => format!(", peer: {}", visible(&peer)),
                        _ => String::new(),
                    };
                    for (line, end) in [(first, ""), (second, peer_end.as_str())] {
                        let (level, body) = level_and_rest(line);
                        prop_assert_eq!(level, "INFO");
                        // slog-term writes no comma after an empty message.
                        let comma = if msg.is_empty() { "" } else { ", " };
                        let parts = [visible(&msg), visible(key), visible(&value)];
                        let expected =
                            format!("{}{comma}{}: {}{end}", parts[0], parts[1], parts[2]);
                        prop_assert_eq!(body, &expected[..]);
                        let mut at = 0;
                        for (i, (shown, original)) in parts
                            .iter()
                            .zip([&msg, &key.to_owned(), &value])
                            .enumerate()
                        {
                            prop_assert_eq!(&unescape(&body[at..at + shown.len()]), original);
                            at += shown.len() + if i == 0 { comma.len() } else { 2 };
                        }
                    }
                }
                Ok(())
            },
        )
        .map_err(|e| e.to_string())
}

crate::suite!(
    child,
    checks: [
        injected_data_stays_one_escaped_line_per_record_when_piped,
        on_a_terminal_injected_data_gets_only_the_colors_benign_data_gets,
        injected_data_stays_one_escaped_line_per_record_through_a_writer,
        term_formats_keep_short_level_names,
        random_strings_stay_on_one_visible_line,
    ]
);
