//! A bot's delivery log and manual redelivery, for its owner (or a realm admin).

use hookline_edge::auth::Caller;
use hookline_edge::params::Params;
use hookline_edge::{ApiError, Services};
use hookline_model::delivery::{DeliveryJob, QueueJob};
use hookline_model::{Delivery, DeliveryId, DeliveryState, UserId};
use serde_json::{Value, json};

use crate::bots::managed_bot;
use crate::render::seconds;

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

fn state(text: &str) -> Result<DeliveryState, ApiError> {
    match text {
        "pending" => Ok(DeliveryState::Pending),
        "retrying" => Ok(DeliveryState::Retrying),
        "delivered" => Ok(DeliveryState::Delivered),
        "failed" => Ok(DeliveryState::Failed),
        _ => Err(ApiError::invalid_argument("state", "use pending, retrying, delivered or failed")),
    }
}

fn delivery_json(d: &Delivery) -> Value {
    let attempts: Vec<Value> = d
        .attempts
        .iter()
        .map(|a| {
            json!({
                "timestamp": seconds(a.at),
                "status": a.status,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "response_excerpt": a.response_excerpt,
            })
        })
        .collect();
    json!({
        "id": d.id.to_string(),
        "message_id": d.message_id,
        "trigger": d.trigger.as_str(),
        "webhook_id": d.webhook_id,
        "state": d.state.as_str(),
        "attempt_count": d.attempt_count,
        "attempts": attempts,
        "next_attempt_at": (d.state == DeliveryState::Retrying).then(|| seconds(d.next_attempt_at)),
        "reply_message_id": d.reply_message_id,
        "is_redelivery": d.id.redelivery > 0,
        "created_at": seconds(d.created_at),
    })
}

/// `GET /api/v1/bots/{bot_id}/deliveries`: newest trigger first; `state` filters, `limit`
/// (≤ 100) pages, `before` continues after a page's `next_cursor`.
pub async fn list(services: &Services, caller: &Caller, bot_id: UserId, params: &Params) -> Result<Value, ApiError> {
    let bot = managed_bot(services, caller, bot_id).await?;
    let filter = params.optional_str("state")?.map(|s| state(&s)).transpose()?;
    let limit = params
        .optional_u64("limit")?
        .map_or(DEFAULT_PAGE, |l| usize::try_from(l).unwrap_or(MAX_PAGE))
        .clamp(1, MAX_PAGE);
    let cursor = params
        .optional_str("before")?
        .map(|c| c.parse::<DeliveryId>().map_err(|e| ApiError::invalid_argument("before", e)))
        .transpose()?;
    let page = services.store.list_deliveries(caller.realm.id, bot.id, filter, cursor, limit).await?;
    let next = (page.len() == limit).then(|| page.last().map(|d| d.id.to_string())).flatten();
    Ok(json!({"deliveries": page.iter().map(delivery_json).collect::<Vec<_>>(), "next_cursor": next}))
}

/// `POST /api/v1/bots/{bot_id}/deliveries/{delivery_id}/redeliver`: a new delivery of the same
/// trigger (same `webhook-id`, so the receiver can tell), attempted once.
pub async fn redeliver(
    services: &Services,
    caller: &Caller,
    bot_id: UserId,
    delivery_id: &str,
) -> Result<Value, ApiError> {
    let bot = managed_bot(services, caller, bot_id).await?;
    let id: DeliveryId = delivery_id.parse().map_err(|_| ApiError::bad_request("No such delivery"))?;
    let original = services
        .store
        .get_delivery(caller.realm.id, id)
        .await?
        .filter(|d| d.bot_id == bot.id)
        .ok_or_else(|| ApiError::bad_request("No such delivery"))?;
    let mut redelivery = 1;
    while services.store.get_delivery(caller.realm.id, DeliveryId { redelivery, ..original.id }).await?.is_some() {
        redelivery += 1;
    }
    let job = DeliveryJob {
        realm_id: caller.realm.id,
        message_id: original.message_id,
        bot_id: bot.id,
        trigger: original.trigger,
        redelivery,
    };
    services.queue.enqueue(&[QueueJob::Deliver(job.clone())]).await.map_err(|e| {
        tracing::error!(error = %e, "could not enqueue a redelivery");
        ApiError::new(
            lambda_http::http::StatusCode::SERVICE_UNAVAILABLE,
            "BAD_REQUEST",
            "The delivery queue is unavailable; try again",
        )
    })?;
    Ok(json!({"delivery_id": job.delivery_id().to_string(), "webhook_id": job.webhook_id()}))
}
