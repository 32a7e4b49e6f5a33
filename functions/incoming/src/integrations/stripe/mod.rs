//! `stripe`: Stripe's webhook events for charges, disputes, refunds, customers, discounts,
//! subscriptions, files, invoices and invoice items, as Zulip's `stripe`.
//!
//! The topic is the customer's id when the event's object names one (`cus_HH97asvHvaYQYp`),
//! else the kind of object (`charges`, `disputes`, `refunds`, `files`). Objects are linked to
//! Stripe's dashboard by their id's prefix; updates list what changed:
//!
//! ```text
//! [Customer](https://dashboard.stripe.com/customers/cus_00000000000000) updated
//! * Account balance is now 100
//! ```

#[cfg(test)]
mod tests;
mod values;

use serde_json::{Map, Value};

use crate::integration::{
    Handled, Integration, IntegrationError, Outcome, Payload, number, optional_text, text, truthy,
};
use crate::signature;
use values::{amount, linked_id, python_str};

pub struct Stripe;

/// Every event type shown, with the account updates acknowledged when they change nothing
/// worth showing.
const EVENT_TYPES: &[&str] = &[
    "account.updated",
    "charge.captured",
    "charge.expired",
    "charge.failed",
    "charge.pending",
    "charge.refunded",
    "charge.succeeded",
    "charge.updated",
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.dispute.funds_reinstated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.updated",
    "charge.refund.updated",
    "customer.created",
    "customer.deleted",
    "customer.updated",
    "customer.discount.created",
    "customer.discount.deleted",
    "customer.discount.updated",
    "customer.source.created",
    "customer.source.deleted",
    "customer.source.expiring",
    "customer.source.updated",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.subscription.updated",
    "file.created",
    "invoice.created",
    "invoice.deleted",
    "invoice.finalization_failed",
    "invoice.finalized",
    "invoice.marked_uncollectible",
    "invoice.paid",
    "invoice.payment_action_required",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.sent",
    "invoice.upcoming",
    "invoice.updated",
    "invoice.voided",
    "invoiceitem.created",
    "invoiceitem.deleted",
    "invoiceitem.updated",
];

const DAY: i64 = 24 * 60 * 60;

type Result<T> = std::result::Result<T, IntegrationError>;

impl Integration for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn display_name(&self) -> &'static str {
        "Stripe"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["financial"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// Stripe signs with the endpoint's signing secret: `Stripe-Signature` is
    /// `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with one `v1` for each secret in
    /// use while a secret is being rolled; any of them may match. Integrations cannot see a
    /// clock, so the timestamp is signed but not compared with the time of arrival.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<()> {
        let Some(header) = payload.header("stripe-signature") else {
            return Err(IntegrationError::BadSignature(
                "Missing the Stripe-Signature header: set the same secret on the sender's webhook".into(),
            ));
        };
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => timestamp = Some(t),
                Some(("v1", v1)) => signatures.push(v1),
                _ => {}
            }
        }
        let Some(timestamp) = timestamp else { return Err(signature::failed()) };
        let signed: [&[u8]; 3] = [timestamp.as_bytes(), b".", payload.raw];
        if signatures
            .iter()
            .any(|given| signature::matches(signature::Hash::Sha256, signature::Encoding::Hex, secret, &signed, given))
        {
            Ok(())
        } else {
            Err(signature::failed())
        }
    }

    /// The `t=` of `Stripe-Signature`.
    fn signed_at(&self, payload: &Payload<'_>) -> Option<i64> {
        payload.header("stripe-signature")?.split(',').find_map(|part| part.trim().strip_prefix("t=")?.parse().ok())
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled> {
        let body = payload.body;
        let event_type = text(body, "/type")?;
        if !EVENT_TYPES.contains(&event_type) {
            return Err(IntegrationError::Unsupported {
                event: event_type.to_owned(),
                integration: self.display_name(),
            });
        }
        let outcome = match message(body, event_type)? {
            Some((topic, content)) => Outcome::Message { topic, content },
            None => Outcome::Ignore,
        };
        Ok(Handled { event: event_type.to_owned(), outcome })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/charge_succeeded__card.json"))
    }
}

/// The event's parts: `charge.dispute.closed` is the `dispute` resource of the `charge`
/// category, `closed`; `invoice.created` is the `invoice` resource, `created`.
struct Kind<'a> {
    category: &'a str,
    resource: &'a str,
    event: &'a str,
}

/// The topic and message for a (declared) event type; `None` when the event changes nothing
/// worth showing.
fn message(body: &Value, event_type: &str) -> Result<Option<(String, String)>> {
    let parts: Vec<&str> = event_type.split('.').collect();
    let kind = match parts.as_slice() {
        [category, resource, event] => Kind { category, resource, event },
        [resource, event] => Kind { category: resource, resource, event },
        _ => return Err(IntegrationError::Malformed(format!("unexpected event type {event_type}"))),
    };
    let object = body.pointer("/data/object").unwrap_or(&Value::Null);
    if !object.is_object() {
        return Err(IntegrationError::Malformed("expected an object at /data/object".into()));
    }
    let update = Update { body, object };
    let mut topic = optional_text(object, "customer")?.unwrap_or("").to_owned();
    let content = match (kind.category, kind.resource) {
        ("account", _) => {
            let Some(changes) = update.changes(&[])? else { return Ok(None) };
            topic = "account updates".into();
            changes
        }
        ("charge", "charge") => {
            if topic.is_empty() {
                topic = "charges".into();
            }
            let mut content = format!(
                "{} for {} {}",
                linked_id(text(object, "/id")?, false),
                amount(number(object, "/amount")?, text(object, "/currency")?),
                kind.event
            );
            if let Some(code) = optional_text(object, "failure_code")?.filter(|c| !c.is_empty()) {
                content.push_str(&format!(". Failure code: {code}"));
            }
            content
        }
        ("charge", "dispute") => {
            topic = "disputes".into();
            let Some(content) = update.summary(&kind, &[])? else { return Ok(None) };
            format!("{content}. Current status: {}.", text(object, "/status")?.replace('_', " "))
        }
        ("charge", _) => {
            topic = "refunds".into();
            format!(
                "A {} for a {} of {} was updated.",
                linked_id(text(object, "/id")?, true),
                linked_id(text(object, "/charge")?, true),
                amount(number(object, "/amount")?, text(object, "/currency")?)
            )
        }
        ("customer", "customer") => {
            topic = text(object, "/id")?.to_owned();
            let Some(mut content) = update.summary(&kind, &["delinquent", "currency", "default_source"])? else {
                return Ok(None);
            };
            if kind.event == "created" {
                if let Some(email) = optional_text(object, "email")?.filter(|e| !e.is_empty()) {
                    content.push_str(&format!("\nEmail: {email}"));
                }
                if let Some(Value::Object(metadata)) = object.get("metadata") {
                    for (key, value) in metadata {
                        let value = value
                            .as_str()
                            .ok_or_else(|| IntegrationError::Malformed(format!("expected text at /metadata/{key}")))?;
                        content.push_str(&format!("\n{key}: {value}"));
                    }
                }
            }
            content
        }
        ("customer", "discount") => format!(
            "Discount {} ([{}](https://dashboard.stripe.com/coupons/{})).",
            kind.event.replace('_', " "),
            text(object, "/coupon/name")?,
            text(object, "/coupon/id")?
        ),
        ("customer", "subscription") => {
            let Some(content) = update.summary(&kind, &[])? else { return Ok(None) };
            subscription(body, object, &kind, content)?
        }
        ("customer", _) => {
            let Some(content) = update.summary(&kind, &[])? else { return Ok(None) };
            content
        }
        ("file", _) => {
            topic = "files".into();
            let Some(content) = update.summary(&kind, &[])? else { return Ok(None) };
            format!("{content} ({}). \nTitle: {}", text(object, "/purpose")?.replace('_', " "), text(object, "/title")?)
        }
        ("invoice", _) => {
            let Some(content) = invoice(&update, &kind)? else { return Ok(None) };
            content
        }
        _ => {
            let Some(mut content) = update.summary(&kind, &["description", "invoice"])? else { return Ok(None) };
            if kind.event == "created" {
                content.push_str(&format!(" for {}", amount(number(object, "/amount")?, text(object, "/currency")?)));
            }
            content
        }
    };
    Ok(Some((topic, content)))
}

/// The event's object and what an update changed (`data.previous_attributes`).
struct Update<'v> {
    body: &'v Value,
    object: &'v Value,
}

impl Update<'_> {
    /// `<linked object> <event>`, and for updates the list of changes; `None` for an update
    /// that changed only `ignored` attributes.
    fn summary(&self, kind: &Kind<'_>, ignored: &[&str]) -> Result<Option<String>> {
        let summary = format!("{} {}", linked_id(text(self.object, "/id")?, false), kind.event.replace('_', " "));
        if kind.event != "updated" {
            return Ok(Some(summary));
        }
        Ok(self.changes(ignored)?.map(|changes| summary + &changes))
    }

    /// One `* <Attribute> is now <value>` line for each previous attribute not in `ignored`,
    /// sorted; `None` when there are none (or no previous attributes at all).
    fn changes(&self, ignored: &[&str]) -> Result<Option<String>> {
        let previous = match self.body.pointer("/data/previous_attributes") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(previous)) => previous,
            Some(_) => {
                return Err(IntegrationError::Malformed("expected an object at /data/previous_attributes".into()));
            }
        };
        let mut changed: Vec<&String> = previous.keys().filter(|k| !ignored.contains(&k.as_str())).collect();
        if changed.is_empty() {
            return Ok(None);
        }
        changed.sort();
        let object: &Map<String, Value> = self
            .object
            .as_object()
            .ok_or_else(|| IntegrationError::Malformed("expected an object at /data/object".into()))?;
        let mut lines = String::new();
        for attribute in changed {
            let value = object
                .get(attribute.as_str())
                .ok_or_else(|| IntegrationError::Malformed(format!("expected /data/object/{attribute}")))?;
            lines.push_str(&format!("\n* {} is now {}", capitalized(&attribute.replace('_', " ")), python_str(value)));
        }
        Ok(Some(lines))
    }
}

/// The first letter in upper case, the rest in lower case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    }
}

/// A subscription's summary with, for a trial about to end, the days left (counted from when
/// Stripe created the event), and for a new one its plan, quantity and billing method.
fn subscription(body: &Value, object: &Value, kind: &Kind<'_>, mut content: String) -> Result<String> {
    if kind.event == "trial_will_end" {
        let left = number(object, "/trial_end")?.saturating_sub(number(body, "/created")?);
        content.push_str(&format!(" in {} days", left.saturating_add(DAY / 2).div_euclid(DAY)));
    }
    if kind.event == "created" {
        if let Some(plan) = object.get("plan").filter(|p| truthy(p)) {
            let id = text(plan, "/id")?;
            match optional_text(plan, "nickname")? {
                Some(nickname) => {
                    content.push_str(&format!("\nPlan: [{nickname}](https://dashboard.stripe.com/plans/{id})"));
                }
                None => content.push_str(&format!("\nPlan: https://dashboard.stripe.com/plans/{id}")),
            }
        }
        if object.get("quantity").is_some_and(truthy) {
            content.push_str(&format!("\nQuantity: {}", number(object, "/quantity")?));
        }
        if let Some(billing) = optional_text(object, "billing")? {
            content.push_str(&format!("\nBilling method: {}", billing.replace('_', " ")));
        }
    }
    Ok(content)
}

/// An invoice: paid (an update that settled it), upcoming, or the summary; a new invoice adds
/// why it was created, its total and the amount due.
fn invoice(update: &Update<'_>, kind: &Kind<'_>) -> Result<Option<String>> {
    let object = update.object;
    let paid_now = kind.event == "updated"
        && update.body.pointer("/data/previous_attributes/paid") == Some(&Value::Bool(false))
        && object.get("paid") == Some(&Value::Bool(true))
        && number(object, "/amount_paid")? != 0
        && number(object, "/amount_remaining")? == 0;
    let mut content = if kind.event == "upcoming" {
        "Upcoming invoice created".to_owned()
    } else if paid_now {
        format!("[Invoice](https://dashboard.stripe.com/invoices/{}) is now paid", text(object, "/id")?)
    } else {
        let ignored = ["lines", "description", "number", "finalized_at", "status_transitions", "payment_intent"];
        let Some(summary) = update.summary(kind, &ignored)? else { return Ok(None) };
        summary
    };
    if kind.event == "created" {
        let currency = text(object, "/currency")?;
        content.push_str(&format!(
            " ({})\nTotal: {}\nAmount due: {}",
            text(object, "/billing_reason")?.replace('_', " "),
            amount(number(object, "/total")?, currency),
            amount(number(object, "/amount_due")?, currency)
        ));
    }
    Ok(Some(content))
}
