//! The local stack under test, in a process of its own (this binary run with `stack`), so
//! its CPU time and memory are its own and not the load generator's.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::api::Client;
use crate::process;

/// The admin key the benchmark's stacks run with.
pub const ADMIN_KEY: &str = "bench-admin-key-0123456789abcdef012345678";

/// A running `hookline-local`; killed when dropped.
pub struct Stack {
    child: Child,
    pid: u32,
    pub url: String,
}

impl Stack {
    /// Starts the stack with `hookline-local`'s `args` on a free port and waits until it serves.
    pub async fn start(args: &[String]) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let mut child = Command::new(exe)
            .arg("stack")
            .arg("--")
            .args(["--listen", "127.0.0.1:0", "--allow-private-endpoints"])
            .args(args)
            .env("HOOKLINE_ADMIN_KEY", ADMIN_KEY)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the stack: {e}"))?;
        let pid = child.id().ok_or("the stack exited at once")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("Hookline is running at ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or("the stack did not say where it runs")?;
        // Keep reading stdout so the stack never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, pid, url })
    }

    #[must_use]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The CPU time the stack has used so far.
    #[must_use]
    pub fn cpu_time(&self) -> Duration {
        process::cpu_time(self.pid).unwrap_or_default()
    }

    /// The most memory the stack has held, in MiB.
    #[must_use]
    pub fn peak_rss_mib(&self) -> f64 {
        process::peak_rss_kib(self.pid).map_or(f64::NAN, |kib| kib as f64 / 1024.0)
    }

    /// A client of the stack's API with the admin key.
    #[must_use]
    pub fn admin(&self) -> Client {
        Client::new(&self.url).bearer(ADMIN_KEY)
    }

    /// Stops the stack and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
