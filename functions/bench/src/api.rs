//! A small client of Hookline's API, and the realm every scenario sets up through it.

use serde_json::Value;

#[derive(Clone)]
enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

/// A client of one stack's API, as one identity.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    auth: Auth,
}

impl Client {
    #[must_use]
    pub fn new(url: &str) -> Self {
        // Many senders share one client and its connection pool.
        let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap_or_default();
        Self { http, url: url.trim_end_matches('/').to_owned(), auth: Auth::None }
    }

    #[must_use]
    pub fn bearer(&self, token: &str) -> Self {
        Self { auth: Auth::Bearer(token.to_owned()), ..self.clone() }
    }

    #[must_use]
    pub fn basic(&self, email: &str, api_key: &str) -> Self {
        Self { auth: Auth::Basic(email.to_owned(), api_key.to_owned()), ..self.clone() }
    }

    /// `POST path` with a form; the JSON of a success, or an error that says what came instead.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Result<Value, String> {
        let request = self.http.post(format!("{}{path}", self.url)).form(form);
        let request = match &self.auth {
            Auth::None => request,
            Auth::Basic(email, key) => request.basic_auth(email, Some(key)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        let response = request.send().await.map_err(|e| format!("POST {path}: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("POST {path}: {e}"))?;
        let body: Value = serde_json::from_str(&text).map_err(|_| format!("POST {path}: {status}: {text}"))?;
        if status.is_success() && body["result"] == "success" {
            Ok(body)
        } else {
            Err(format!("POST {path}: {status}: {text}"))
        }
    }
}

/// The stream every scenario's messages go to.
pub const STREAM: &str = "bench";

/// A realm with an owner, a stream and outgoing bots.
pub struct Realm {
    pub owner: Client,
    /// Each bot's mention, `@**Full Name**`, in the order they were created.
    pub mentions: Vec<String>,
}

impl Realm {
    /// Creates realm `string_id` through the admin API, and its stream.
    pub async fn create(admin: &Client, string_id: &str) -> Result<Self, String> {
        let created = admin
            .post(
                "/api/v1/realms",
                &[
                    ("string_id", string_id),
                    ("name", string_id),
                    ("owner_email", &format!("owner@{string_id}.example")),
                    ("owner_full_name", "Bench Owner"),
                ],
            )
            .await?;
        let owner = &created["owner"];
        let (Some(email), Some(key)) = (owner["email"].as_str(), owner["api_key"].as_str()) else {
            return Err(format!("the realm came without an owner: {created}"));
        };
        let owner = admin.basic(email, key);
        owner
            .post("/api/v1/users/me/subscriptions", &[("subscriptions", &format!(r#"[{{"name": "{STREAM}"}}]"#))])
            .await?;
        Ok(Self { owner, mentions: Vec::new() })
    }

    /// Creates an outgoing bot (Zulip's JSON format) that is POSTed at `url`.
    pub async fn add_bot(&mut self, url: &str) -> Result<(), String> {
        let n = self.mentions.len() + 1;
        let name = format!("Bench Bot {n}");
        self.owner
            .post(
                "/api/v1/bots",
                &[
                    ("full_name", &name),
                    ("short_name", &format!("bench{n}")),
                    ("bot_type", "3"),
                    ("payload_url", url),
                    ("interface_type", "1"),
                ],
            )
            .await?;
        self.mentions.push(format!("@**{name}**"));
        Ok(())
    }

    /// Sends `content` to the stream as the owner.
    pub async fn send(&self, topic: &str, content: &str) -> Result<(), String> {
        self.owner
            .post("/api/v1/messages", &[("type", "stream"), ("to", STREAM), ("topic", topic), ("content", content)])
            .await
            .map(|_| ())
    }
}
