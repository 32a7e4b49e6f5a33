//! Hookline's model crate: the domain types every function shares, the storage port
//! ([`store`]) with its DynamoDB and in-process implementations, and the delivery-queue port
//! ([`queue`]) with its SQS and in-process implementations.
//!
//! Nothing here knows about Lambda or HTTP; functions adapt these types at their edges.

pub mod clock;
pub mod credentials;
pub mod delivery;
pub mod fuzzing;
pub mod message;
pub mod queue;
pub mod rate_limit;
pub mod realm;
pub mod store;
pub mod stream;
pub mod user;

pub use clock::{Clock, ManualClock, Millis, SystemClock};
pub use delivery::{Attempt, Delivery, DeliveryId, DeliveryJob, DeliveryState, QueueJob, Trigger};
pub use message::{IdempotencyKey, MAX_MESSAGE_ID, Message, MessageDraft, MessageId, Reaction, Recipient};
pub use realm::{Realm, RealmId};
pub use stream::{Stream, StreamId};
pub use user::{BotService, BotType, Interface, Role, SigningSecrets, Triggers, User, UserId};
