//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong in `slog-host`: an invalid setting, a failed
/// host probe, a thread that could not be started.
///
/// The type is opaque on purpose; its [`Display`](fmt::Display) text is the
/// message meant for people and always names the setting and the value that
/// were rejected, e.g.
/// `invalid POD_IP="999.1.1.1": not an IPv4 or IPv6 address`.
/// [`Error::setting`] and [`Error::value`] give the same facts to code.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: Kind,
    setting: Option<String>,
    value: Option<String>,
    reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Invalid,
    Probe,
    Io,
    State,
}

impl Error {
    /// A setting (environment variable or builder option) with a value that
    /// cannot be used.
    pub(crate) fn invalid(
        setting: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error {
            kind: Kind::Invalid,
            setting: Some(setting.into()),
            value: Some(value.into()),
            reason: reason.into(),
        }
    }

    /// A host probe that failed while detecting metadata; for implementors of
    /// [`Probe`](crate::host::Probe).
    pub fn probe(reason: impl Into<String>) -> Self {
        Error {
            kind: Kind::Probe,
            setting: None,
            value: None,
            reason: reason.into(),
        }
    }

    /// An operating-system operation (such as spawning a thread) that failed.
    pub(crate) fn io(what: &str, err: &std::io::Error) -> Self {
        Error {
            kind: Kind::Io,
            setting: None,
            value: None,
            reason: format!("{what}: {err}"),
        }
    }

    /// `init()` called when a global pipeline was already started.
    pub(crate) fn already_initialized() -> Self {
        Self::state(
            "slog-host is already initialised in this process: init() installs the global logger \
             and the `log` bridge once; keep the first LogGuard, or use Builder::global(false) \
             for another pipeline",
        )
    }

    /// Any other failure, described by `reason`.
    pub(crate) fn other(reason: impl Into<String>) -> Self {
        Self::state(reason)
    }

    fn state(reason: impl Into<String>) -> Self {
        Error {
            kind: Kind::State,
            setting: None,
            value: None,
            reason: reason.into(),
        }
    }

    /// The rejected setting (an environment variable or a builder option), if
    /// this error is about one.
    pub fn setting(&self) -> Option<&str> {
        self.setting.as_deref()
    }

    /// The rejected value, if this error is about a setting.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// True if the error is about an invalid setting (as opposed to a failed
    /// detection or an operating-system failure).
    pub fn is_invalid_setting(&self) -> bool {
        self.kind == Kind::Invalid
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.setting, &self.value) {
            (Some(s), Some(v)) => write!(f, "invalid {s}={v:?}: {}", self.reason),
            _ => match self.kind {
                Kind::Probe => write!(f, "host detection failed: {}", self.reason),
                _ => f.write_str(&self.reason),
            },
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug shows the same sentence as Display, so `main() -> Result<_, Error>`
        // and `unwrap()` print something a person can act on.
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// Writes one line about the crate itself to stderr, with one `write` to a
/// descriptor of its own (a `dup` of 2): never through `std::io::Stderr`'s
/// lock, which an application thread may hold (or held at a `fork`: a child
/// would wait for it forever). Unlike `eprintln!`, which panics when stderr
/// cannot be written, a failure here is ignored: this runs on the writer
/// thread exactly when output is failing.
pub(crate) fn report(args: fmt::Arguments<'_>) {
    use std::io::Write;
    use std::os::fd::AsFd;
    let line = format!("slog-host: {args}\n");
    if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
        let _ = std::fs::File::from(fd).write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_setting_and_value() {
        let e = Error::invalid("POD_IP", "999.1.1.1", "not an IPv4 or IPv6 address");
        assert_eq!(
            e.to_string(),
            r#"invalid POD_IP="999.1.1.1": not an IPv4 or IPv6 address"#
        );
        assert_eq!(e.setting(), Some("POD_IP"));
        assert_eq!(e.value(), Some("999.1.1.1"));
        assert!(e.is_invalid_setting());
        assert_eq!(format!("{e:?}"), e.to_string());
    }

    #[test]
    fn probe_errors_say_what_failed() {
        let e = Error::probe("no interface");
        assert_eq!(e.to_string(), "host detection failed: no interface");
        assert!(!e.is_invalid_setting());
        assert_eq!(e.setting(), None);
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<Error>();
    }
}
