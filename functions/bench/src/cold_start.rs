//! Scenario `cold-start`: each Lambda function binary of the workspace started as Lambda
//! starts it — a fresh process with Lambda's environment and the variables `template.yaml`
//! gives that function, talking to a Lambda Runtime API ([`crate::runtime_api`]) — and fed one
//! event. It measures the time from exec to the function's first `GET …/invocation/next` (its
//! init: everything `main` does before it can take an event), from exec to its answer, the
//! process's peak memory at that point and the binary's size.
//!
//! DynamoDB and SQS are a stub in this process that answers every call at once with an empty
//! result (`{}`: no such item, nothing found, accepted), so the figures are the function's own
//! work and none of a storage backend's latency.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::Scale;
use crate::process;
use crate::report::{Table, ms};
use crate::runtime_api::{Invocation, Outcome, RuntimeApi};
use crate::stats::median;

/// How long a function may take from exec to its answer before the scenario fails.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The goal for a cold start: ready (first `next`) within this many milliseconds…
const GOAL_INIT_MS: f64 = 20.0;
/// …holding at most this many MiB.
const GOAL_RSS_MIB: f64 = 30.0;
/// `MemorySize` in template.yaml's `Globals`.
const MEMORY_SIZE_MB: &str = "256";
/// The region and account the environment and the ARNs name.
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
/// Lines of a function's output kept to explain a failure.
const TAIL_LINES: usize = 30;

/// One Lambda function of template.yaml and the event it is fed.
struct Function {
    /// The row's name.
    label: &'static str,
    /// The binary (`BuildProperties: Binary:` in template.yaml).
    binary: &'static str,
    /// The template's logical id, which the deployed function's name starts with.
    resource: &'static str,
    /// The variables the template sets for this function besides `Globals`.
    variables: &'static [(&'static str, &'static str)],
    /// The event's file under `events/`, and its text.
    event_file: &'static str,
    event: &'static str,
}

/// The workspace's Lambda functions. The events are ones whose answer needs at most a few
/// storage reads, which the stub answers with "not found".
const FUNCTIONS: &[Function] = &[
    Function {
        label: "messages",
        binary: "messages",
        resource: "MessagesFunction",
        variables: &[],
        event_file: "messages/send_stream_mention.json",
        event: include_str!("../../../events/messages/send_stream_mention.json"),
    },
    Function {
        label: "management",
        binary: "management",
        resource: "ManagementFunction",
        variables: &[],
        event_file: "management/server_settings.json",
        event: include_str!("../../../events/management/server_settings.json"),
    },
    Function {
        label: "incoming (github)",
        binary: "incoming",
        resource: "IncomingGithubFunction",
        variables: &[("HOOKLINE_INTEGRATION", "github")],
        event_file: "incoming/github-push.json",
        event: include_str!("../../../events/incoming/github-push.json"),
    },
    Function {
        label: "outgoing-worker",
        binary: "outgoing-worker",
        resource: "OutgoingWorkerFunction",
        variables: &[
            ("HOOKLINE_RETRY_SCHEDULE", "2s,4s,8s"),
            ("HOOKLINE_REQUEST_TIMEOUT_SECONDS", "10"),
            ("HOOKLINE_CONNECT_TIMEOUT_SECONDS", "5"),
            ("HOOKLINE_ENDPOINT_ALLOW_LIST", ""),
        ],
        event_file: "outgoing-worker/mention_delivery.json",
        event: include_str!("../../../events/outgoing-worker/mention_delivery.json"),
    },
    Function {
        label: "outbox-sweep",
        binary: "outbox-sweep",
        resource: "OutboxSweepFunction",
        variables: &[],
        event_file: "outbox-sweep/scheduled.json",
        event: include_str!("../../../events/outbox-sweep/scheduled.json"),
    },
];

/// What one cold start measured.
struct Sample {
    init_ms: f64,
    answer_ms: f64,
    peak_rss_kib: u64,
    aws_calls: Vec<String>,
    /// What the function answered, shortened for the table.
    answer: String,
}

/// Starts every function `scale.repeats` times from the binaries in `bin_dir` (default: the
/// directory of this executable) and reports the medians, one row per function.
pub async fn run(scale: &Scale, bin_dir: Option<&Path>) -> Result<Vec<Table>, String> {
    let dir = match bin_dir {
        Some(dir) => dir.to_path_buf(),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find this binary: {e}"))?
            .parent()
            .ok_or("this binary has no directory")?
            .to_path_buf(),
    };
    let binaries = find_binaries(&dir)?;
    let aws = AwsStub::start().await?;
    let mut table = Table::new(
        "Cold start, per Lambda function",
        format!(
            "Each function's binary (from `{}`) started {} time(s) as a fresh process with Lambda's \
             environment and template.yaml's variables, against a Lambda Runtime API in this process; \
             medians. init: exec → first `GET /runtime/invocation/next`; first answer: exec → its \
             `…/response`; peak RSS: `VmHWM` just after the answer. DynamoDB and SQS are a stub that \
             answers every call at once with an empty result (no item, nothing found), so no storage \
             latency is in the figures: the HTTP functions' authentication finds no API key (401), \
             the worker claims the delivery but finds no realm for it, so it hands the message back \
             as a batch item failure, and the sweep finds an empty outbox. Fastest init: the \
             quickest of the runs, the least that other load on the machine added. Goal: init ≤ {GOAL_INIT_MS} ms \
             and peak RSS ≤ {GOAL_RSS_MIB} MiB.",
            dir.display(),
            scale.repeats,
        ),
        &[
            "function",
            "event",
            "init ms",
            "fastest init ms",
            "first answer ms",
            "peak RSS MiB",
            "binary MiB",
            "AWS calls",
            "answer",
            "goal",
        ],
    );
    for (function, binary) in FUNCTIONS.iter().zip(&binaries) {
        let mut samples = Vec::with_capacity(scale.repeats);
        for _ in 0..scale.repeats {
            samples.push(cold_start(function, binary, &aws).await?);
        }
        let size_mib = std::fs::metadata(binary).map_err(|e| format!("{}: {e}", binary.display()))?.len() as f64
            / (1024.0 * 1024.0);
        table.row(row(function, &samples, size_mib));
    }
    Ok(vec![table])
}

/// The path of every function's binary in `dir`, or an error naming the missing ones and the
/// command that builds them.
fn find_binaries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let paths: Vec<PathBuf> = FUNCTIONS.iter().map(|f| dir.join(f.binary)).collect();
    let missing: Vec<&str> =
        FUNCTIONS.iter().zip(&paths).filter(|(_, path)| !path.is_file()).map(|(f, _)| f.binary).collect();
    if missing.is_empty() {
        return Ok(paths);
    }
    Err(format!(
        "cold-start: no {} in {}: build the functions' binaries first with `cargo build --release --bins` \
         (for a debug directory: `cargo build --workspace --bins`), or point --bin-dir at them",
        missing.join(", "),
        dir.display()
    ))
}

/// One table row from a function's samples: the median of each figure.
fn row(function: &Function, samples: &[Sample], size_mib: f64) -> Vec<String> {
    let figure = |pick: fn(&Sample) -> f64| median(&samples.iter().map(pick).collect::<Vec<_>>());
    let init = figure(|s| s.init_ms);
    let fastest = samples.iter().map(|s| s.init_ms).fold(f64::NAN, f64::min);
    let answer = figure(|s| s.answer_ms);
    let rss_mib = figure(|s| s.peak_rss_kib as f64) / 1024.0;
    let last = samples.last();
    let calls = last.map(|s| describe_calls(&s.aws_calls)).unwrap_or_default();
    let missed: Vec<&str> = [(init > GOAL_INIT_MS, "init"), (rss_mib > GOAL_RSS_MIB, "RSS")]
        .into_iter()
        .filter_map(|(missed, what)| missed.then_some(what))
        .collect();
    vec![
        function.label.to_owned(),
        format!("`{}`", function.event_file),
        ms(init),
        ms(fastest),
        ms(answer),
        format!("{rss_mib:.1}"),
        format!("{size_mib:.1}"),
        calls,
        last.map(|s| s.answer.clone()).unwrap_or_default(),
        if missed.is_empty() { "met".to_owned() } else { format!("missed ({})", missed.join(", ")) },
    ]
}

/// `3 (GetItem ×2, UpdateItem)`: how many AWS calls, and which.
fn describe_calls(calls: &[String]) -> String {
    if calls.is_empty() {
        return "0".into();
    }
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for call in calls {
        match counted.iter_mut().find(|(name, _)| name == call) {
            Some((_, n)) => *n += 1,
            None => counted.push((call, 1)),
        }
    }
    let names: Vec<String> =
        counted.iter().map(|(name, n)| if *n == 1 { (*name).to_owned() } else { format!("{name} ×{n}") }).collect();
    format!("{} ({})", calls.len(), names.join(", "))
}

/// Starts `binary` once as `function`, feeds it its event and measures; the process is killed
/// once it has answered.
async fn cold_start(function: &Function, binary: &Path, aws: &AwsStub) -> Result<Sample, String> {
    let invocation = Invocation {
        request_id: request_id(),
        function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}", function_name(function)),
        timeout: Duration::from_secs(30),
        event: function.event.to_owned(),
    };
    let api = RuntimeApi::start(invocation).await?;
    aws.take_calls();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(environment(function, &api.address(), &aws.url))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let pid = child.id().ok_or_else(|| format!("{} exited at once", function.label))?;
    let output = Output::capture(&mut child);

    let answer = tokio::select! {
        answer = api.answer() => answer,
        status = child.wait() => {
            let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
            return Err(output.failure(function, &format!("exited ({status}) before answering")));
        }
        () = tokio::time::sleep(ANSWER_TIMEOUT) => {
            let _ = child.kill().await;
            return Err(output.failure(function, &format!("did not answer within {} s", ANSWER_TIMEOUT.as_secs())));
        }
    };
    // Read before the process goes: its high-water mark is what running the event took.
    let peak_rss_kib = process::peak_rss_kib(pid);
    let _ = child.kill().await;
    let peak_rss_kib = peak_rss_kib.ok_or_else(|| format!("{}: cannot read its peak memory", function.label))?;
    match &answer.outcome {
        Outcome::Response => {}
        Outcome::Error(kind) | Outcome::InitError(kind) => {
            return Err(output.failure(function, &format!("answered with an error ({kind}): {}", answer.body)));
        }
    }
    let init = api.first_next().ok_or_else(|| format!("{} answered without asking for the event", function.label))?;
    Ok(Sample {
        init_ms: millis(init - started),
        answer_ms: millis(answer.at - started),
        peak_rss_kib,
        aws_calls: aws.take_calls(),
        answer: shorten(&answer.body),
    })
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The name Lambda gives a function deployed as `hookline` (`<stack>-<logical id>-<suffix>`).
fn function_name(function: &Function) -> String {
    format!("hookline-{}-bench", function.resource)
}

/// A request id in Lambda's form (a UUID), different for every invocation.
fn request_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let hex = format!("{:032x}", (nanos << 16) ^ u128::from(n) ^ (u128::from(std::process::id()) << 96));
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The environment Lambda gives the function (its reserved variables, dummy credentials of an
/// execution role), template.yaml's `Globals` variables and the function's own, with the SDK's
/// DynamoDB and SQS endpoints pointed at the stub.
fn environment(function: &Function, runtime_api: &str, aws: &str) -> Vec<(String, String)> {
    let name = function_name(function);
    let lambda = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_SIZE_MB.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "ASIABENCHBENCHBENCH00".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench/secret/key/that/signs/nothing/real".to_owned()),
        ("AWS_SESSION_TOKEN", "bench-session-token".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
    ];
    let queue = |name: &str| format!("{aws}/{ACCOUNT}/hookline-{name}-bench");
    let globals = [
        ("HOOKLINE_TABLE", "hookline-Table-bench".to_owned()),
        ("HOOKLINE_QUEUE_URL", queue("DeliveryQueue")),
        ("HOOKLINE_DLQ_URL", queue("DeliveryDeadLetterQueue")),
        ("HOOKLINE_ADMIN_KEY_SHA256", String::new()),
        ("HOOKLINE_PUBLIC_URL", String::new()),
        ("HOOKLINE_REALM_DOMAIN", "localhost".to_owned()),
        ("HOOKLINE_USER_RATE_LIMIT", "200".to_owned()),
        ("HOOKLINE_AUTH_FAILURE_RATE_LIMIT", "20".to_owned()),
        ("HOOKLINE_RATE_LIMIT_WINDOW_SECONDS", "60".to_owned()),
    ];
    let own = function.variables.iter().map(|(name, value)| (*name, (*value).to_owned()));
    let endpoints = [("AWS_ENDPOINT_URL_DYNAMODB", aws.to_owned()), ("AWS_ENDPOINT_URL_SQS", aws.to_owned())];
    lambda
        .into_iter()
        .chain(globals)
        .chain(own)
        .chain(endpoints)
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// The answer's gist for the table: an HTTP function's status code, or the (shortened) JSON.
fn shorten(body: &str) -> String {
    let value: Option<serde_json::Value> = serde_json::from_str(body).ok();
    if let Some(status) = value.as_ref().and_then(|v| v.get("statusCode")).and_then(serde_json::Value::as_u64) {
        return format!("HTTP {status}");
    }
    let text = value.map_or_else(|| body.to_owned(), |v| v.to_string());
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("`{}`", short.replace('|', "\\|").replace('`', "'"))
}

/// The last lines a function wrote to stdout and stderr (its logs and panics).
struct Output {
    lines: Arc<Mutex<VecDeque<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Output {
    fn capture(child: &mut Child) -> Self {
        let lines = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(tokio::spawn(keep_tail(stdout, lines.clone())));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(tokio::spawn(keep_tail(stderr, lines.clone())));
        }
        Self { lines, readers }
    }

    /// The scenario's failure for `function`: what happened and the end of its output.
    fn failure(&self, function: &Function, what: &str) -> String {
        let lines = self.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tail: Vec<&str> = lines.iter().map(String::as_str).collect();
        format!(
            "cold-start: {} ({}) {what}; its output ends with:\n{}",
            function.label,
            function.event_file,
            if tail.is_empty() { "(nothing)".to_owned() } else { tail.join("\n") }
        )
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

async fn keep_tail(stream: impl AsyncRead + Unpin, lines: Arc<Mutex<VecDeque<String>>>) {
    let mut reader = BufReader::new(stream).lines();
    while let Ok(Some(line)) = reader.next_line().await {
        let mut lines = lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }
}

/// DynamoDB and SQS as far as a cold start needs them: every call (both speak the AWS JSON
/// protocol, the operation in `X-Amz-Target`) is answered at once with `{}` — every field of
/// their answers is optional, so that reads as "no item", "nothing found" or "accepted" — and
/// recorded.
struct AwsStub {
    url: String,
    calls: Arc<Mutex<Vec<String>>>,
    server: JoinHandle<()>,
}

impl AwsStub {
    async fn start() -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen for the AWS stub: {e}"))?;
        let url = format!("http://{}", listener.local_addr().map_err(|e| format!("AWS stub address: {e}"))?);
        let calls = Arc::new(Mutex::new(Vec::new()));
        let recorded = calls.clone();
        let app = Router::new().fallback(move |headers: HeaderMap| {
            let recorded = recorded.clone();
            async move {
                let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("(no target)");
                // `DynamoDB_20120810.GetItem`, `AmazonSQS.SendMessage`: the operation's name.
                let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
                recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(operation);
                (StatusCode::OK, [("content-type", "application/x-amz-json-1.0")], "{}")
            }
        });
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("AWS stub stopped: {e}");
            }
        });
        Ok(Self { url, calls, server })
    }

    /// The operations called since the last take.
    fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl Drop for AwsStub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The `Environment: Variables:` names under the top-level section or resource `block`
    /// of template.yaml (a key at two spaces of indent, or `Globals:` at none).
    fn template_variables(template: &str, block: &str) -> BTreeSet<String> {
        let lines: Vec<&str> = template.lines().collect();
        let start = lines.iter().position(|line| line.trim_end() == block).unwrap_or_else(|| panic!("{block}"));
        let indent = |line: &str| line.len() - line.trim_start().len();
        let own = indent(lines[start]);
        let body: Vec<&str> = lines[start + 1..]
            .iter()
            .take_while(|line| line.trim().is_empty() || line.trim_start().starts_with('#') || indent(line) > own)
            .copied()
            .collect();
        let mut names = BTreeSet::new();
        if let Some(at) = body.iter().position(|line| line.trim() == "Variables:") {
            let depth = indent(body[at]);
            for line in body[at + 1..].iter().take_while(|line| indent(line) > depth) {
                if let Some((name, _)) = line.trim().split_once(':') {
                    names.insert(name.to_owned());
                }
            }
        }
        names
    }

    #[test]
    fn each_function_gets_the_variables_template_yaml_sets_for_it() {
        let template = include_str!("../../../template.yaml");
        let globals = template_variables(template, "Globals:");
        assert!(globals.contains("HOOKLINE_TABLE"), "{globals:?}");
        for function in FUNCTIONS {
            let block = format!("  {}:", function.resource);
            assert!(template.contains(&format!("{block}\n")), "{} is not in template.yaml", function.resource);
            assert!(
                template.contains(&format!("Binary: {}\n", function.binary)),
                "no function in template.yaml runs {}",
                function.binary
            );
            let mut expected = globals.clone();
            expected.extend(template_variables(template, &block));
            let given: BTreeSet<String> = environment(function, "127.0.0.1:9001", "http://127.0.0.1:1")
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| name.starts_with("HOOKLINE_"))
                .collect();
            assert_eq!(given, expected, "{}", function.label);
        }
    }

    #[test]
    fn a_missing_binary_names_the_command_that_builds_it() {
        let error = find_binaries(Path::new("/nonexistent")).unwrap_err();
        assert!(error.contains("messages, management, incoming, outgoing-worker, outbox-sweep"), "{error}");
        assert!(error.contains("cargo build --release --bins"), "{error}");
    }

    #[test]
    fn answers_and_calls_are_summed_up() {
        assert_eq!(shorten(r#"{"statusCode":401,"body":"{}"}"#), "HTTP 401");
        assert_eq!(shorten(r#"{"enqueued": 0, "left": 0}"#), r#"`{"enqueued":0,"left":0}`"#);
        assert_eq!(describe_calls(&[]), "0");
        let calls = ["GetItem", "UpdateItem", "GetItem"].map(String::from);
        assert_eq!(describe_calls(&calls), "3 (GetItem ×2, UpdateItem)");
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_ne!(id, request_id());
    }
}
