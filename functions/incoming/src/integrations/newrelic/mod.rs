//! `newrelic`: New Relic's workflow webhook notifications, as Zulip's `newrelic`.
//!
//! The topic is the incident's title; the message shows its priority, state, last update and
//! who acknowledged it, with the policies, conditions, incident count, creation time and any
//! `zulipCustomFields` in a spoiler. A payload without the fields of the default template
//! gets a warning listing the missing ones, under the topic `New Relic incident alerts`.

#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use hookline_messaging::pyjson::float_repr;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, number, optional_text, text};

pub struct Newrelic;

const DEFAULT_NEWRELIC_URL: &str = "https://one.newrelic.com/alerts-ai";

const ALL_EVENT_TYPES: &[&str] = &["CREATED", "ACTIVATED", "CLOSED"];

/// The fields the default notification needs, in the order a warning lists them.
const EXPECTED_FIELDS: &[&str] = &[
    "issueUrl",
    "title",
    "priority",
    "totalIncidents",
    "state",
    "createdAt",
    "updatedAt",
    "alertPolicyNames",
    "alertConditionNames",
];

impl Integration for Newrelic {
    fn name(&self) -> &'static str {
        "newrelic"
    }

    fn display_name(&self) -> &'static str {
        "New Relic"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["monitoring"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        ALL_EVENT_TYPES
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        let Some(fields) = body.as_object() else {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        };
        let missing: Vec<String> =
            EXPECTED_FIELDS.iter().filter(|key| !fields.contains_key(**key)).map(|key| format!("`{key}`")).collect();
        if !missing.is_empty() {
            let content = format!(
                ":danger: A New Relic [incident]({DEFAULT_NEWRELIC_URL}) updated\n\n**Warning**: Unable to use the \
                 default notification format because at least one expected field was missing from the incident \
                 payload. See [New Relic integration documentation](/integrations/doc/newrelic).\n\n**Missing \
                 fields**: {}",
                missing.join(", ")
            );
            // Zulip sends this one without an event type, so no event filter applies to it;
            // the incident's state, when it has one, is the closest name.
            let event = optional_text(body, "state").ok().flatten().unwrap_or("").to_owned();
            return Ok(Handled {
                event,
                outcome: Outcome::Message { topic: "New Relic incident alerts".into(), content },
            });
        }

        let priority = text(body, "/priority")?;
        let priority_symbol = match priority {
            "CRITICAL" => ":red_circle:",
            "HIGH" => ":orange_circle:",
            "MEDIUM" => ":yellow:",
            "LOW" => ":blue_circle:",
            other => return Err(IntegrationError::Malformed(format!("unknown priority '{other}'"))),
        };
        let conditions = quoted_names(body, "/alertConditionNames")?;
        let alert_policy = quoted_names(body, "/alertPolicyNames")?;
        let owner = match optional_text(body, "owner")? {
            Some(owner) if !owner.is_empty() && owner != "N/A" => format!("**Acknowledged by**: {owner}"),
            _ => String::new(),
        };
        let title = text(body, "/title")?;
        let incident_url = text(body, "/issueUrl")?;
        let total_incidents = number(body, "/totalIncidents")?;
        let state = text(body, "/state")?;
        if !ALL_EVENT_TYPES.contains(&state) {
            return Err(IntegrationError::Malformed(format!("unknown state '{state}'")));
        }
        let time_created = timestamp(&body["createdAt"])?;
        let time_updated = timestamp(&body["updatedAt"])?;

        let mut details = format!(
            "\n- **Alert policies**: {alert_policy}\n- **Conditions**: {conditions}\n- **Total incidents**: \
             {total_incidents}\n- **Incident created at**: {time_created}\n"
        );
        details.push_str(&custom_fields(payload)?);
        let content = format!(
            "{priority_symbol} **[{title}]({incident_url})**\n\n```quote\n**Priority**: {priority}\n**State**: \
             {state}\n**Updated at**: {time_updated}\n{owner}\n```\n\n```spoiler :file: Incident details\n{details}\n```"
        );
        Ok(Handled { event: state.to_owned(), outcome: Outcome::Message { topic: title.to_owned(), content } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/incident_activated_new_default_payload.json"))
    }
}

/// A list of names as `` `a`, `b` ``.
fn quoted_names(body: &Value, pointer: &str) -> Result<String, IntegrationError> {
    if !body.pointer(pointer).is_some_and(Value::is_array) {
        return Err(IntegrationError::Malformed(format!("expected a list at {pointer}")));
    }
    let names = list(body, pointer)?
        .iter()
        .map(|name| {
            name.as_str()
                .map(|name| format!("`{name}`"))
                .ok_or_else(|| IntegrationError::Malformed(format!("expected text in {pointer}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names.join(", "))
}

/// Unix milliseconds as Zulip's global time, `<time: 2024-04-22 07:08:28.699000+00:00 >`.
/// Text, or a number that is not a whole count of milliseconds within years 1 to 9999, is
/// refused with Zulip's message.
fn timestamp(value: &Value) -> Result<String, IntegrationError> {
    let refused = || IntegrationError::BadRequest("The newrelic webhook expects time in milliseconds.".into());
    let millis = match value {
        Value::Number(n) => n.as_i64().ok_or_else(refused)?,
        Value::String(_) => return Err(refused()),
        _ => return Err(IntegrationError::Malformed("expected a number of milliseconds".into())),
    };
    // 0001-01-01T00:00:00 to 9999-12-31T23:59:59.999.
    if !(-62_135_596_800_000..=253_402_300_799_999).contains(&millis) {
        return Err(refused());
    }
    let seconds = millis.div_euclid(1000);
    let micros = millis.rem_euclid(1000) * 1000;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = hookline_model::clock::civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
    let fraction = if micros == 0 { String::new() } else { format!(".{micros:06}") };
    Ok(format!("<time: {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}{fraction}+00:00 >"))
}

/// The `zulipCustomFields` lines, in the payload's order: `- **Name**: value`, a list's items
/// joined with `, `, values shown as Python shows them; a value of another shape is named as
/// unsupported.
fn custom_fields(payload: &Payload<'_>) -> Result<String, IntegrationError> {
    let fields = match payload.body.get("zulipCustomFields") {
        None => return Ok(String::new()),
        Some(Value::Object(fields)) => fields,
        Some(_) => return Err(IntegrationError::Malformed("expected an object at zulipCustomFields".into())),
    };
    // The parsed body's keys are sorted; the raw body keeps the sender's order.
    let ordered: Vec<(String, Value)> = serde_json::from_slice::<CustomFields>(payload.raw)
        .ok()
        .and_then(|custom| custom.fields)
        .filter(|ordered| ordered.len() == fields.len())
        .unwrap_or_else(|| fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    let mut out = String::new();
    for (key, value) in &ordered {
        let name = capitalize(key);
        let shown = match value {
            Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>().map(|items| items.join(", ")),
            other => scalar(other),
        };
        match shown {
            Some(shown) => writeln!(out, "- **{name}**: {shown}"),
            None => writeln!(out, "- **{name}**: *Value is not a supported data type*"),
        }
        .expect("writing to a String cannot fail");
    }
    Ok(out)
}

/// A scalar as Python's `str()` shows it; `None` for a list or an object.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("None".into()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => float_repr(f),
            _ => n.to_string(),
        }),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Python's `str.capitalize`: the first character upper case, the rest lower case.
fn capitalize(key: &str) -> String {
    let mut chars = key.chars();
    chars
        .next()
        .map_or_else(String::new, |first| first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect())
}

/// The body's `zulipCustomFields`, its keys in the order they were sent.
#[derive(serde::Deserialize)]
struct CustomFields {
    #[serde(rename = "zulipCustomFields", default, deserialize_with = "ordered_object")]
    fields: Option<Vec<(String, Value)>>,
}

fn ordered_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<(String, Value)>>, D::Error> {
    struct Ordered;
    impl<'de> Visitor<'de> for Ordered {
        type Value = Option<Vec<(String, Value)>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<(String, Value)> = Vec::new();
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                // A repeated key keeps its last value at its first place, as Python's dict does.
                match entries.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = value,
                    None => entries.push((key, value)),
                }
            }
            Ok(Some(entries))
        }
    }
    deserializer.deserialize_map(Ordered)
}
