//! Realms, users, API keys, streams, subscriptions and bot services in the table.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Item, backend, cancellation_codes, item, keys, n, s};
use crate::Millis;
use crate::credentials::ApiKeyHash;
use crate::realm::{NewRealm, Realm, RealmId};
use crate::store::{RealmStore, ServiceStore, StoreError, StoreResult, StreamStore, UserStore};
use crate::stream::{Stream, StreamId, name_key};
use crate::user::{BotService, NewUser, Role, User, UserId, email_key};

/// The item that claims a realm's string id.
#[derive(Serialize, Deserialize)]
struct RealmNameClaim {
    realm_id: RealmId,
}

/// The item that claims an email in a realm.
#[derive(Serialize, Deserialize)]
struct EmailClaim {
    user_id: UserId,
}

/// The item an API key's hash points at.
#[derive(Serialize, Deserialize)]
struct ApiKeyOwner {
    realm_id: RealmId,
    user_id: UserId,
}

#[derive(Serialize, Deserialize)]
struct Subscription {
    stream_id: StreamId,
}

const NOT_EXISTS: &str = "attribute_not_exists(PK)";

impl DynamoStore {
    pub(super) fn put(&self, item: Item, condition: Option<&str>) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Sets one attribute of an existing user and returns the user.
    async fn set_user_attribute(
        &self,
        realm: RealmId,
        id: UserId,
        name: &str,
        value: AttributeValue,
    ) -> StoreResult<User> {
        let set = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::user(realm, id))))
            .update_expression("SET #attribute = :value")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#attribute", name)
            .expression_attribute_values(":value", value)
            .build()
            .map_err(backend)?;
        let writes = vec![TransactWriteItem::builder().update(set).build(), self.directory_changed(realm)?];
        match self.transact(writes).await {
            Ok(()) => self.get_user(realm, id).await?.ok_or(StoreError::NotFound("user")),
            Err(f) if f.failed_at(0) => Err(StoreError::NotFound("user")),
            Err(f) if f.failed_at(1) => Err(StoreError::NotFound("realm")),
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TransactFailure::Other(e)) => Err(e),
        }
    }

    /// Moves the realm's directory version on (and checks the realm exists), in the commit of
    /// every change to its users, services and streams.
    pub(super) fn directory_changed(&self, realm: RealmId) -> StoreResult<TransactWriteItem> {
        let bump = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::realm(realm))))
            .update_expression("ADD directory_version :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().update(bump).build())
    }

    /// Adds one to a counter item and returns the new value.
    async fn next_counter(&self, key: keys::Key) -> StoreResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(key)))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        out.attributes
            .and_then(|a| a.get("n").cloned())
            .and_then(|v| v.as_n().ok().and_then(|v| v.parse().ok()))
            .ok_or_else(|| StoreError::Corrupt("counter without a value".into()))
    }

    /// The writes that create a user: the user, its email and API key claims, and its service.
    fn user_writes(&self, user: &User, service: Option<BotService>) -> StoreResult<Vec<TransactWriteItem>> {
        let mut writes = vec![
            self.put(item(keys::user(user.realm_id, user.id), user)?, Some(NOT_EXISTS))?,
            self.put(
                item(keys::email(user.realm_id, &email_key(&user.email)), &EmailClaim { user_id: user.id })?,
                Some(NOT_EXISTS),
            )?,
            self.put(
                item(
                    keys::api_key(user.api_key_hash.as_str()),
                    &ApiKeyOwner { realm_id: user.realm_id, user_id: user.id },
                )?,
                Some(NOT_EXISTS),
            )?,
        ];
        if let Some(mut service) = service {
            service.realm_id = user.realm_id;
            service.bot_id = user.id;
            writes.push(self.put(item(keys::service(user.realm_id, user.id), &service)?, Some(NOT_EXISTS))?);
        }
        Ok(writes)
    }

    /// Runs a transaction. Its client token makes the SDK's retries of a request whose answer
    /// was lost idempotent: DynamoDB answers a repeat with the first outcome.
    pub(super) async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<(), TransactFailure> {
        let token = crate::credentials::generate_service_token(); // 32 random characters
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .client_request_token(token)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(match cancellation_codes(&e) {
                Some(codes) => TransactFailure::Cancelled(codes),
                None => TransactFailure::Other(backend(e)),
            }),
        }
    }
}

pub(super) enum TransactFailure {
    /// Per action, why the transaction was cancelled.
    Cancelled(Vec<String>),
    Other(StoreError),
}

impl TransactFailure {
    /// Whether action `index` failed its condition.
    pub(super) fn failed_at(&self, index: usize) -> bool {
        matches!(self, Self::Cancelled(codes) if codes.get(index).is_some_and(|c| c == "ConditionalCheckFailed"))
    }
}

fn new_user(realm: RealmId, id: UserId, new: &NewUser, now: Millis) -> User {
    User {
        realm_id: realm,
        id,
        email: new.email.trim().to_owned(),
        full_name: new.full_name.clone(),
        role: new.role,
        bot_type: new.bot_type,
        bot_owner_id: new.bot_owner_id,
        is_active: true,
        api_key_hash: new.api_key_hash.clone(),
        created_at: now,
    }
}

#[async_trait]
impl RealmStore for DynamoStore {
    async fn create_realm(&self, new: NewRealm, mut owner: NewUser, now: Millis) -> StoreResult<(Realm, User)> {
        let id = self.next_counter(keys::realm_counter()).await?;
        let realm = Realm {
            id,
            string_id: new.string_id,
            name: new.name,
            host: new.host,
            public_url: new.public_url,
            created_at: now,
            directory_version: 0,
        };
        owner.role = Role::Owner;
        let user = new_user(id, 1, &owner, now);
        let (counter_pk, counter_sk) = keys::user_counter(id);
        let mut writes = vec![
            self.put(item(keys::realm_name(&realm.string_id), &RealmNameClaim { realm_id: id })?, Some(NOT_EXISTS))?,
            self.put(item(keys::realm(id), &realm)?, Some(NOT_EXISTS))?,
            self.put(
                [("PK".to_owned(), s(counter_pk)), ("SK".to_owned(), s(counter_sk)), ("n".to_owned(), n(1))].into(),
                Some(NOT_EXISTS),
            )?,
        ];
        writes.extend(self.user_writes(&user, owner.service)?);
        match self.transact(writes).await {
            Ok(()) => Ok((realm, user)),
            Err(f) if f.failed_at(0) => Err(StoreError::RealmExists),
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TransactFailure::Other(e)) => Err(e),
        }
    }

    async fn get_realm(&self, id: RealmId) -> StoreResult<Option<Realm>> {
        self.get(keys::realm(id)).await
    }

    async fn find_realm(&self, string_id: &str) -> StoreResult<Option<Realm>> {
        match self.get::<RealmNameClaim>(keys::realm_name(string_id)).await? {
            Some(claim) => self.get_realm(claim.realm_id).await,
            None => Ok(None),
        }
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(&self, realm: RealmId, new: NewUser, now: Millis) -> StoreResult<User> {
        let id = self.next_counter(keys::user_counter(realm)).await?;
        let user = new_user(realm, id, &new, now);
        let mut writes = vec![self.directory_changed(realm)?];
        writes.extend(self.user_writes(&user, new.service)?);
        match self.transact(writes).await {
            Ok(()) => Ok(user),
            Err(f) if f.failed_at(0) => Err(StoreError::NotFound("realm")),
            Err(f) if f.failed_at(2) => Err(StoreError::EmailTaken),
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TransactFailure::Other(e)) => Err(e),
        }
    }

    async fn get_user(&self, realm: RealmId, id: UserId) -> StoreResult<Option<User>> {
        self.get(keys::user(realm, id)).await
    }

    async fn find_user_by_email(&self, realm: RealmId, email: &str) -> StoreResult<Option<User>> {
        match self.get::<EmailClaim>(keys::email(realm, &email_key(email))).await? {
            Some(claim) => self.get_user(realm, claim.user_id).await,
            None => Ok(None),
        }
    }

    async fn list_users(&self, realm: RealmId) -> StoreResult<Vec<User>> {
        self.query_prefix(keys::realm_pk(realm), keys::USER_PREFIX).await
    }

    async fn set_user_active(&self, realm: RealmId, id: UserId, active: bool) -> StoreResult<User> {
        self.set_user_attribute(realm, id, "is_active", AttributeValue::Bool(active)).await
    }

    async fn set_full_name(&self, realm: RealmId, id: UserId, full_name: &str) -> StoreResult<User> {
        self.set_user_attribute(realm, id, "full_name", s(full_name)).await
    }
    async fn replace_api_key(&self, realm: RealmId, id: UserId, new: ApiKeyHash) -> StoreResult<()> {
        let user = self.get_user(realm, id).await?.ok_or(StoreError::NotFound("user"))?;
        let swap = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::user(realm, id))))
            .update_expression("SET api_key_hash = :new")
            .condition_expression("api_key_hash = :old")
            .expression_attribute_values(":new", s(new.as_str()))
            .expression_attribute_values(":old", s(user.api_key_hash.as_str()))
            .build()
            .map_err(backend)?;
        let revoke = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::api_key(user.api_key_hash.as_str()))))
            .build()
            .map_err(backend)?;
        let writes = vec![
            TransactWriteItem::builder().update(swap).build(),
            TransactWriteItem::builder().delete(revoke).build(),
            self.put(
                item(keys::api_key(new.as_str()), &ApiKeyOwner { realm_id: realm, user_id: id })?,
                Some(NOT_EXISTS),
            )?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TransactFailure::Other(e)) => Err(e),
        }
    }

    async fn authenticate(&self, key: &ApiKeyHash) -> StoreResult<Option<(RealmId, UserId)>> {
        Ok(self.get::<ApiKeyOwner>(keys::api_key(key.as_str())).await?.map(|o| (o.realm_id, o.user_id)))
    }
}

#[async_trait]
impl StreamStore for DynamoStore {
    async fn create_stream(&self, realm: RealmId, name: &str, description: &str, now: Millis) -> StoreResult<Stream> {
        let id = self.next_counter(keys::stream_counter(realm)).await?;
        let stream = Stream {
            realm_id: realm,
            id,
            name: name.trim().to_owned(),
            description: description.to_owned(),
            created_at: now,
        };
        // The name claim carries the whole stream, so a lookup by name is one read.
        let writes = vec![
            self.put(item(keys::stream_name(realm, &name_key(name)), &stream)?, Some(NOT_EXISTS))?,
            self.put(item(keys::stream(realm, id), &stream)?, Some(NOT_EXISTS))?,
            self.directory_changed(realm)?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(stream),
            Err(f) if f.failed_at(0) => Err(StoreError::StreamExists),
            Err(f) if f.failed_at(2) => Err(StoreError::NotFound("realm")),
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TransactFailure::Other(e)) => Err(e),
        }
    }

    async fn get_stream(&self, realm: RealmId, id: StreamId) -> StoreResult<Option<Stream>> {
        self.get(keys::stream(realm, id)).await
    }

    async fn find_stream(&self, realm: RealmId, name: &str) -> StoreResult<Option<Stream>> {
        self.get(keys::stream_name(realm, &name_key(name))).await
    }

    async fn list_streams(&self, realm: RealmId) -> StoreResult<Vec<Stream>> {
        self.query_prefix(keys::realm_pk(realm), keys::STREAM_PREFIX).await
    }

    async fn subscribe(&self, realm: RealmId, user: UserId, stream: StreamId) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(keys::subscription(realm, user, stream), &Subscription { stream_id: stream })?))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn subscriptions(&self, realm: RealmId, user: UserId) -> StoreResult<Vec<StreamId>> {
        let subs: Vec<Subscription> =
            self.query_prefix(keys::realm_pk(realm), &keys::subscriptions_prefix(user)).await?;
        Ok(subs.into_iter().map(|s| s.stream_id).collect())
    }
}

#[async_trait]
impl ServiceStore for DynamoStore {
    async fn get_service(&self, realm: RealmId, bot: UserId) -> StoreResult<Option<BotService>> {
        self.get(keys::service(realm, bot)).await
    }

    async fn list_services(&self, realm: RealmId) -> StoreResult<Vec<BotService>> {
        self.query_prefix(keys::realm_pk(realm), keys::SERVICE_PREFIX).await
    }

    async fn update_service(&self, service: &BotService, expected_updated_at: Millis) -> StoreResult<()> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item(keys::service(service.realm_id, service.bot_id), service)?))
            .condition_expression("attribute_exists(PK) AND updated_at = :expected")
            .expression_attribute_values(":expected", n(expected_updated_at))
            .build()
            .map_err(backend)?;
        let writes = vec![TransactWriteItem::builder().put(put).build(), self.directory_changed(service.realm_id)?];
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(f) if f.failed_at(0) => Err(StoreError::Conflict),
            Err(f) if f.failed_at(1) => Err(StoreError::NotFound("realm")),
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TransactFailure::Other(e)) => Err(e),
        }
    }
}
