use serde_json::{Value, json};

use super::values::{amount, linked_id, python_str};
use super::*;

fn run(body: &Value) -> Result<Handled> {
    Stripe.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Stripe.sample();
    assert_eq!(event, None);
    assert_eq!(run(&serde_json::from_str(sample).unwrap()).unwrap().event, "charge.succeeded");
}

#[test]
fn amounts_are_shown_in_their_currency() {
    assert_eq!(amount(100, "usd"), "$1.00");
    assert_eq!(amount(-5, "eur"), "-0.05 EUR");
    assert_eq!(amount(500, "jpy"), "500 JPY");
    assert_eq!(amount(i64::MIN, "eur"), "-92233720368547758.08 EUR");
}

#[test]
fn ids_link_to_the_dashboard_by_prefix() {
    assert_eq!(linked_id("re_1", true), "[refund](https://dashboard.stripe.com/refunds/re_1)");
    assert_eq!(linked_id("card_1", false), "Card");
    assert_eq!(linked_id("zz_1", false), "`zz_1`");
}

#[test]
fn values_are_written_as_zulip_shows_them() {
    assert_eq!(python_str(&json!(1_572_609_600)), "Nov 01, 2019, 12:00:00 UTC");
    assert_eq!(python_str(&json!(1_500_000_000)), "1500000000");
    assert_eq!(python_str(&json!(null)), "None");
    assert_eq!(python_str(&json!(true)), "True");
    assert_eq!(python_str(&json!(2.0)), "2.0");
    assert_eq!(python_str(&json!({"a": [1, "b's"]})), "{'a': [1, 'b\\'s']}");
    assert_eq!(python_str(&json!("text")), "text");
}

#[test]
fn an_update_lists_its_changes_sorted() {
    let body = json!({
        "type": "customer.updated",
        "data": {
            "object": {"id": "cus_1", "email": "a@b.c", "delinquent": true, "name": "Ada"},
            "previous_attributes": {"name": "Al", "email": null, "delinquent": false},
        },
    });
    let Outcome::Message { topic, content } = run(&body).unwrap().outcome else { panic!() };
    assert_eq!(topic, "cus_1");
    assert_eq!(
        content,
        "[Customer](https://dashboard.stripe.com/customers/cus_1) updated\n* Email is now a@b.c\n* Name is now Ada"
    );
}

#[test]
fn the_signature_signs_the_timestamp_and_the_body() {
    let raw = br#"{"type":"charge.succeeded"}"#;
    let v1 = hex::encode(signature::mac(signature::Hash::Sha256, "whsec", &[b"12.", raw]));
    let check = |header: String| {
        let headers = vec![("stripe-signature".to_owned(), header)];
        Stripe.verify("whsec", &Payload { params: &[], event_type: None, headers: &headers, body: &Value::Null, raw })
    };
    assert!(check(format!("t=12,v1={v1}")).is_ok());
    assert!(check(format!("t=12, v1=00, v1={v1}")).is_ok());
    assert!(check(format!("v1={v1}")).is_err());
    assert!(check(format!("t=13,v1={v1}")).is_err());
    assert!(check("t=12,v1=zz".to_owned()).is_err());
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    for body in [
        json!({}),
        json!({"type": 7}),
        json!({"type": "charge.succeeded", "data": {"object": 7}}),
        json!({"type": "charge.succeeded", "data": {"object": {"id": "ch_1", "amount": "1", "currency": "eur"}}}),
        json!({"type": "customer.updated", "data": {"object": {"id": "cus_1"}, "previous_attributes": {"name": "x"}}}),
        json!({"type": "customer.subscription.trial_will_end", "data": {"object": {"id": "sub_1", "trial_end": 9}}}),
    ] {
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{body}");
    }
}

#[test]
fn undeclared_types_are_unsupported() {
    assert!(matches!(run(&json!({"type": "payout.paid"})), Err(IntegrationError::Unsupported { .. })));
    assert!(matches!(run(&json!({"type": "a.b.c.d"})), Err(IntegrationError::Unsupported { .. })));
}
