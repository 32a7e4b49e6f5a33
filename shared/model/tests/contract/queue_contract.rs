//! What every [`DeliveryQueue`] must do, written once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use hookline_model::delivery::{DeliveryJob, QueueJob, Trigger};
use hookline_model::queue::{DeliveryQueue, ReceivedJob};

use crate::support::MAX_RECEIVES;

fn jobs(n: u64) -> Vec<QueueJob> {
    (1..=n)
        .map(|i| {
            QueueJob::Deliver(DeliveryJob {
                realm_id: 1,
                message_id: i,
                bot_id: 7,
                trigger: Trigger::Mention,
                redelivery: 0,
            })
        })
        .collect()
}

fn message_id(job: &ReceivedJob) -> u64 {
    match job.job().unwrap() {
        QueueJob::Deliver(d) => d.message_id,
        QueueJob::FanOut { message_id, .. } => message_id,
    }
}

/// Receives until `want` jobs arrived or a few empty polls passed.
async fn receive_all(queue: &Arc<dyn DeliveryQueue>, want: usize) -> Vec<ReceivedJob> {
    let mut got = Vec::new();
    let mut empty_polls = 0;
    while got.len() < want && empty_polls < 3 {
        let batch = queue.receive(10, Duration::from_secs(1)).await.unwrap();
        assert!(batch.len() <= 10);
        if batch.is_empty() {
            empty_polls += 1;
        }
        got.extend(batch);
    }
    got
}

pub async fn jobs_are_enqueued_in_batches_and_received_intact(queue: Arc<dyn DeliveryQueue>) {
    // GIVEN 25 jobs: three SendMessageBatch calls
    let sent = jobs(25);
    queue.enqueue(&sent).await.unwrap();
    // THEN all 25 arrive once each, intact
    let got = receive_all(&queue, 25).await;
    let ids: BTreeSet<u64> = got.iter().map(message_id).collect();
    assert_eq!(got.len(), 25);
    assert_eq!(ids, (1..=25).collect());
    assert!(got.iter().all(|r| r.receive_count == 1));
    assert!(got.iter().all(|r| sent.contains(&r.job().unwrap())));
    queue.enqueue(&[]).await.unwrap();
    // Fan-out jobs travel the same way
    queue.enqueue(&[QueueJob::FanOut { realm_id: 1, message_id: 99 }]).await.unwrap();
    let fan_out = receive_all(&queue, 1).await;
    assert_eq!(fan_out[0].job().unwrap(), QueueJob::FanOut { realm_id: 1, message_id: 99 });
}

pub async fn a_received_job_stays_invisible_until_its_timeout_changes(queue: Arc<dyn DeliveryQueue>) {
    queue.enqueue(&jobs(1)).await.unwrap();
    let first = receive_all(&queue, 1).await;
    assert_eq!(first.len(), 1);
    // While in flight it is not handed out again
    assert!(queue.receive(10, Duration::from_millis(200)).await.unwrap().is_empty());
    // A backoff longer than the test: still invisible
    queue.change_visibility(&first[0].receipt_handle, Duration::from_secs(600)).await.unwrap();
    assert!(queue.receive(10, Duration::from_millis(200)).await.unwrap().is_empty());
    // Visible now: it comes back, counted
    queue.change_visibility(&first[0].receipt_handle, Duration::ZERO).await.unwrap();
    let again = receive_all(&queue, 1).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].receive_count, 2);
    assert_eq!(again[0].job().unwrap(), first[0].job().unwrap());
}

pub async fn a_deleted_job_never_comes_back(queue: Arc<dyn DeliveryQueue>) {
    queue.enqueue(&jobs(2)).await.unwrap();
    let got = receive_all(&queue, 2).await;
    assert_eq!(got.len(), 2);
    queue.delete(&got[0].receipt_handle).await.unwrap();
    queue.change_visibility(&got[1].receipt_handle, Duration::ZERO).await.unwrap();
    let again = receive_all(&queue, 2).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, got[1].message_id);
}

pub async fn a_job_received_too_often_moves_to_the_dead_letter_queue(queue: Arc<dyn DeliveryQueue>) {
    queue.enqueue(&jobs(1)).await.unwrap();
    // Received and given back MAX_RECEIVES times …
    for round in 1..=MAX_RECEIVES {
        let got = receive_all(&queue, 1).await;
        assert_eq!(got.len(), 1, "round {round}");
        assert_eq!(got[0].receive_count, round);
        queue.change_visibility(&got[0].receipt_handle, Duration::ZERO).await.unwrap();
    }
    // … the next receive moves it to the dead-letter queue instead of handing it out
    assert!(receive_all(&queue, 1).await.is_empty());
    let dead = queue.receive_dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].job().unwrap(), jobs(1)[0]);
}
