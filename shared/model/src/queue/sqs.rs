//! The delivery queue on SQS.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};

use super::{DeliveryQueue, MAX_BATCH, MAX_VISIBILITY, QueueError, ReceivedJob, job_body};
use crate::delivery::QueueJob;

/// How many times the entries a batch reports as failed are sent again.
const SEND_TRIES: u32 = 4;

pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: Option<String>,
}

impl SqsQueue {
    #[must_use]
    pub fn new(client: Client, queue_url: impl Into<String>, dead_letter_url: Option<String>) -> Self {
        Self { client, queue_url: queue_url.into(), dead_letter_url }
    }

    /// Creates (or finds) `<name>` and its dead-letter queue `<name>-dlq` with the redrive
    /// policy and retention `template.yaml` declares. For tests and the local stack.
    pub async fn ensure(
        client: Client,
        name: &str,
        visibility: Duration,
        max_receives: u32,
    ) -> Result<Self, QueueError> {
        const FOURTEEN_DAYS: &str = "1209600";
        let dead_letter_url = client
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .attributes(QueueAttributeName::MessageRetentionPeriod, FOURTEEN_DAYS)
            .send()
            .await
            .map_err(backend)?
            .queue_url
            .ok_or_else(|| QueueError::Backend("CreateQueue returned no URL".into()))?;
        let dead_letter_arn = client
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(backend)?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| QueueError::Backend("dead-letter queue has no ARN".into()))?;
        let redrive = serde_json::json!({ "deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receives });
        let queue_url = client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::MessageRetentionPeriod, FOURTEEN_DAYS)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility.as_secs().to_string())
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .send()
            .await
            .map_err(backend)?
            .queue_url
            .ok_or_else(|| QueueError::Backend("CreateQueue returned no URL".into()))?;
        Ok(Self::new(client, queue_url, Some(dead_letter_url)))
    }

    async fn receive_from(&self, url: &str, max: usize, wait: Duration) -> Result<Vec<ReceivedJob>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(10))
            .wait_time_seconds(i32::try_from(wait.as_secs().min(20)).unwrap_or(20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(backend)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| ReceivedJob {
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1),
                message_id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }
}

fn backend(e: impl std::error::Error) -> QueueError {
    QueueError::Backend(DisplayErrorContext(&e).to_string())
}

#[async_trait]
impl DeliveryQueue for SqsQueue {
    async fn enqueue(&self, jobs: &[QueueJob]) -> Result<(), QueueError> {
        let mut failed = 0;
        let mut reason = String::new();
        for chunk in jobs.chunks(MAX_BATCH) {
            let mut pending: Vec<(String, String)> =
                chunk.iter().enumerate().map(|(i, job)| (i.to_string(), job_body(job))).collect();
            for attempt in 0..SEND_TRIES {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                let entries = pending
                    .iter()
                    .map(|(id, body)| {
                        SendMessageBatchRequestEntry::builder().id(id).message_body(body).build().map_err(backend)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                match self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                {
                    Ok(out) => {
                        let failures = out.failed;
                        if let Some(first) = failures.first() {
                            reason = format!("{}: {}", first.code, first.message.as_deref().unwrap_or(""));
                        }
                        pending.retain(|(id, _)| failures.iter().any(|f| &f.id == id));
                    }
                    Err(e) => reason = DisplayErrorContext(&e).to_string(),
                }
                if pending.is_empty() {
                    break;
                }
            }
            failed += pending.len();
        }
        if failed > 0 {
            return Err(QueueError::PartiallySent { failed, total: jobs.len(), reason });
        }
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedJob>, QueueError> {
        self.receive_from(&self.queue_url, max, wait).await
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<(), QueueError> {
        let seconds = timeout.min(MAX_VISIBILITY).as_secs();
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(i32::try_from(seconds).unwrap_or(43_200))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn receive_dead_letters(&self, max: usize) -> Result<Vec<ReceivedJob>, QueueError> {
        match &self.dead_letter_url {
            Some(url) => self.receive_from(url, max, Duration::ZERO).await,
            None => Ok(Vec::new()),
        }
    }
}
