//! The term formats against slog-term's, part by part.

use super::layout::Layout;
use super::style::Styled;
use super::*;

/// Writes a marker for each part slog-term announces, so that two
/// formats can be compared part by part.
#[derive(Clone, Default)]
struct Marking(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

struct MarkingRecord<'a>(&'a std::sync::Mutex<Vec<u8>>);

impl Decorator for Marking {
    fn with_record<F>(&self, _: &Record<'_>, _: &OwnedKVList, f: F) -> io::Result<()>
    where
        F: FnOnce(&mut dyn RecordDecorator) -> io::Result<()>,
    {
        f(&mut MarkingRecord(&self.0))
    }
}

impl Write for MarkingRecord<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(b"<flush>");
        Ok(())
    }
}

impl MarkingRecord<'_> {
    fn mark(&mut self, m: &str) -> io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(m.as_bytes());
        Ok(())
    }
}

impl RecordDecorator for MarkingRecord<'_> {
    fn reset(&mut self) -> io::Result<()> {
        self.mark("<reset>")
    }
    fn start_whitespace(&mut self) -> io::Result<()> {
        self.mark("<ws>")
    }
    fn start_msg(&mut self) -> io::Result<()> {
        self.mark("<msg>")
    }
    fn start_timestamp(&mut self) -> io::Result<()> {
        self.mark("<ts>")
    }
    fn start_level(&mut self) -> io::Result<()> {
        self.mark("<level>")
    }
    fn start_comma(&mut self) -> io::Result<()> {
        self.mark("<comma>")
    }
    fn start_key(&mut self) -> io::Result<()> {
        self.mark("<key>")
    }
    fn start_value(&mut self) -> io::Result<()> {
        self.mark("<value>")
    }
    fn start_location(&mut self) -> io::Result<()> {
        self.mark("<location>")
    }
    fn start_separator(&mut self) -> io::Result<()> {
        self.mark("<sep>")
    }
}

fn fixed_time(w: &mut dyn Write) -> io::Result<()> {
    w.write_all(b"Jan 02 03:04:05.678")
}

/// Records with every kind of value, from loggers nested three deep with
/// fields that change and stay, through `drain`.
fn log_all(drain: impl Drain<Ok = (), Err = io::Error> + Send + 'static) {
    use slog::{crit, error, info, o, warn, Logger};
    let root = Logger::root(std::sync::Mutex::new(drain).fuse(), o!("app" => "demo"));
    info!(root, "started"; "port" => 8080u16, "tls" => true);
    info!(root, ""; "empty" => "message");
    info!(root, "no fields");
    let a = root.new(o!("conn" => 1, "peer" => "10.0.0.1"));
    warn!(a, "slow"; "ms" => 12.5f64, "c" => 'x', "none" => None::<u8>, "unit" => ());
    warn!(a, "again {}", 2; "big" => u64::MAX, "neg" => i64::MIN, "f32" => 1.5f32);
    let b = a.new(o!("req" => "GET /"));
    error!(b, "deep"; "args" => format_args!("{}-{}", 1, 2), "i8" => -3i8);
    let c = root.new(o!("conn" => 2));
    crit!(c, "other"; "usize" => 7usize, "isize" => -7isize, "u32" => 3u32);
    info!(root, "root again"; "u8" => 1u8, "i16" => -1i16, "u16" => 1u16, "i32" => -9i32);
}

fn same_as_slog_term(compact: bool) {
    let theirs = Marking::default();
    let ours = Marking::default();
    if compact {
        log_all(
            slog_term::CompactFormat::new(theirs.clone())
                .use_custom_timestamp(fixed_time)
                .build(),
        );
    } else {
        log_all(
            slog_term::FullFormat::new(theirs.clone())
                .use_custom_timestamp(fixed_time)
                .build(),
        );
    }
    log_all(Layout::new(compact, Styled(ours.clone()), fixed_time).without_target());
    let (theirs, ours) = (
        theirs.0.lock().unwrap().clone(),
        ours.0.lock().unwrap().clone(),
    );
    let (theirs, ours) = (
        String::from_utf8(theirs).unwrap(),
        String::from_utf8(ours).unwrap(),
    );
    assert!(theirs.contains("<key>conn<sep>:<ws> <value>1"), "{theirs}");
    assert_eq!(ours, theirs);
}

#[test]
fn the_target_follows_the_level_escaped() {
    let buf = crate::format::term::SharedBuf::default();
    let log = slog::Logger::root(
        std::sync::Mutex::new(Layout::new(
            false,
            Plain(RefCell::new(buf.clone())),
            fixed_time,
        ))
        .fuse(),
        slog::o!(),
    );
    slog::info!(log, "by module");
    slog::info!(log, #"audit\x1b[2J", "by tag");
    let mut out = Vec::new();
    buf.move_into(&mut out);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].ends_with(" INFO slog_host::format::term::tests: by module"),
        "{text}"
    );
    assert!(
        lines[1].ends_with(" INFO audit\\u{1b}[2J: by tag"),
        "{text}"
    );
}

#[test]
fn full_writes_what_slog_term_writes_part_by_part() {
    same_as_slog_term(false);
}

#[test]
fn compact_writes_what_slog_term_writes_part_by_part() {
    same_as_slog_term(true);
}

#[test]
fn plain_output_is_slog_terms_text_in_one_write_per_record() {
    /// Keeps each write apart.
    #[derive(Clone, Default)]
    struct Writes(std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);
    impl Write for Writes {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().push(b.to_vec());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    for compact in [false, true] {
        let (ours, theirs) = (Writes::default(), Writes::default());
        log_all(
            Layout::new(compact, Plain(RefCell::new(ours.clone())), fixed_time).without_target(),
        );
        let plain = slog_term::PlainDecorator::new(theirs.clone());
        if compact {
            log_all(
                slog_term::CompactFormat::new(plain)
                    .use_custom_timestamp(fixed_time)
                    .build(),
            );
        } else {
            log_all(
                slog_term::FullFormat::new(plain)
                    .use_custom_timestamp(fixed_time)
                    .build(),
            );
        }
        let (ours, theirs) = (ours.0.lock().unwrap(), theirs.0.lock().unwrap());
        assert_eq!(ours.len(), 8, "one write per record");
        assert_eq!(ours.concat(), theirs.concat());
    }
}
