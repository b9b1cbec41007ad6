//! Starting the pipeline (on the thread that calls `init`): checking the
//! settings, claiming the process's loggers, detecting the host, opening the
//! outputs and starting the crate's threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use slog::{info, o, Drain, Logger};

use super::builder::{Builder, MAX_CHANNEL_SIZE, MAX_QUEUE_BYTES};
use super::guard::LogGuard;
use crate::caller::bridges::log::{claim_log_logger, install_pipeline, LogBridge};
use crate::caller::filter::{LevelFilter, LiveFilter};
use crate::caller::filter_change::FilterControl;
use crate::caller::flood::FloodGuard;
use crate::error::Error;
use crate::format::{Format, MAX_RECORD_CAP, MIN_RECORD_CAP};
use crate::host::cache::CacheRef;
use crate::host::refresher::{RefreshConfig, Refresher};
use crate::host::{HostCache, HostInfo};
use crate::record::own::{CRATE_TARGET, HOST_CHANGED_MESSAGE};
use crate::record::queue::{Overflow, Queue};
use crate::writer::batch::FormatSpec;
use crate::writer::filter_file::FilterFile;
use crate::writer::output_set::MAX_OUTPUTS;
use crate::writer::thread::Writer;
use crate::writer::{MAX_OUTPUT_BUFFER, MAX_SHUTDOWN_TIMEOUT, MIN_OUTPUT_BUFFER};

impl Builder {
    /// Starts the pipeline: host detection, the refresher thread, the writer
    /// thread and, unless turned off, the global logger and the `log` bridge.
    pub fn init(self) -> Result<LogGuard, Error> {
        let this = self.with_env_overrides()?;
        if !(1..=MAX_CHANNEL_SIZE).contains(&this.channel_size) {
            return Err(Error::invalid(
                "channel size",
                this.channel_size.to_string(),
                format!("must be from 1 to {MAX_CHANNEL_SIZE} records"),
            ));
        }
        if !(1024..=MAX_QUEUE_BYTES).contains(&this.queue_bytes) {
            return Err(Error::invalid(
                "queue bytes",
                this.queue_bytes.to_string(),
                format!("must be from 1024 to {MAX_QUEUE_BYTES} bytes"),
            ));
        }
        if !(MIN_RECORD_CAP..=MAX_RECORD_CAP).contains(&this.max_record_bytes) {
            return Err(Error::invalid(
                "max record bytes",
                this.max_record_bytes.to_string(),
                format!("must be from {MIN_RECORD_CAP} to {MAX_RECORD_CAP} bytes"),
            ));
        }
        if !(MIN_OUTPUT_BUFFER..=MAX_OUTPUT_BUFFER).contains(&this.output_buffer) {
            return Err(Error::invalid(
                "output buffer",
                this.output_buffer.to_string(),
                format!("must be from {MIN_OUTPUT_BUFFER} to {MAX_OUTPUT_BUFFER} bytes"),
            ));
        }
        if this.shutdown_timeout > MAX_SHUTDOWN_TIMEOUT {
            return Err(Error::invalid(
                "shutdown timeout",
                format!("{:?}", this.shutdown_timeout),
                format!("must be at most {} s", MAX_SHUTDOWN_TIMEOUT.as_secs()),
            ));
        }
        let refresh = RefreshConfig::every(this.refresh);
        refresh.validate()?;
        if this.global && GLOBAL_INIT.swap(true, Ordering::SeqCst) {
            return Err(Error::already_initialized());
        }
        let result = this
            .read_filter_file()
            .and_then(|(this, file)| this.start(refresh, file));
        if result.is_err() {
            GLOBAL_INIT.store(false, Ordering::SeqCst);
        }
        result
    }

    /// Reads `LOG_FILTER_FILE`, if set: its content replaces the filter
    /// (blank content keeps it).
    fn read_filter_file(mut self) -> Result<(Self, Option<FilterFile>), Error> {
        let Some(path) = self.filter_file.take() else {
            return Ok((self, None));
        };
        let (file, directives) = FilterFile::open(path, &self.filter)?;
        self.filter = directives;
        Ok((self, Some(file)))
    }

    fn start(
        self,
        refresh: RefreshConfig,
        filter_file: Option<FilterFile>,
    ) -> Result<LogGuard, Error> {
        if self.tees.len() + 1 > MAX_OUTPUTS {
            return Err(Error::invalid(
                "tee",
                (self.tees.len() + 1).to_string(),
                format!("at most {MAX_OUTPUTS} outputs"),
            ));
        }
        // Decided and opened before anything global changes: a file that
        // cannot be opened fails `init` with nothing touched.
        let output = self.output.open(self.output_setting)?;
        let terminal_output = output.is_terminal();
        let mut tees = Vec::with_capacity(self.tees.len());
        let mut tee_filters = Vec::with_capacity(self.tees.len());
        for tee in self.tees {
            let opened = tee.output.open(tee.setting)?;
            let color = !self.no_color && opened.is_terminal();
            tees.push((tee.format, color, opened));
            tee_filters.push(tee.filter);
        }
        let probe = self.probe.schema(self.schema);
        let cache: CacheRef = if self.global {
            HostCache::init_global(probe)?.into()
        } else {
            Arc::new(HostCache::new(probe)?).into()
        };
        let format = match self.format {
            Some(f) => f,
            None if terminal_output => Format::Full,
            None => Format::Json,
        };
        let spec = FormatSpec {
            format,
            color: !self.no_color && terminal_output,
            schema: self.schema,
            source: self.source_location,
            cache: cache.clone(),
            host_fields_per_record: self.host_fields_per_record,
            max_record_bytes: self.max_record_bytes,
            output_buffer: self.output_buffer,
            block: self.overflow == Overflow::Block,
        };
        let mut outputs = vec![(spec.clone(), output)];
        for (format, color, opened) in tees {
            let spec = FormatSpec {
                format,
                color,
                ..spec.clone()
            };
            outputs.push((spec, opened));
        }
        let several = outputs.len() > 1;
        let queue = Arc::new(Queue::new(
            self.channel_size,
            self.queue_bytes,
            self.overflow,
        ));
        let writer = Writer::start(
            Arc::clone(&queue),
            outputs,
            crate::record::thread_role::WRITER_THREAD_NAME,
            self.shutdown_timeout,
        )?;
        let directives = LiveFilter::with_outputs(self.filter.clone(), tee_filters);
        let mut sender = writer.sender();
        if several {
            sender.outputs = Some(Arc::clone(&directives));
        }
        let (root, flood) = match self.flood {
            Some(config) => {
                let guard = FloodGuard::new(sender.clone(), config).inspect_err(|_| {
                    writer.stop();
                })?;
                let stats = guard.stats();
                let drain = LevelFilter::live(guard, Arc::clone(&directives)).ignore_res();
                (Logger::root(drain, o!()), Some(stats))
            }
            None => {
                let drain = LevelFilter::live(sender.clone(), Arc::clone(&directives)).ignore_res();
                (Logger::root(drain, o!()), None)
            }
        };

        if self.global {
            // With `tracing(false)` the service's own subscriber takes `log`
            // (tracing-subscriber's `init` installs tracing-log's
            // `LogTracer`), and its records reach this pipeline through
            // `tracing_layer()`: each exactly once, and no `log` logger
            // conflict.
            #[cfg(feature = "tracing")]
            let bridge_log = self.tracing;
            #[cfg(not(feature = "tracing"))]
            let bridge_log = true;
            // First what can fail because another library holds it, before
            // anything is installed: the `log` logger (this crate's, which
            // writes nowhere until the pipeline is set), then the global
            // tracing subscriber.
            if bridge_log {
                if let Err(e) = claim_log_logger() {
                    writer.stop();
                    return Err(e);
                }
            }
            #[cfg(feature = "tracing")]
            if self.tracing {
                use tracing_subscriber::layer::SubscriberExt;
                let layer =
                    crate::caller::bridges::tracing::layer(root.clone(), Arc::clone(&directives));
                let subscriber = tracing_subscriber::registry().with(layer);
                if tracing_core::dispatcher::set_global_default(subscriber.into()).is_err() {
                    writer.stop();
                    let by = if crate::caller::bridges::tracing::CAPTURE_ROUTER
                        .load(std::sync::atomic::Ordering::Acquire)
                    {
                        " (by testing::capture_all: call init() before it in this process)"
                    } else {
                        ""
                    };
                    return Err(Error::other(format!(
                        "a global tracing subscriber is already set{by}; use \
                         Builder::tracing(false) and add LogGuard::tracing_layer() to it, or \
                         remove the other one"
                    )));
                }
            }
            if bridge_log {
                install_pipeline(LogBridge {
                    logger: root.clone(),
                    directives: Arc::clone(&directives),
                });
            }
            // The global logger stays for the life of the process: records
            // logged after the guard is dropped are written synchronously.
            crate::caller::scope_router::set_global(root.clone());
        }

        // Filter changes: from the guard (`set_filter`) and, with
        // LOG_FILTER_FILE, from the writer thread, which looks at the file
        // once a second. Their notices pass whatever the filter says.
        let filter = Arc::new(FilterControl::new(
            Arc::clone(&directives),
            Logger::root(writer.sender(), o!()),
        ));
        if let Some(file) = filter_file {
            let mut file = file.watch(Arc::clone(&filter));
            writer.on_tick(Box::new(move || file.tick()));
        }
        let notice_log = root.clone();
        // A thread that cannot be started fails `init`; the writer stops.
        let refresher = Refresher::with_change_hook(cache.clone(), refresh, move |old, new| {
            change_notice(&notice_log, old, new)
        })
        .inspect_err(|_| {
            writer.stop();
        })?;
        if self.global && self.panic_hook {
            crate::caller::panic_hook::install(sender.clone(), self.schema);
        }
        Ok(LogGuard {
            logger: root,
            directives,
            filter,
            cache,
            sender,
            writer,
            flood,
            refresher: Some(refresher),
            global: self.global,
        })
    }
}

static GLOBAL_INIT: AtomicBool = AtomicBool::new(false);

fn change_notice(log: &Logger, old: &HostInfo, new: &HostInfo) {
    let changes = old
        .changes(new)
        .into_iter()
        .map(|(k, o, n)| {
            format!(
                "{k}: {} -> {}",
                o.as_deref().unwrap_or("(none)"),
                n.as_deref().unwrap_or("(none)")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    info!(log, #CRATE_TARGET, "{}", HOST_CHANGED_MESSAGE; "changes" => changes);
}
