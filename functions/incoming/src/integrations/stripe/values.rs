//! How Stripe's values are shown: amounts in their currency, object ids as dashboard links,
//! and changed attributes (timestamps as dates).

use serde_json::Value;

/// Currencies Stripe counts in whole units.
const ZERO_DECIMAL: &[&str] =
    &["bif", "djf", "jpy", "krw", "pyg", "vnd", "xaf", "xpf", "clp", "gnf", "kmf", "mga", "rwf", "vuv", "xof"];

/// An amount in the currency's smallest unit as people read it: `$1.00`, `300000.00 INR`,
/// `500 JPY`.
pub(super) fn amount(amount: i64, currency: &str) -> String {
    let decimal = if ZERO_DECIMAL.contains(&currency) {
        amount.to_string()
    } else {
        let sign = if amount < 0 { "-" } else { "" };
        let cents = amount.unsigned_abs();
        format!("{sign}{}.{:02}", cents / 100, cents % 100)
    };
    if currency == "usd" { format!("${decimal}") } else { format!("{decimal} {}", currency.to_uppercase()) }
}

/// What an id's prefix names, and the dashboard's path for it (payment methods have none).
const PREFIXES: &[(&str, &str, Option<&str>)] = &[
    ("ch", "Charge", Some("charges")),
    ("cus", "Customer", Some("customers")),
    ("dp", "Dispute", Some("disputes")),
    ("du", "Dispute", Some("disputes")),
    ("file", "File", Some("files")),
    ("link", "File link", Some("file_links")),
    ("pi", "Payment intent", Some("payment_intents")),
    ("po", "Payout", Some("payouts")),
    ("prod", "Product", Some("products")),
    ("re", "Refund", Some("refunds")),
    ("tok", "Token", Some("tokens")),
    ("ba", "Bank account", None),
    ("card", "Card", None),
    ("src", "Source", None),
    ("in", "Invoice", Some("invoices")),
    ("ii", "Invoice item", Some("invoiceitems")),
    ("sub", "Subscription", Some("subscriptions")),
    ("si", "Subscription item", Some("subscription_items")),
    ("mbur", "Usage record", None),
    ("py", "Payment", Some("payments")),
    ("pyr", "Refund", Some("refunds")),
];

/// An object id as a link to it on the dashboard, `[Charge](https://dashboard.stripe.com/charges/ch_…)`
/// (`lower`: the name in lower case); an id of a kind without a page is its kind's name, and
/// an id of an unknown kind is shown as it is.
pub(super) fn linked_id(id: &str, lower: bool) -> String {
    let prefix = id.split('_').next().unwrap_or(id);
    let Some((_, name, path)) = PREFIXES.iter().find(|(p, _, _)| *p == prefix) else { return format!("`{id}`") };
    let name = if lower { name.to_lowercase() } else { (*name).to_owned() };
    match path {
        Some(path) => format!("[{name}](https://dashboard.stripe.com/{path}/{id})"),
        None => name,
    }
}

/// A changed attribute's new value: a Unix time (between mid-2017 and 2033) as a UTC date,
/// like `Nov 01, 2019, 12:00:00 UTC`; anything else written as Python writes values (`None`,
/// `True`, `{'a': 1}`), as Zulip shows them.
pub(super) fn python_str(value: &Value) -> String {
    if let Some(time) = value.as_i64()
        && value.is_i64()
        && time > 1_500_000_000
        && time < 2_000_000_000
    {
        return utc_date(time);
    }
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other, 0),
    }
}

/// Deeper values are elided: a changed attribute is shown on one line.
const MAX_DEPTH: usize = 8;

fn python_repr(value: &Value, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "...".into();
    }
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => {
            format!("[{}]", items.iter().map(|v| python_repr(v, depth + 1)).collect::<Vec<_>>().join(", "))
        }
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone()), depth + 1),
                    python_repr(v, depth + 1)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A Unix time as `Nov 01, 2019, 12:00:00 UTC`.
fn utc_date(time: i64) -> String {
    let (days, seconds) = (time.div_euclid(86_400), time.rem_euclid(86_400));
    let (year, month, day) = hookline_model::clock::civil_from_days(days);
    let month = usize::try_from(month - 1).ok().and_then(|m| MONTHS.get(m)).copied().unwrap_or("???");
    format!("{month} {day:02}, {year}, {:02}:{:02}:{:02} UTC", seconds / 3600, seconds % 3600 / 60, seconds % 60)
}
