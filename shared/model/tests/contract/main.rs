//! The storage and queue contract: every case runs against the embedded implementations (the
//! in-memory store, the journaled store, the in-process queue) and against the real services'
//! stand-ins (DynamoDB Local, moto's SQS).

mod changes_contract;
mod queue_contract;
mod rate_limit_contract;
mod store_contract;
mod support;

/// Runs each named store case against both stores.
macro_rules! store_cases {
    ($($case:ident),* $(,)?) => {
        mod memory_store {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { crate::store_contract::$case(crate::support::memory_store()).await })*
        }
        mod journal_store {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { crate::store_contract::$case(crate::support::journal_store().await).await })*
        }
        mod dynamodb_store {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { crate::store_contract::$case(crate::support::dynamo_store().await).await })*
        }
    };
}

/// Runs each named queue case against every queue.
macro_rules! queue_cases {
    ($($case:ident),* $(,)?) => {
        mod memory_queue {
            $(#[tokio::test]
            async fn $case() { crate::queue_contract::$case(crate::support::memory_queue()).await })*
        }
        mod journal_queue {
            $(#[tokio::test]
            async fn $case() { crate::queue_contract::$case(crate::support::journal_queue()).await })*
        }
        mod sqs_queue {
            $(#[tokio::test]
            async fn $case() { crate::queue_contract::$case(crate::support::sqs_queue().await).await })*
        }
    };
}

store_cases!(
    realms_claim_their_string_id,
    concurrent_duplicate_creates_have_exactly_one_winner,
    api_keys_authenticate_until_replaced,
    users_are_found_listed_and_deactivated_within_their_realm,
    streams_are_unique_per_realm_ignoring_case,
    subscriptions_are_idempotent,
    bot_services_are_created_with_their_bot_and_updated_optimistically,
    every_directory_change_moves_the_realms_directory_version,
    message_ids_grow_in_commit_order_per_realm,
    concurrent_commits_get_distinct_consecutive_ids,
    messages_are_read_by_scope_on_either_side_of_an_anchor,
    a_commit_that_triggers_bots_leaves_an_outbox_entry_to_claim,
    an_idempotency_key_commits_once_per_window,
    a_delivery_is_leased_to_one_worker_at_a_time,
    beginning_an_attempt_creates_and_leases_in_one_step,
    attempts_are_recorded_only_by_the_lease_holder,
    a_delivery_gets_exactly_one_reply,
    deliveries_are_listed_newest_first_by_state,
    a_message_is_replaced_only_from_its_current_revision,
    bot_storage_holds_text_within_the_limit,
    concurrent_bot_storage_writes_cannot_exceed_the_limit,
    a_rate_window_counts_up_to_its_limit_under_concurrency,
);

queue_cases!(
    jobs_are_enqueued_in_batches_and_received_intact,
    a_received_job_stays_invisible_until_its_timeout_changes,
    a_deleted_job_never_comes_back,
    a_job_received_too_often_moves_to_the_dead_letter_queue,
);
