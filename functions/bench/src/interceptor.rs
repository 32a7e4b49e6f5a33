//! Counts the AWS calls an SDK client makes: an interceptor registered on the DynamoDB and SQS
//! clients' configs that notes every operation (by the name in the config bag's `Metadata`)
//! and every request it sends (an operation the SDK retries sends more than one), and who
//! made it: the functions themselves, Lambda's SQS poller, or the scheduled outbox sweep.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// Who made a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A function's own code: the messages function, the outgoing worker.
    Function,
    /// Lambda's SQS event source: it receives the jobs and deletes the ones the worker finished.
    /// The local stack's runner makes these calls in its place.
    Poller,
    /// The scheduled outbox sweep (every minute when deployed), which runs whatever else does.
    Sweep,
}

/// The SQS operations only the event source makes: the worker never receives or deletes a job
/// itself, it answers with `batchItemFailures`.
const POLLER_OPERATIONS: [&str; 3] = ["ReceiveMessage", "DeleteMessage", "DeleteMessageBatch"];

/// One kind of call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Call {
    pub origin: Origin,
    /// `DynamoDB` or `SQS`, as the SDK names the service.
    pub service: String,
    /// The operation, e.g. `GetItem` or `SendMessageBatch`.
    pub operation: String,
}

impl Call {
    /// The call `operation` of `service` is; `query_pk` is the partition a DynamoDB `Query`
    /// reads. Only the sweep queries the outbox's partitions.
    #[must_use]
    pub fn classify(service: &str, operation: &str, query_pk: Option<&str>) -> Self {
        let origin = if service == "SQS" && POLLER_OPERATIONS.contains(&operation) {
            Origin::Poller
        } else if operation == "Query" && query_pk.is_some_and(|pk| pk.starts_with("OUTBOX#")) {
            Origin::Sweep
        } else {
            Origin::Function
        };
        Self { origin, service: service.to_owned(), operation: operation.to_owned() }
    }
}

/// How often one kind of call happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Operations the code asked for.
    pub operations: u64,
    /// Requests sent for them: one per operation, more when the SDK retried.
    pub requests: u64,
}

/// Every call counted so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(pub BTreeMap<Call, Tally>);

impl Counts {
    /// The calls made after `earlier` was taken.
    #[must_use]
    pub fn since(&self, earlier: &Counts) -> Counts {
        let mut diff = BTreeMap::new();
        for (call, now) in &self.0 {
            let before = earlier.0.get(call).copied().unwrap_or_default();
            let tally =
                Tally { operations: now.operations - before.operations, requests: now.requests - before.requests };
            if tally != Tally::default() {
                diff.insert(call.clone(), tally);
            }
        }
        Counts(diff)
    }

    /// Requests sent by the calls `which` picks.
    #[must_use]
    pub fn requests(&self, which: impl Fn(&Call) -> bool) -> u64 {
        self.0.iter().filter(|(call, _)| which(call)).map(|(_, tally)| tally.requests).sum()
    }

    /// Requests beyond the first of each operation: the SDK's retries.
    #[must_use]
    pub fn retries(&self) -> u64 {
        self.0.values().map(|tally| tally.requests.saturating_sub(tally.operations)).sum()
    }
}

/// The interceptor; clones share their counts, so one can be registered on several clients.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<Counts>>,
}

impl CallCounter {
    /// The counts so far.
    #[must_use]
    pub fn snapshot(&self) -> Counts {
        self.lock().clone()
    }

    fn add(&self, call: &Call, change: impl FnOnce(&mut Tally)) {
        change(self.lock().0.entry(call.clone()).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The call an operation was counted as, kept in its config bag until its requests are sent
/// (by then its input, which told the sweep's queries apart, has been serialized away).
#[derive(Debug, Clone)]
struct Counted(Call);

impl Storable for Counted {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    /// Once per operation, after the operation's configuration (with its `Metadata`) is in
    /// the bag and while its input can still be read.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else { return Ok(()) };
        let query_pk = context.input().downcast_ref::<QueryInput>().and_then(partition_of);
        let call = Call::classify(metadata.service(), metadata.name(), query_pk);
        self.add(&call, |tally| tally.operations += 1);
        cfg.interceptor_state().store_put(Counted(call));
        Ok(())
    }

    /// Once per request sent, retries included.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Counted(call)) = cfg.load::<Counted>() {
            self.add(call, |tally| tally.requests += 1);
        }
        Ok(())
    }
}

/// The partition a query reads, as the store's queries name it (`PK = :pk`).
fn partition_of(query: &QueryInput) -> Option<&str> {
    match query.expression_attribute_values()?.get(":pk")? {
        AttributeValue::S(pk) => Some(pk),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(origin: Origin, service: &str, operation: &str) -> Call {
        Call { origin, service: service.into(), operation: operation.into() }
    }

    #[test]
    fn calls_are_told_apart_by_who_makes_them() {
        assert_eq!(Call::classify("DynamoDB", "GetItem", None).origin, Origin::Function);
        assert_eq!(Call::classify("SQS", "SendMessageBatch", None).origin, Origin::Function);
        assert_eq!(Call::classify("SQS", "ChangeMessageVisibility", None).origin, Origin::Function);
        assert_eq!(Call::classify("SQS", "ReceiveMessage", None).origin, Origin::Poller);
        assert_eq!(Call::classify("SQS", "DeleteMessage", None).origin, Origin::Poller);
        assert_eq!(Call::classify("DynamoDB", "Query", Some("OUTBOX#3")).origin, Origin::Sweep);
        assert_eq!(Call::classify("DynamoDB", "Query", Some("REALM#1")).origin, Origin::Function);
        assert_eq!(Call::classify("DynamoDB", "DeleteItem", None).origin, Origin::Function);
    }

    #[test]
    fn counts_since_a_snapshot_hold_only_what_moved() {
        let get = call(Origin::Function, "DynamoDB", "GetItem");
        let send = call(Origin::Function, "SQS", "SendMessageBatch");
        let before = Counts(BTreeMap::from([(get.clone(), Tally { operations: 2, requests: 2 })]));
        let after = Counts(BTreeMap::from([
            (get.clone(), Tally { operations: 5, requests: 6 }),
            (send.clone(), Tally { operations: 1, requests: 1 }),
        ]));
        let diff = after.since(&before);
        assert_eq!(diff.0.get(&get), Some(&Tally { operations: 3, requests: 4 }));
        assert_eq!(diff.requests(|c| c.service == "SQS"), 1);
        assert_eq!(diff.requests(|_| true), 5);
        assert_eq!(diff.retries(), 1);
        assert_eq!(after.since(&after), Counts::default());
    }
}
