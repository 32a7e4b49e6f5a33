//! `hookline-local`'s command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hookline_messaging::send::HandOver;

use crate::http_server::HttpLimits;

pub const USAGE: &str = "\
Usage: hookline-local [OPTIONS]

Runs every Hookline function in one process.

Options:
  --listen ADDR               Address to serve the API on [default: 127.0.0.1:9000]
  --data-dir DIR              Keep state in DIR across restarts (an fsynced journal);
                              without it, state lives in memory
  --compact-journal-after MB  Compact the journal (snapshot + tail) once its tail holds
                              this many MiB [default: 64]
  --store memory|dynamodb     Where state lives [default: memory]; dynamodb uses the table
                              HOOKLINE_TABLE (default hookline, created if missing) at the
                              endpoint and credentials of the usual AWS_* variables
  --queue memory|sqs          The delivery queue [default: memory]; sqs uses HOOKLINE_QUEUE_URL,
                              or creates the queue hookline-deliveries and its dead-letter queue
  --public-url URL            The URL clients reach this stack at [default: http://<listen>]
  --allow-private-endpoints   Let bot endpoints live on loopback and private addresses
  --delivery-concurrency N    Delivery batches run at once, as Lambda's concurrent
                              invocations of the worker [default: 100]
  --header-timeout SECONDS    A client must send a request's headers within this
                              [default: 10]
  --idle-timeout SECONDS      A connection on which nothing moves this long is closed
                              [default: 60]
  --max-connections N         Connections served at once; more wait until one closes
                              [default: 1024]
  --user-rate-limit N         API requests each user or bot may make per window; 0 for no
                              limit [default: 0]
  --auth-failure-limit N      Failed authentications each client address may make per
                              window; 0 for no limit [default: 0]
  --rate-limit-window SECONDS The rate limits' window [default: 60]
  --demo                      Create a demo realm, user and stream, and print their credentials
  -h, --help                  Print this help

Environment:
  HOOKLINE_ADMIN_KEY          The deployment admin key (generated and printed if unset)
  RUST_LOG                    Log filter [default: info]";

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub listen: SocketAddr,
    pub data_dir: Option<PathBuf>,
    pub store: Backend,
    pub queue: Backend,
    pub public_url: Option<String>,
    pub allow_private_endpoints: bool,
    pub demo: bool,
    /// How many batches the emulated SQS event source runs at once.
    pub delivery_concurrency: usize,
    pub http: HttpLimits,
    /// With `data_dir`: the journal's tail size that triggers a compaction.
    pub compact_journal_after: u64,
    /// Per-user requests and per-address failed authentications per `rate_limit_window`;
    /// 0 is no limit.
    pub user_rate_limit: u32,
    pub auth_failure_limit: u32,
    pub rate_limit_window: Duration,
    /// When a send's jobs go to the queue: after the answer, as a long-lived process may
    /// (the default), or before it, as a Lambda function must (to measure what it calls).
    pub hand_over: HandOver,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            data_dir: None,
            store: Backend::Embedded,
            queue: Backend::Embedded,
            public_url: None,
            allow_private_endpoints: false,
            demo: false,
            delivery_concurrency: crate::sqs_runner::DEFAULT_CONCURRENCY,
            http: HttpLimits::default(),
            compact_journal_after: 64 * MIB,
            user_rate_limit: 0,
            auth_failure_limit: 0,
            rate_limit_window: Duration::from_secs(60),
            hand_over: HandOver::InBackground,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Help,
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value =
            |name: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--listen" => {
                options.listen =
                    value("--listen")?.parse().map_err(|_| "--listen needs an address like 127.0.0.1:9000")?;
            }
            "--data-dir" => options.data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--store" => {
                options.store = match value("--store")?.as_str() {
                    "memory" => Backend::Embedded,
                    "dynamodb" => Backend::Aws,
                    other => return Err(format!("unknown store '{other}' (memory or dynamodb)")),
                }
            }
            "--queue" => {
                options.queue = match value("--queue")?.as_str() {
                    "memory" => Backend::Embedded,
                    "sqs" => Backend::Aws,
                    other => return Err(format!("unknown queue '{other}' (memory or sqs)")),
                }
            }
            "--public-url" => options.public_url = Some(value("--public-url")?),
            "--allow-private-endpoints" => options.allow_private_endpoints = true,
            "--demo" => options.demo = true,
            "--delivery-concurrency" => options.delivery_concurrency = count(&value("--delivery-concurrency")?)?,
            "--header-timeout" => options.http.header_timeout = seconds(&value("--header-timeout")?)?,
            "--idle-timeout" => options.http.idle_timeout = seconds(&value("--idle-timeout")?)?,
            "--compact-journal-after" => {
                let mib = value("--compact-journal-after")?.parse::<f64>().ok().filter(|m| *m > 0.0 && m.is_finite());
                let mib = mib.ok_or("--compact-journal-after needs a positive number of MiB")?;
                options.compact_journal_after = (mib * MIB as f64) as u64;
            }
            "--max-connections" => options.http.max_connections = count(&value("--max-connections")?)?,
            "--user-rate-limit" => options.user_rate_limit = whole(&value("--user-rate-limit")?)?,
            "--auth-failure-limit" => options.auth_failure_limit = whole(&value("--auth-failure-limit")?)?,
            "--rate-limit-window" => options.rate_limit_window = seconds(&value("--rate-limit-window")?)?,
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    if options.data_dir.is_some() && options.store == Backend::Aws {
        return Err("--data-dir keeps the embedded store; it does not apply to --store dynamodb".into());
    }
    Ok(Command::Run(options))
}

/// A whole number, zero allowed.
fn whole(text: &str) -> Result<u32, String> {
    text.parse::<u32>().map_err(|_| format!("'{text}' is not a whole number"))
}

/// A positive whole number.
fn count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{text}' is not a positive number")),
    }
}

/// A positive number of seconds, fractions allowed.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("'{text}' is not a positive number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults_and_flags() {
        assert_eq!(parse_args(&[]).unwrap(), Command::Run(Options::default()));
        let Command::Run(o) =
            parse_args(&["--listen", "0.0.0.0:8080", "--data-dir=/tmp/x", "--queue", "sqs", "--demo"]).unwrap()
        else {
            panic!("not a run");
        };
        assert_eq!(o.listen.port(), 8080);
        assert_eq!(o.data_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!((o.queue, o.store, o.demo), (Backend::Aws, Backend::Embedded, true));
        assert_eq!(parse_args(&["--help"]).unwrap(), Command::Help);
        let Command::Run(o) = parse_args(&["--delivery-concurrency", "3"]).unwrap() else { panic!("not a run") };
        assert_eq!(o.delivery_concurrency, 3);
        assert_eq!(Options::default().delivery_concurrency, 100);
        let Command::Run(o) = parse_args(&["--compact-journal-after", "0.5"]).unwrap() else { panic!("not a run") };
        assert_eq!(o.compact_journal_after, 512 * 1024);
        let Command::Run(o) =
            parse_args(&["--header-timeout", "2.5", "--idle-timeout=30", "--max-connections", "64"]).unwrap()
        else {
            panic!("not a run")
        };
        assert_eq!(
            o.http,
            HttpLimits {
                header_timeout: Duration::from_millis(2500),
                idle_timeout: Duration::from_secs(30),
                max_connections: 64
            }
        );
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse_args(&["--listen"]).unwrap_err().contains("needs a value"));
        assert!(parse_args(&["--store", "redis"]).unwrap_err().contains("unknown store"));
        assert!(parse_args(&["--frobnicate"]).unwrap_err().contains("unknown option"));
        assert!(parse_args(&["--store", "dynamodb", "--data-dir", "x"]).is_err());
        assert!(parse_args(&["--delivery-concurrency", "0"]).unwrap_err().contains("positive"));
        assert!(parse_args(&["--header-timeout", "-1"]).unwrap_err().contains("seconds"));
        assert!(parse_args(&["--max-connections", "many"]).unwrap_err().contains("positive"));
        assert!(parse_args(&["--compact-journal-after", "0"]).unwrap_err().contains("MiB"));
        assert!(parse_args(&["--user-rate-limit", "-3"]).unwrap_err().contains("whole number"));
    }

    #[test]
    fn rate_limits_are_off_unless_asked_for() {
        let Command::Run(o) = parse_args(&[]).unwrap() else { panic!("not a run") };
        assert_eq!((o.user_rate_limit, o.auth_failure_limit), (0, 0));
        let Command::Run(o) =
            parse_args(&["--user-rate-limit", "5", "--auth-failure-limit=3", "--rate-limit-window", "2"]).unwrap()
        else {
            panic!("not a run");
        };
        assert_eq!((o.user_rate_limit, o.auth_failure_limit), (5, 3));
        assert_eq!(o.rate_limit_window, Duration::from_secs(2));
    }
}
