//! A `hookline-local` process for a test, and a small client for its API.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const ADMIN_KEY: &str = "e2e-admin-key-0123456789abcdef0123456789";

/// A running `hookline-local`; killed when dropped.
pub struct Stack {
    child: Child,
    pub url: String,
    /// Everything the stack printed on stdout before it was ready (and the demo lines).
    pub banner: Vec<String>,
}

impl Stack {
    /// Starts the binary with `args` on a free port and waits until it serves.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with(args, &[])
    }

    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hookline-local"));
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("HOOKLINE_ADMIN_KEY", ADMIN_KEY)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start hookline-local");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let mut url = None;
        let wants_demo = args.contains(&"--demo");
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.strip_prefix("Hookline is running at ") {
                url = Some(rest.trim().to_owned());
            }
            let done = line.starts_with("Try:") || (!wants_demo && url.is_some());
            banner.push(line);
            if done {
                break;
            }
        }
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let url = url.unwrap_or_else(|| panic!("hookline-local did not start: {banner:?}"));
        Self { child, url, banner }
    }

    /// The process id, e.g. to sample its memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`.
    pub fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// The demo's `(email, api key)`, from the banner.
    pub fn demo_credentials(&self) -> (String, String) {
        let line = self.banner.iter().find(|l| l.starts_with("Demo realm ready")).expect("demo line");
        let words: Vec<&str> = line.split_whitespace().collect();
        let after = |w: &str| words[words.iter().position(|x| *x == w).expect(w) + 1].to_owned();
        (after("email"), after("key"))
    }

    pub fn client(&self) -> Client {
        Client { http: reqwest::Client::new(), url: self.url.clone(), auth: Auth::None }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
pub enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub url: String,
    pub auth: Auth,
}

/// A response: status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The body of a 200 success, or a panic that shows what came instead.
    pub fn ok(self) -> Value {
        assert_eq!((self.status, &self.body["result"]), (200, &Value::from("success")), "{:?}", self.body);
        self.body
    }

    /// Checks status, Zulip code and that the message contains `msg`.
    pub fn error(&self, status: u16, code: &str, msg: &str) {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(self.body["result"], "error", "{:?}", self.body);
        assert_eq!(self.body["code"], code, "{:?}", self.body);
        let text = self.body["msg"].as_str().unwrap_or_default();
        assert!(text.contains(msg), "{text:?} should contain {msg:?}");
    }
}

impl Client {
    pub fn as_user(&self, email: &str, api_key: &str) -> Self {
        Self { auth: Auth::Basic(email.to_owned(), api_key.to_owned()), ..self.clone() }
    }

    pub fn with_auth(&self, auth: Auth) -> Self {
        Self { auth, ..self.clone() }
    }

    pub fn as_admin(&self) -> Self {
        Self { auth: Auth::Bearer(ADMIN_KEY.to_owned()), ..self.clone() }
    }

    pub async fn send(&self, method: &str, path: &str, form: &[(&str, &str)]) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.url));
        request = match &self.auth {
            Auth::None => request,
            Auth::Basic(email, key) => request.basic_auth(email, Some(key)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        if !form.is_empty() {
            if method == reqwest::Method::GET {
                request = request.query(form);
            } else {
                request = request.form(form);
            }
        }
        let response = request.send().await.expect("request");
        Self::answer(response).await
    }

    /// As [`Self::send`], but `None` when the request gets no answer (the stack went away).
    pub async fn send_or_fail(&self, method: &str, path: &str, form: &[(&str, &str)]) -> Option<Answer> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.url)).form(form);
        if let Auth::Basic(email, key) = &self.auth {
            request = request.basic_auth(email, Some(key));
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.ok()?;
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        Some(Answer { status, body, headers })
    }

    pub async fn send_raw(&self, method: &str, path: &str, content_type: &str, body: &str) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.url)).header("content-type", content_type);
        if let Auth::Basic(email, key) = &self.auth {
            request = request.basic_auth(email, Some(key));
        }
        Self::answer(request.body(body.to_owned()).send().await.expect("request")).await
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        Answer { status, body, headers }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[]).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send("POST", path, form).await
    }
}

/// A realm created through the admin API, with its owner's client.
pub async fn new_realm(stack: &Stack, string_id: &str) -> (Value, Client) {
    let created = stack
        .client()
        .as_admin()
        .post(
            "/api/v1/realms",
            &[
                ("string_id", string_id),
                ("name", &format!("{string_id} Inc.")),
                ("owner_email", &format!("owner@{string_id}.example")),
                ("owner_full_name", "Olive Owner"),
            ],
        )
        .await
        .ok();
    let owner = &created["owner"];
    let client = stack.client().as_user(owner["email"].as_str().unwrap(), owner["api_key"].as_str().unwrap());
    (created, client)
}

/// A fresh directory under the system's temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hookline-e2e-{name}-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}
