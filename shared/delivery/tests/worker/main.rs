//! The outgoing worker against a scripted bot endpoint on the embedded store and queue, with
//! the clock in the test's hands.

mod support;

use std::time::Duration;

use hookline_delivery::worker::JobOutcome;
use hookline_model::delivery::QueueJob;
use hookline_model::store::{DeliveryStore as _, ServiceStore as _, StreamStore as _};
use hookline_model::user::Interface;
use hookline_model::{DeliveryState, Message, Recipient};
use serde_json::Value;
use support::{Answer, World, world};

fn json_body(received: &support::Received) -> Value {
    serde_json::from_slice(&received.body).expect("a JSON payload")
}

async fn only_delivery(w: &World) -> hookline_model::Delivery {
    let all = w.store.list_deliveries(w.realm.id, w.bot.id, None, None, 10).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_mention_is_posted_in_zulips_format_and_the_reply_lands_in_the_same_topic() {
    let w = world(Interface::Zulip, false).await;
    w.script.then(Answer::json(200, r#"{"content": "pong from the bot"}"#));
    let trigger = w.say("@**Echo Bot** ping").await;
    let (_, outcome) = w.work().await.expect("a job");
    assert_eq!(outcome, JobOutcome::Done);

    let received = w.script.received();
    assert_eq!(received.len(), 1);
    let payload = json_body(&received[0]);
    assert_eq!(payload["data"], "@**Echo Bot** ping");
    assert_eq!(payload["token"], "the-service-token");
    assert_eq!(payload["trigger"], "mention");
    assert_eq!(payload["bot_email"], "echo-bot@acme.test");
    assert_eq!(payload["bot_full_name"], "Echo Bot");
    assert_eq!(payload["message"]["id"], trigger.id);
    assert_eq!(payload["message"]["content"], "@**Echo Bot** ping");
    assert!(payload["message"]["rendered_content"].as_str().unwrap().contains("user-mention"));
    assert_eq!(payload["message"]["subject"], "lunch");
    let headers = &received[0].headers;
    assert!(headers["user-agent"].to_str().unwrap().starts_with("Hookline/"));
    assert_eq!(headers["webhook-id"], format!("msg_{}_{}_{}", w.realm.id, trigger.id, w.bot.id).as_str());
    assert!(headers["webhook-signature"].to_str().unwrap().starts_with("v1,"));

    let replies = w.bot_messages().await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].content, "pong from the bot");
    assert_eq!(replies[0].recipient, trigger.recipient);
    assert_eq!(replies[0].client, "OutgoingWebhookResponse");
    let delivery = only_delivery(&w).await;
    assert_eq!(
        (delivery.state, delivery.attempt_count, delivery.reply_message_id),
        (DeliveryState::Delivered, 1, Some(replies[0].id))
    );
    assert_eq!(delivery.attempts[0].status, Some(200));
    assert!(w.work().await.is_none(), "the reply, from a bot, triggered nothing");
}

#[tokio::test]
async fn the_zulip_payload_has_zulips_fields_and_nothing_else() {
    let w = world(Interface::Zulip, false).await;
    let trigger = w.say("@**Echo Bot** what's for *lunch*?").await;
    w.work().await.unwrap();
    let mut payload = json_body(&w.script.received()[0]);
    let rendered = payload["message"]["rendered_content"].take();
    assert!(rendered.as_str().unwrap().contains("<em>lunch</em>"), "{rendered}");
    let stream_id = w.store.find_stream(w.realm.id, "general").await.unwrap().unwrap().id;
    let expected = serde_json::json!({
        "data": "@**Echo Bot** what's for *lunch*?",
        "token": "the-service-token",
        "trigger": "mention",
        "bot_email": "echo-bot@acme.test",
        "bot_full_name": "Echo Bot",
        "message": {
            "id": trigger.id,
            "sender_id": w.ada.id,
            "sender_email": "ada@acme.test",
            "sender_full_name": "Ada",
            "sender_realm_str": "acme",
            "type": "stream",
            "stream_id": stream_id,
            "display_recipient": "general",
            "recipient_id": stream_id,
            "subject": "lunch",
            "topic_links": [],
            "timestamp": support::START / 1000,
            "content": "@**Echo Bot** what's for *lunch*?",
            "content_type": "text/x-markdown",
            "rendered_content": null,
            "client": "test",
            "avatar_url": hookline_messaging::format::avatar_url("ada@acme.test"),
            "is_me_message": false,
            "reactions": [],
            "submessages": [],
        },
    });
    assert_eq!(payload, expected);
    assert!(
        payload["message"]["avatar_url"].as_str().unwrap().starts_with("https://secure.gravatar.com/avatar/"),
        "{payload}"
    );

    // A direct message lists its participants, and `/me` messages are flagged.
    w.dm("/me waves").await;
    w.work().await.unwrap();
    let payload = json_body(&w.script.received()[1]);
    let people: Vec<(u64, &str)> = payload["message"]["display_recipient"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_u64().unwrap(), p["email"].as_str().unwrap()))
        .collect();
    assert_eq!(people, [(w.ada.id, "ada@acme.test"), (w.bot.id, "echo-bot@acme.test")]);
    assert_eq!(
        (payload["trigger"].as_str(), payload["message"]["type"].as_str()),
        (Some("direct_message"), Some("private"))
    );
    assert_eq!(
        (payload["message"]["subject"].as_str(), payload["message"]["is_me_message"].as_bool()),
        (Some(""), Some(true))
    );
    assert!(payload["message"].get("stream_id").is_none() && payload["message"].get("flags").is_none(), "{payload}");
}

#[tokio::test]
async fn a_direct_message_is_answered_in_the_same_thread_and_empty_answers_post_nothing() {
    let w = world(Interface::Zulip, false).await;
    w.script
        .then(Answer::json(200, r#"{"response_string": "hi there"}"#))
        .then(Answer::json(200, r#"{"response_not_required": true}"#));
    let first = w.dm("hello").await;
    w.work().await.unwrap();
    assert_eq!(json_body(&w.script.received()[0])["trigger"], "direct_message");
    let replies = w.bot_messages().await;
    assert_eq!(
        (replies[0].content.as_str(), &replies[0].recipient),
        ("hi there", &Recipient::direct(w.ada.id, [w.bot.id]))
    );
    assert_eq!(first.recipient, replies[0].recipient);
    w.dm("again").await;
    w.work().await.unwrap();
    assert_eq!(w.bot_messages().await.len(), 1, "response_not_required posts nothing");
}

#[tokio::test]
async fn a_duplicate_job_or_a_crash_after_posting_never_posts_a_second_reply() {
    let w = world(Interface::Zulip, false).await;
    w.script.always(Answer::json(200, r#"{"content": "only once"}"#));
    let trigger = w.say("@**Echo Bot** hi").await;
    // The same job twice (SQS delivers at least once)
    let job = hookline_model::DeliveryJob {
        realm_id: w.realm.id,
        message_id: trigger.id,
        bot_id: w.bot.id,
        trigger: hookline_model::Trigger::Mention,
        redelivery: 0,
    };
    use hookline_model::queue::DeliveryQueue as _;
    w.queue.enqueue(&[QueueJob::Deliver(job.clone())]).await.unwrap();
    w.work().await.unwrap();
    w.work().await.unwrap();
    assert_eq!(w.script.received().len(), 1, "the second job found the delivery finished");
    assert_eq!(w.bot_messages().await.len(), 1);

    // A worker that posted a reply and died before recording: the next run POSTs again but
    // the reply is not posted twice.
    let second = w.say("@**Echo Bot** again").await;
    let delivery_id = hookline_model::DeliveryJob { message_id: second.id, ..job.clone() }.delivery_id();
    w.store
        .ensure_delivery(&hookline_model::Delivery::new(
            &hookline_model::DeliveryJob { message_id: second.id, ..job },
            w.now(),
            1_000_000,
        ))
        .await
        .unwrap();
    let early = hookline_messaging::send::SendRequest {
        realm: w.realm.clone(),
        sender: w.bot.clone(),
        destination: hookline_messaging::send::Destination::Thread(second.recipient.clone()),
        content: "only once".into(),
        client: "Hookline".into(),
        idempotency_key: None,
        reply_to: Some(delivery_id),
    };
    w.sender.send(early).await.unwrap();
    w.work().await.unwrap();
    assert_eq!(w.script.received().len(), 2);
    let replies: Vec<_> = w.bot_messages().await.into_iter().filter(|m| m.id > second.id).collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(w.store.get_delivery(w.realm.id, delivery_id).await.unwrap().unwrap().state, DeliveryState::Delivered);
}

/// Takes the next job and runs the world's worker on it until the bot has been POSTed, then
/// drops it there, as a process killed while waiting for the bot's answer. The bot's first
/// answer must take longer than the test. Returns the job, still on the queue.
async fn kill_worker_after_the_post(w: &World) -> hookline_model::queue::ReceivedJob {
    use hookline_model::queue::DeliveryQueue as _;
    let job = w.queue.receive(1, Duration::ZERO).await.unwrap().pop().expect("a job");
    let posts_before = w.script.received().len();
    tokio::select! {
        outcome = w.worker.process(&job.body, &job.receipt_handle) => panic!("the worker finished: {outcome:?}"),
        () = async {
            while w.script.received().len() == posts_before {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        } => {}
    }
    job
}

/// Moves the clock past the dead worker's lease and the job's visibility timeout, lets another
/// worker take the redelivered job, and checks that the trigger has exactly one reply and its
/// delivery ended delivered.
async fn take_over_and_check_one_reply(w: &World, trigger: &Message, posts: usize) {
    use hookline_model::queue::DeliveryQueue as _;
    w.clock.advance(200_000);
    let survivor = w.another_worker();
    let job = w.queue.receive(1, Duration::ZERO).await.unwrap().pop().expect("the job came back");
    assert_eq!(survivor.process(&job.body, &job.receipt_handle).await, JobOutcome::Done);
    w.queue.delete(&job.receipt_handle).await.unwrap();
    assert_eq!(w.script.received().len(), posts, "POSTs to the bot");
    let replies: Vec<_> = w.bot_messages().await.into_iter().filter(|m| m.id > trigger.id).collect();
    assert_eq!(replies.len(), 1, "one reply: {replies:?}");
    assert_eq!(replies[0].content, "only once");
    let delivery = only_delivery(w).await;
    assert_eq!(delivery.state, DeliveryState::Delivered);
    assert!(w.queue.receive(1, Duration::ZERO).await.unwrap().is_empty(), "nothing left on the queue");
}

#[tokio::test]
async fn a_worker_killed_between_the_post_and_the_reply_write_never_posts_a_second_reply() {
    let w = world(Interface::Zulip, false).await;
    w.script.then(Answer { delay: Duration::from_secs(3600), ..Answer::json(200, r#"{"content": "only once"}"#) });
    w.script.always(Answer::json(200, r#"{"content": "only once"}"#));
    let trigger = w.say("@**Echo Bot** hi").await;
    let job = kill_worker_after_the_post(&w).await;
    assert!(w.bot_messages().await.is_empty(), "the dead worker wrote no reply");
    assert_eq!(only_delivery(&w).await.state, DeliveryState::Pending);
    // Seen again 25 s into the dead worker's 30 s lease, the job waits out the rest of it.
    w.clock.advance(25_000);
    let early = w.another_worker().process(&job.body, &job.receipt_handle).await;
    assert_eq!(early, JobOutcome::RetryAfter(Duration::from_secs(5)));
    // The bot is POSTed again (at least once), and its answer becomes the one reply.
    take_over_and_check_one_reply(&w, &trigger, 2).await;
}

#[tokio::test]
async fn a_worker_killed_between_the_reply_write_and_the_batch_answer_never_posts_a_second_reply() {
    let w = world(Interface::Zulip, false).await;
    w.script.then(Answer { delay: Duration::from_secs(3600), ..Answer::json(200, r#"{"content": "only once"}"#) });
    w.script.always(Answer::json(200, r#"{"content": "only once"}"#));
    let trigger = w.say("@**Echo Bot** hi").await;
    kill_worker_after_the_post(&w).await;
    // What the dead worker did before dying: it read the bot's answer and wrote the reply
    // (marked as the delivery's), but recorded nothing and never answered the batch.
    let delivery = only_delivery(&w).await;
    let reply = hookline_messaging::send::SendRequest {
        realm: w.realm.clone(),
        sender: w.bot.clone(),
        destination: hookline_messaging::send::Destination::Thread(trigger.recipient.clone()),
        content: "only once".into(),
        client: "Hookline".into(),
        idempotency_key: None,
        reply_to: Some(delivery.id),
    };
    w.sender.send(reply).await.unwrap();
    take_over_and_check_one_reply(&w, &trigger, 2).await;

    // Killed after recording the outcome, before the batch answer: the redelivered job finds
    // the delivery final and neither POSTs nor replies again.
    let second = w.say("@**Echo Bot** again").await;
    use hookline_model::queue::DeliveryQueue as _;
    let job = w.queue.receive(1, Duration::ZERO).await.unwrap().pop().expect("a job");
    assert_eq!(w.worker.process(&job.body, &job.receipt_handle).await, JobOutcome::Done);
    w.clock.advance(200_000);
    assert!(w.work().await.is_some(), "the unanswered job came back");
    assert_eq!(w.script.received().len(), 3, "no second POST for the finished delivery");
    let replies: Vec<_> = w.bot_messages().await.into_iter().filter(|m| m.id > second.id).collect();
    assert_eq!(replies.len(), 1);
}

#[tokio::test]
async fn a_bot_with_a_patient_schedule_is_retried_on_it_and_the_last_failure_is_reported_zulips_way() {
    let w = world(Interface::Zulip, false).await;
    let mut service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
    let read_at = service.updated_at;
    service.retry_schedule = Some(hookline_delivery::schedule::PATIENT.into());
    service.updated_at += 1;
    w.store.update_service(&service, read_at).await.unwrap();
    w.script.always(Answer::json(503, "upstream sleeping"));
    let trigger = w.say("@**Echo Bot** are you there?").await;
    let scheduled = [5, 30, 120, 600, 1800, 3600];
    for (attempt, base) in scheduled.iter().enumerate() {
        let (_, outcome) = w.work().await.expect("the job is visible again");
        let JobOutcome::RetryAfter(wait) = outcome else { panic!("attempt {} gave {outcome:?}", attempt + 1) };
        let (low, high) = (Duration::from_secs(*base).mul_f64(0.8), Duration::from_secs(*base).mul_f64(1.2));
        assert!(wait >= low && wait <= high, "attempt {}: waited {wait:?}, expected about {base}s", attempt + 1);
        // The job is invisible until then
        assert!(w.work().await.is_none());
        w.clock.advance(i64::try_from(wait.as_millis()).unwrap());
    }
    let (_, last) = w.work().await.expect("the seventh attempt");
    assert_eq!(last, JobOutcome::Done);
    let delivery = only_delivery(&w).await;
    assert_eq!((delivery.state, delivery.attempt_count), (DeliveryState::Failed, 7));
    assert!(delivery.attempts.iter().all(|a| a.status == Some(503) && a.response_excerpt == "upstream sleeping"));

    let bot_said: Vec<(Recipient, String)> =
        w.bot_messages().await.into_iter().map(|m| (m.recipient, m.content)).collect();
    // In the conversation: Zulip's failure reply
    assert!(
        bot_said.contains(&(trigger.recipient.clone(), "Failure! Third party responded with 503".into())),
        "{bot_said:?}"
    );
    // To the owner: a heads-up after the third attempt, then the final notice (Zulip's link line first)
    let to_owner: Vec<&String> =
        bot_said.iter().filter(|(r, _)| *r == Recipient::direct(w.ada.id, [w.bot.id])).map(|(_, c)| c).collect();
    assert_eq!(to_owner.len(), 2, "{to_owner:?}");
    for notice in &to_owner {
        assert!(notice.starts_with("[A message](https://chat.acme.test/#narrow/"), "{notice}");
        assert!(notice.contains("to your bot @_**Echo Bot** triggered an outgoing webhook."), "{notice}");
    }
    assert!(to_owner[1].contains("The webhook got a response with status code *503*."), "{}", to_owner[1]);
    assert!(to_owner[1].contains("upstream sleeping"));
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_twice_the_scheduled_wait() {
    let w = world(Interface::Zulip, false).await;
    let slow_down = |seconds: &str| {
        let mut answer = Answer::json(429, "slow down");
        answer.headers.push(("retry-after", seconds.into()));
        answer
    };
    w.script.then(slow_down("3")).then(slow_down("60")).then(Answer::json(200, r#"{"content": "ok now"}"#));
    w.say("@**Echo Bot** hi").await;
    // 2 s scheduled (1.6–2.4 s jittered), raised to the 3 s asked for
    let (_, outcome) = w.work().await.unwrap();
    assert_eq!(outcome, JobOutcome::RetryAfter(Duration::from_secs(3)));
    w.clock.advance(3_000);
    // 4 s scheduled: the 60 s asked for is held to twice that
    let (_, outcome) = w.work().await.unwrap();
    assert_eq!(outcome, JobOutcome::RetryAfter(Duration::from_secs(8)));
    w.clock.advance(8_000);
    assert_eq!(w.work().await.unwrap().1, JobOutcome::Done);
    assert_eq!(w.bot_messages().await[0].content, "ok now");
}

#[tokio::test]
async fn timeouts_are_retried_and_then_reported_as_an_unavailable_bot() {
    let config = hookline_delivery::worker::WorkerConfig {
        timeouts: hookline_delivery::client::Timeouts {
            connect: Duration::from_secs(1),
            total: Duration::from_millis(300),
        },
        schedule: hookline_delivery::schedule::RetrySchedule { delays: vec![Duration::from_secs(2)] },
        ..Default::default()
    };
    let w = support::world_with(Interface::Zulip, false, config).await;
    let mut slow = Answer::json(200, r#"{"content": "too late"}"#);
    slow.delay = Duration::from_secs(2);
    w.script.always(slow);
    let trigger = w.say("@**Echo Bot** hurry").await;
    let (_, first) = w.work().await.unwrap();
    let JobOutcome::RetryAfter(wait) = first else { panic!("{first:?}") };
    w.clock.advance(i64::try_from(wait.as_millis()).unwrap());
    assert_eq!(w.work().await.unwrap().1, JobOutcome::Done);
    let delivery = only_delivery(&w).await;
    assert_eq!((delivery.state, delivery.attempt_count), (DeliveryState::Failed, 2));
    assert!(
        delivery
            .attempts
            .iter()
            .all(|a| a.status.is_none() && a.error.as_deref().is_some_and(|e| e.contains("timed out")))
    );
    let said: Vec<(Recipient, String)> = w.bot_messages().await.into_iter().map(|m| (m.recipient, m.content)).collect();
    assert!(said.contains(&(trigger.recipient.clone(), "Failure! Bot is unavailable".to_owned())), "{said:?}");
    assert!(said.iter().any(|(_, c)| c.contains("Request timed out after 1 seconds.")), "{said:?}");
}

#[tokio::test]
async fn final_answers_fail_at_once_with_zulips_wording() {
    for (answer, reply) in [
        (Answer::json(404, "no such hook"), "Failure! Third party responded with 404"),
        (Answer::json(302, ""), "Failure! Third party responded with 302"),
        (Answer::json(200, "<html>not json</html>"), "Failure! Invalid JSON in response"),
        (Answer::json(200, "[1, 2]"), "Failure! Invalid response format"),
    ] {
        let w = world(Interface::Zulip, false).await;
        w.script.then(answer);
        w.say("@**Echo Bot** hi").await;
        assert_eq!(w.work().await.unwrap().1, JobOutcome::Done);
        let delivery = only_delivery(&w).await;
        assert_eq!((delivery.state, delivery.attempt_count), (DeliveryState::Failed, 1));
        let said: Vec<String> = w.bot_messages().await.into_iter().map(|m| m.content).collect();
        assert_eq!(said[0], reply);
        assert!(said[1].starts_with("[A message]"), "{said:?}");
    }
}

#[tokio::test]
async fn gone_switches_the_service_off_and_tells_the_owner() {
    let w = world(Interface::Zulip, false).await;
    w.script.then(Answer::json(410, "gone"));
    w.say("@**Echo Bot** hi").await;
    w.work().await.unwrap();
    let service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
    assert!(!service.is_active);
    assert_eq!(service.deactivated_reason.as_deref(), Some("410 Gone"));
    let said: Vec<String> = w.bot_messages().await.into_iter().map(|m| m.content).collect();
    assert!(said.iter().any(|m| m.contains("switched off")), "{said:?}");
    // A switched-off service is POSTed nothing more (a directory cached before the switch may
    // still enqueue a job; the worker re-checks the service and drops it)
    w.say("@**Echo Bot** still there?").await;
    while w.work().await.is_some() {}
    assert_eq!(w.script.received().len(), 1);
    let log = w.store.list_deliveries(w.realm.id, w.bot.id, None, None, 10).await.unwrap();
    assert!(log.iter().all(|d| d.state == DeliveryState::Failed), "{log:?}");
}

#[tokio::test]
async fn a_service_that_fails_everything_for_a_day_is_switched_off() {
    let w = world(Interface::Zulip, false).await;
    w.script.always(Answer::json(404, "nope"));
    w.say("@**Echo Bot** one").await;
    w.work().await.unwrap();
    let service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
    assert_eq!((service.is_active, service.failing_since), (true, Some(support::START)));
    // Still failing a day later: switched off, and the owner is told why
    w.clock.advance(24 * 3_600_000);
    w.say("@**Echo Bot** two").await;
    w.work().await.unwrap();
    let service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
    assert!(!service.is_active);
    assert_eq!(service.deactivated_reason.as_deref(), Some("failing for 24 hours"));
    let said: Vec<String> = w.bot_messages().await.into_iter().map(|m| m.content).collect();
    assert!(said.iter().any(|m| m.contains("every delivery failed for 24 hours")), "{said:?}");
}

#[tokio::test]
async fn a_success_clears_the_failing_streak() {
    let w = world(Interface::Zulip, false).await;
    w.script.then(Answer::json(404, "nope")).then(Answer::json(200, "{}"));
    w.say("@**Echo Bot** one").await;
    w.work().await.unwrap();
    w.say("@**Echo Bot** two").await;
    w.work().await.unwrap();
    let service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
    assert_eq!((service.is_active, service.failing_since), (true, None));
}

#[tokio::test]
async fn the_slack_format_is_form_encoded_and_refuses_direct_messages() {
    let w = world(Interface::Slack, false).await;
    w.script.then(Answer::json(200, r#"{"text": "slack says hi"}"#));
    let trigger = w.say("@**Echo Bot** hello slack").await;
    w.work().await.unwrap();
    let received = &w.script.received()[0];
    assert_eq!(received.headers["content-type"], "application/x-www-form-urlencoded");
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&received.body).unwrap();
    let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "token",
            "team_id",
            "team_domain",
            "channel_id",
            "channel_name",
            "thread_ts",
            "timestamp",
            "user_id",
            "user_name",
            "text",
            "trigger_word",
            "service_id"
        ]
    );
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(field("text"), "@**Echo Bot** hello slack");
    assert_eq!(field("channel_name"), "general");
    assert_eq!(field("user_id"), format!("U{}", w.ada.id));
    assert_eq!(field("service_id"), w.bot.id.to_string());
    assert_eq!(w.bot_messages().await[0].content, "slack says hi");
    assert_eq!(w.bot_messages().await[0].recipient, trigger.recipient);

    let psst = w.dm("psst").await;
    w.work().await.unwrap();
    assert_eq!(w.script.received().len(), 1, "nothing is POSTed for a DM");
    // Only Zulip's failure reply in the thread: no owner notice, though the owner sent the DM
    let in_thread: Vec<(String, String)> = w
        .bot_messages()
        .await
        .into_iter()
        .filter(|m| m.recipient == psst.recipient)
        .map(|m| (m.content, m.client))
        .collect();
    assert_eq!(
        in_thread,
        [(
            "Failure! Slack outgoing webhooks don't support direct messages.".to_owned(),
            "OutgoingWebhookResponse".to_owned()
        )]
    );
    assert_eq!(w.bot_messages().await.len(), 2, "the first reply and the failure, nothing else");
    let service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
    assert_eq!((service.failing_since, service.last_owner_notice_at), (None, None), "the endpoint was not at fault");
    let log = w.store.list_deliveries(w.realm.id, w.bot.id, None, None, 10).await.unwrap();
    assert_eq!(log[0].state, DeliveryState::Failed);
}

#[tokio::test]
async fn private_endpoints_are_refused_unless_allowed() {
    for url in [
        "http://127.0.0.1:9/bot",
        "http://[::ffff:127.0.0.1]:9/bot",
        "http://localhost:9/bot",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let w = world(Interface::Zulip, true).await;
        let mut service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
        let read_at = service.updated_at;
        service.base_url = url.into();
        service.updated_at += 1;
        w.store.update_service(&service, read_at).await.unwrap();
        w.say("@**Echo Bot** hi").await;
        assert_eq!(w.work().await.unwrap().1, JobOutcome::Done, "{url}");
        let delivery = only_delivery(&w).await;
        assert_eq!(delivery.state, DeliveryState::Failed, "{url}");
        // The delivery log keeps the real reason...
        let error = delivery.attempts[0].error.clone().unwrap_or_default();
        assert!(error.contains("not allowed") || error.contains("no allowed address"), "{url}: {error}");
        // ...while people read Zulip's words, never the address or the rule
        let said: Vec<String> = w.bot_messages().await.into_iter().map(|m| m.content).collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert_eq!(said[0], "Failure! The URL configured for the webhook is for a private or disallowed network.");
        assert!(
            said[1].ends_with(
                "triggered an outgoing webhook.\nThe URL configured for the webhook is for a private or disallowed network."
            ),
            "{}",
            said[1]
        );
        for text in &said {
            for leak in ["127.0.0.1", "169.254", "localhost", "::ffff", "not allowed", "resolves"] {
                assert!(!text.contains(leak), "{url}: {text}");
            }
        }
    }
    // The same endpoint on loopback works when private endpoints are allowed
    let w = world(Interface::Zulip, false).await;
    w.say("@**Echo Bot** hi").await;
    w.work().await.unwrap();
    assert_eq!(only_delivery(&w).await.state, DeliveryState::Delivered);
    assert_eq!(w.script.received().len(), 1);
}

#[tokio::test]
async fn signatures_verify_with_an_independent_library_across_a_key_rotation() {
    let python = std::env::var("HOOKLINE_TEST_PYTHON").expect("HOOKLINE_TEST_PYTHON: run the tests with scripts/test");
    let w = world(Interface::Zulip, false).await;
    // Standard Webhooks receivers refuse timestamps five minutes off: sign at the real time.
    let real_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    w.clock.set(i64::try_from(real_now).unwrap());
    let mut service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
    let old_secret = service.signing.current.clone();
    let new_secret = hookline_model::credentials::generate_signing_secret();
    let read_at = service.updated_at;
    service.signing = service.signing.rotated(new_secret.clone(), w.now(), 86_400_000);
    service.updated_at = w.now();
    w.store.update_service(&service, read_at).await.unwrap();
    w.say("@**Echo Bot** signed?").await;
    w.work().await.unwrap();
    let received = &w.script.received()[0];
    let signature = received.headers["webhook-signature"].to_str().unwrap().to_owned();
    assert_eq!(signature.split(' ').count(), 2, "both secrets sign during the rotation");
    let body = std::env::temp_dir().join(format!("hookline-signed-{}", rand_suffix()));
    std::fs::write(&body, &received.body).unwrap();
    let verify = |secret: &str| {
        std::process::Command::new(&python)
            .args(["-c", VERIFY, secret, body.to_str().unwrap()])
            .args([
                received.headers["webhook-id"].to_str().unwrap(),
                received.headers["webhook-timestamp"].to_str().unwrap(),
                &signature,
            ])
            .output()
            .unwrap()
    };
    for secret in [&old_secret, &new_secret] {
        let out = verify(secret);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified");
    }
    let stranger = verify(&hookline_model::credentials::generate_signing_secret());
    assert!(!stranger.status.success(), "a wrong secret must not verify");
    let _ = std::fs::remove_file(body);
}

const VERIFY: &str = r#"
import sys
from standardwebhooks.webhooks import Webhook
secret, body_path, msg_id, timestamp, signature = sys.argv[1:6]
payload = open(body_path, "rb").read()
Webhook(secret).verify(payload, {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature})
print("verified")
"#;

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[tokio::test]
async fn a_redelivery_keeps_the_webhook_id_and_is_not_retried() {
    let w = world(Interface::Zulip, false).await;
    w.script.then(Answer::json(200, r#"{"content": "first"}"#)).then(Answer::json(503, "down"));
    let trigger = w.say("@**Echo Bot** hi").await;
    w.work().await.unwrap();
    let redelivery = hookline_model::DeliveryJob {
        realm_id: w.realm.id,
        message_id: trigger.id,
        bot_id: w.bot.id,
        trigger: hookline_model::Trigger::Mention,
        redelivery: 1,
    };
    use hookline_model::queue::DeliveryQueue as _;
    w.queue.enqueue(&[QueueJob::Deliver(redelivery.clone())]).await.unwrap();
    assert_eq!(w.work().await.unwrap().1, JobOutcome::Done, "a redelivery is attempted once");
    let received = w.script.received();
    assert_eq!(received[0].headers["webhook-id"], received[1].headers["webhook-id"]);
    let log = w.store.list_deliveries(w.realm.id, w.bot.id, None, None, 10).await.unwrap();
    let states: Vec<(String, DeliveryState)> = log.iter().map(|d| (d.id.to_string(), d.state)).collect();
    assert_eq!(
        states,
        [
            (format!("{}-{}-r1", trigger.id, w.bot.id), DeliveryState::Failed),
            (format!("{}-{}", trigger.id, w.bot.id), DeliveryState::Delivered)
        ]
    );
}

#[tokio::test]
async fn a_fan_out_job_puts_every_delivery_of_the_outbox_entry_on_the_queue() {
    use hookline_model::store::MessageStore as _;
    let w = world(Interface::Zulip, false).await;
    w.script.always(Answer::json(200, r#"{"content": "fanned"}"#));
    // A message whose jobs are still in the outbox, handed over as one fan-out job
    let job = hookline_model::DeliveryJob {
        realm_id: w.realm.id,
        message_id: 0,
        bot_id: w.bot.id,
        trigger: hookline_model::Trigger::Mention,
        redelivery: 0,
    };
    let draft = hookline_model::MessageDraft {
        realm_id: w.realm.id,
        sender_id: w.ada.id,
        sender_email: w.ada.email.clone(),
        sender_full_name: w.ada.full_name.clone(),
        sender_is_bot: false,
        recipient: Recipient::Stream { stream_id: 1, stream_name: "general".into(), topic: "fan".into() },
        content: "@**Echo Bot** fan out".into(),
        timestamp: w.now(),
        client: "test".into(),
        outbox: vec![job],
        reply_to: None,
        idempotency: None,
    };
    let message = w.store.commit_message(draft).await.unwrap();
    use hookline_model::queue::DeliveryQueue as _;
    w.queue.enqueue(&[QueueJob::FanOut { realm_id: w.realm.id, message_id: message.id }]).await.unwrap();
    let (first, outcome) = w.work().await.unwrap();
    assert!(matches!(first, QueueJob::FanOut { .. }));
    assert_eq!(outcome, JobOutcome::Done);
    assert_eq!(w.store.get_outbox(w.realm.id, message.id).await.unwrap(), None, "the entry is cleared once enqueued");
    let (delivered, _) = w.work().await.expect("the expanded delivery job");
    assert!(matches!(delivered, QueueJob::Deliver(job) if job.message_id == message.id));
    assert_eq!(w.bot_messages().await[0].content, "fanned");
}

/// Runs one delivery of a mention against `answer` with no retries; returns the delivery and
/// what the bot said (content and client, oldest first).
async fn deliver_once(interface: Interface, answer: Answer) -> (hookline_model::Delivery, Vec<(String, String)>) {
    let config = hookline_delivery::worker::WorkerConfig {
        schedule: hookline_delivery::schedule::RetrySchedule { delays: vec![] },
        ..Default::default()
    };
    let w = support::world_with(interface, false, config).await;
    w.script.then(answer);
    w.say("@**Echo Bot** hi").await;
    assert_eq!(w.work().await.unwrap().1, JobOutcome::Done);
    let said = w.bot_messages().await.into_iter().map(|m| (m.content, m.client)).collect();
    (only_delivery(&w).await, said)
}

fn contents(said: &[(String, String)]) -> Vec<&str> {
    said.iter().map(|(content, _)| content.as_str()).collect()
}

#[tokio::test]
async fn answers_are_read_as_zulip_reads_them() {
    for (interface, body, posted) in [
        (Interface::Zulip, r#"{"content": 42}"#, Some("42")),
        (Interface::Zulip, r#"{"content": true}"#, Some("True")),
        (Interface::Zulip, r#"{"content": null}"#, Some("None")),
        (Interface::Zulip, r#"{"content": 1.5}"#, Some("1.5")),
        (Interface::Zulip, r#"{"content": ["a", 1]}"#, Some("['a', 1]")),
        (Interface::Zulip, r#"{"content": {"k": "v"}}"#, Some("{'k': 'v'}")),
        (Interface::Zulip, r#"{"response_string": null, "content": "new"}"#, Some("None")),
        (Interface::Zulip, r#"{"response_string": "old", "content": "new"}"#, Some("old")),
        (Interface::Zulip, r#"{"content": "   "}"#, None),
        (Interface::Zulip, r#"{"response_not_required": true, "content": "x"}"#, None),
        (Interface::Zulip, r#""""#, None),
        (Interface::Zulip, "{}", None),
        (Interface::Slack, r#"{"text": "from slack"}"#, Some("from slack")),
        (Interface::Slack, r#"{"text": null}"#, None),
        (Interface::Slack, r#"{"content": "not slack"}"#, None),
    ] {
        let (delivery, said) = deliver_once(interface, Answer::json(200, body)).await;
        assert_eq!(delivery.state, DeliveryState::Delivered, "{body}");
        assert_eq!(contents(&said), posted.into_iter().collect::<Vec<_>>(), "{body}");
        assert!(said.iter().all(|(_, client)| client == "OutgoingWebhookResponse"), "{said:?}");
    }
}

#[tokio::test]
async fn an_answer_that_is_not_utf8_is_read_with_replacement_characters() {
    let mut latin1 = Answer::json(200, "");
    latin1.body = b"{\"content\": \"caf\xe9\"}".to_vec();
    let (delivery, said) = deliver_once(Interface::Zulip, latin1).await;
    assert_eq!(delivery.state, DeliveryState::Delivered);
    assert_eq!(contents(&said), ["caf\u{fffd}"]);
}

#[tokio::test]
async fn unreadable_answers_fail_with_zulips_reply_and_an_owner_notice() {
    for (interface, body, error) in [
        (Interface::Zulip, "", "Invalid JSON in response"),
        (Interface::Zulip, "   ", "Invalid JSON in response"),
        (Interface::Zulip, "<html>", "Invalid JSON in response"),
        (Interface::Zulip, "[1]", "Invalid response format"),
        (Interface::Slack, r#"{"text": 5}"#, "Invalid response format"),
        (Interface::Slack, r#"{"text": ["a"]}"#, "Invalid response format"),
    ] {
        let (delivery, said) = deliver_once(interface, Answer::json(200, body)).await;
        assert_eq!((delivery.state, delivery.attempt_count), (DeliveryState::Failed, 1), "{body:?}");
        assert_eq!(delivery.attempts[0].error.as_deref(), Some(error), "{body:?}");
        let texts = contents(&said);
        assert_eq!(texts.len(), 2, "{body:?}: {texts:?}");
        assert_eq!(texts[0], format!("Failure! {error}"));
        assert!(
            texts[1].contains(&format!("that request resulted in the following error:\n> {error}")),
            "{body:?}: {}",
            texts[1]
        );
        assert!(said.iter().all(|(_, client)| client == "OutgoingWebhookResponse"), "{said:?}");
    }
}

#[tokio::test]
async fn connection_failures_keep_their_cause_in_the_delivery_log() {
    let mut huge_head = b"HTTP/1.1 200 OK\r\nx-padding: ".to_vec();
    huge_head.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    huge_head.extend_from_slice(b"\r\ncontent-length: 2\r\n\r\n{}");
    let mut too_big = Answer::json(200, "");
    too_big.body = vec![b' '; 2 * 1024 * 1024];
    for (answer, cause) in [
        (Answer::reset(), "the connection was reset"),
        (Answer::raw(b"garbage\r\n\r\n"), "the answer is not valid HTTP"),
        (Answer::raw(&huge_head), "the answer's headers are too large"),
        (
            Answer::raw(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{}"),
            "the connection closed before the answer was complete",
        ),
        (too_big, "the answer is larger than 1024 KiB"),
    ] {
        let (delivery, said) = deliver_once(Interface::Zulip, answer).await;
        assert_eq!(delivery.state, DeliveryState::Failed, "{cause}");
        let error = delivery.attempts[0].error.clone().unwrap_or_default();
        let expected = format!("A connection error occurred. Is my bot server down? ({cause}");
        assert!(error.starts_with(&expected), "{cause}: {error}");
        let texts = contents(&said);
        assert_eq!(texts[0], "Failure! Bot is unavailable", "{cause}");
        assert!(texts[1].ends_with("\nA connection error occurred. Is my bot server down?"), "{cause}: {}", texts[1]);
    }
}

#[tokio::test]
async fn a_final_owner_notice_is_never_swallowed_by_the_rate_limit() {
    let w = world(Interface::Zulip, false).await;
    w.script.always(Answer::json(404, "nope"));
    for text in ["@**Echo Bot** one", "@**Echo Bot** two", "@**Echo Bot** three"] {
        w.say(text).await;
        assert_eq!(w.work().await.unwrap().1, JobOutcome::Done);
    }
    let owner_thread = Recipient::direct(w.ada.id, [w.bot.id]);
    let notices: Vec<Message> = w.bot_messages().await.into_iter().filter(|m| m.recipient == owner_thread).collect();
    assert_eq!(notices.len(), 3, "every failure that is final tells the owner");
    assert!(notices.iter().all(|m| m.content.contains("status code *404*") && m.client == "OutgoingWebhookResponse"));
}

#[tokio::test]
async fn a_dead_bot_is_heard_in_the_conversation_within_a_minute() {
    // Every attempt runs to the full request timeout and every wait is jittered to its longest
    let config = hookline_delivery::worker::WorkerConfig {
        jitter: hookline_delivery::worker::Jitter::Fixed(1.0),
        ..Default::default()
    };
    let timeout = config.timeouts.total;
    let w = support::world_with(Interface::Zulip, false, config).await;
    w.script.always(Answer::reset().taking(timeout));
    let trigger = w.say("@**Echo Bot** anyone home?").await;
    let first_attempt = w.now();
    let mut waits = Vec::new();
    loop {
        match w.work().await.expect("the job is visible when due").1 {
            JobOutcome::RetryAfter(wait) => {
                waits.push(wait);
                w.clock.advance(i64::try_from(wait.as_millis()).unwrap());
            }
            JobOutcome::Done => break,
            JobOutcome::Broken(why) => panic!("{why}"),
        }
    }
    assert!(waits.len() >= 3, "at least three retries: {waits:?}");
    assert_eq!(w.script.received().len(), waits.len() + 1);
    let said = w.bot_messages().await;
    let failure = said.iter().find(|m| m.recipient == trigger.recipient).expect("the conversation hears of it");
    assert_eq!(failure.content, "Failure! Bot is unavailable");
    let heard_after = failure.timestamp - first_attempt;
    assert!(heard_after <= 60_000, "heard {heard_after} ms after the first attempt began");
    // With the schedule this short there is no "still failing" notice before the final one
    let owner_thread = Recipient::direct(w.ada.id, [w.bot.id]);
    let notices: Vec<&Message> = said.iter().filter(|m| m.recipient == owner_thread).collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].content.ends_with("\nA connection error occurred. Is my bot server down?"));
    let delivery = only_delivery(&w).await;
    assert_eq!((delivery.state, delivery.attempts.len()), (DeliveryState::Failed, waits.len() + 1));
    assert!(delivery.attempts.iter().all(|a| a.error.as_deref().is_some_and(|e| e.contains("reset"))));
}

#[tokio::test]
async fn a_reply_over_zulips_length_is_posted_truncated() {
    let long = "é".repeat(12_000);
    let (delivery, said) =
        deliver_once(Interface::Zulip, Answer::json(200, &serde_json::json!({ "content": long }).to_string())).await;
    assert_eq!(delivery.state, DeliveryState::Delivered);
    let posted = &said[0].0;
    assert_eq!(posted.chars().count(), 10_000);
    assert!(posted.ends_with("\n[message truncated]"), "{}", &posted[posted.len() - 40..]);
    assert!(posted.starts_with(&"é".repeat(9_000)));
}

#[tokio::test]
async fn every_spelling_of_a_private_address_is_refused_before_connecting() {
    for url in [
        "http://2130706433/bot",
        "http://0177.0.0.1/bot",
        "http://0x7f.0.0.1/bot",
        "http://0x7f000001/bot",
        "http://127.1/bot",
        "http://0/bot",
        "http://[::1]/bot",
        "http://[::ffff:7f00:1]/bot",
        "http://[::127.0.0.1]/bot",
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://[fd00::1]/bot",
        "http://[fe80::1]/bot",
        "http://10.0.0.1/bot",
        "http://192.168.1.1/bot",
        "http://100.64.0.1/bot",
        "http://LOCALHOST/bot",
    ] {
        let w = world(Interface::Zulip, true).await;
        let mut service = w.store.get_service(w.realm.id, w.bot.id).await.unwrap().unwrap();
        let read_at = service.updated_at;
        service.base_url = url.into();
        service.updated_at += 1;
        w.store.update_service(&service, read_at).await.unwrap();
        w.say("@**Echo Bot** hi").await;
        assert_eq!(w.work().await.unwrap().1, JobOutcome::Done, "{url}");
        let delivery = only_delivery(&w).await;
        assert_eq!((delivery.state, delivery.attempts.len()), (DeliveryState::Failed, 1), "{url}");
        let error = delivery.attempts[0].error.clone().unwrap_or_default();
        assert!(error.contains("not allowed") || error.contains("no allowed address"), "{url}: {error}");
        let said: Vec<String> = w.bot_messages().await.into_iter().map(|m| m.content).collect();
        assert_eq!(said[0], "Failure! The URL configured for the webhook is for a private or disallowed network.");
    }
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_not_followed() {
    let w = world(Interface::Zulip, false).await;
    let mut moved = Answer::json(307, "");
    moved.headers.push(("location", "http://169.254.169.254/latest/meta-data".into()));
    w.script.then(moved);
    w.say("@**Echo Bot** hi").await;
    w.work().await.unwrap();
    assert_eq!(w.script.received().len(), 1);
    let delivery = only_delivery(&w).await;
    assert_eq!((delivery.state, delivery.attempts[0].status), (DeliveryState::Failed, Some(307)));
    assert_eq!(w.bot_messages().await[0].content, "Failure! Third party responded with 307");
}
