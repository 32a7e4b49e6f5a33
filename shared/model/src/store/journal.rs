//! The embedded store made durable: a [`MemoryStore`] whose every write is first appended to
//! a journal file (one JSON line per write) and fsynced, and only then applied, so neither the
//! caller nor any reader sees a change before it is durable. Opening the store replays the
//! journal, so everything that was acknowledged survives a `kill -9`; a write torn by a crash
//! was never acknowledged and is dropped on replay.
//!
//! Writes are serialized through the journal's lock, so the journal's order is the order the
//! writes were applied in, and replaying it reproduces the same ids and outcomes.
//!
//! The journal is a snapshot (`snapshot.json`: the whole state) plus a tail (the writes since).
//! When the tail grows past [`JournalOptions::compact_after_bytes`], the state is written to a
//! temporary file, fsynced, renamed over the snapshot (the directory fsynced), a new empty tail
//! of the next generation starts, and the old tail is deleted: a crash after any step opens to
//! the same state, because the snapshot names the generation of the tail that continues it.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, oneshot};

use super::memory::MemoryStore;
use super::{
    Begun, BotStorageStore, DeliveryStore, Direction, MessageChangeStore, MessageFilter, MessageScope, MessageStore,
    OutboxEntry, RateLimitStore, RealmStore, ServiceStore, StoreError, StoreResult, StreamStore, UserStore,
};
use crate::credentials::ApiKeyHash;
use crate::delivery::{AttemptOutcome, Delivery, DeliveryId, DeliveryState};
use crate::message::{Message, MessageDraft, MessageId};
use crate::rate_limit::{RateKey, Window};
use crate::realm::{NewRealm, Realm, RealmId};
use crate::stream::{Stream, StreamId};
use crate::user::{BotService, NewUser, User, UserId};
use crate::{Clock, Millis, SystemClock};

/// One journaled write: the call and its arguments.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Write {
    CreateRealm { realm: NewRealm, owner: NewUser, now: Millis },
    CreateUser { realm: RealmId, user: NewUser, now: Millis },
    SetUserActive { realm: RealmId, id: UserId, active: bool },
    SetFullName { realm: RealmId, id: UserId, full_name: String },
    ReplaceApiKey { realm: RealmId, id: UserId, new: ApiKeyHash },
    CreateStream { realm: RealmId, name: String, description: String, now: Millis },
    Subscribe { realm: RealmId, user: UserId, stream: StreamId },
    UpdateService { service: BotService, expected_updated_at: Millis },
    CommitMessage { draft: MessageDraft },
    ClaimOutbox { realm: RealmId, message: MessageId, now: Millis, until: Millis },
    DeleteOutbox { realm: RealmId, message: MessageId },
    EnsureDelivery { delivery: Delivery },
    ClaimDelivery { realm: RealmId, id: DeliveryId, owner: String, now: Millis, until: Millis },
    BeginAttempt { delivery: Delivery, owner: String, now: Millis, until: Millis },
    RecordAttempt { realm: RealmId, id: DeliveryId, owner: String, outcome: AttemptOutcome },
    ReplaceMessage { current: Box<Message>, changed: Box<Message> },
    DeleteMessage { current: Box<Message> },
    PutBotStorage { realm: RealmId, bot: UserId, entries: BTreeMap<String, String>, limit: u64 },
    RemoveBotStorage { realm: RealmId, bot: UserId, keys: Vec<String> },
    ReleaseClaims,
}

impl Write {
    /// Applies the write to `store`, as the original call did.
    async fn replay(self, store: &MemoryStore) {
        // Outcomes were decided when the write was first made; only the state change matters.
        let _ = match self {
            // The store was opened: leases and claims of the process before were let go.
            Self::ReleaseClaims => {
                store.release_claims();
                Ok(())
            }
            Self::CreateRealm { realm, owner, now } => store.create_realm(realm, owner, now).await.map(drop),
            Self::CreateUser { realm, user, now } => store.create_user(realm, user, now).await.map(drop),
            Self::SetUserActive { realm, id, active } => store.set_user_active(realm, id, active).await.map(drop),
            Self::SetFullName { realm, id, full_name } => store.set_full_name(realm, id, &full_name).await.map(drop),
            Self::ReplaceApiKey { realm, id, new } => store.replace_api_key(realm, id, new).await,
            Self::CreateStream { realm, name, description, now } => {
                store.create_stream(realm, &name, &description, now).await.map(drop)
            }
            Self::Subscribe { realm, user, stream } => store.subscribe(realm, user, stream).await,
            Self::UpdateService { service, expected_updated_at } => {
                store.update_service(&service, expected_updated_at).await
            }
            Self::CommitMessage { draft } => store.commit_message(draft).await.map(drop),
            Self::ClaimOutbox { realm, message, now, until } => {
                store.claim_outbox(realm, message, now, until).await.map(drop)
            }
            Self::DeleteOutbox { realm, message } => store.delete_outbox(realm, message).await,
            Self::EnsureDelivery { delivery } => store.ensure_delivery(&delivery).await.map(drop),
            Self::ClaimDelivery { realm, id, owner, now, until } => {
                store.claim_delivery(realm, id, &owner, now, until).await.map(drop)
            }
            Self::BeginAttempt { delivery, owner, now, until } => {
                store.begin_attempt(&delivery, &owner, now, until).await.map(drop)
            }
            Self::RecordAttempt { realm, id, owner, outcome } => {
                store.record_attempt(realm, id, &owner, outcome).await.map(drop)
            }
            Self::ReplaceMessage { current, changed } => store.replace_message(&current, *changed).await.map(drop),
            Self::DeleteMessage { current } => store.delete_message(&current).await,
            Self::PutBotStorage { realm, bot, entries, limit } => {
                store.put_bot_storage(realm, bot, &entries, limit).await
            }
            Self::RemoveBotStorage { realm, bot, keys } => store.remove_bot_storage(realm, bot, &keys).await,
        };
    }
}

/// How the journal makes what it appended durable: `fdatasync` (tests stall or fail it). It
/// runs on a blocking thread, never on the runtime's workers, which it would stall meanwhile.
type Durability = Arc<dyn Fn(&File) -> std::io::Result<()> + Send + Sync>;

/// The tail as writers append to it.
struct Journal {
    /// The tail: writes made since the snapshot of generation `generation` was taken.
    file: File,
    generation: u64,
    /// Bytes in the tail.
    len: u64,
    /// Writes appended since the store was opened.
    appended: u64,
    /// Resolves once the newest appended write has been applied (or given up): each write
    /// waits for the one before it, so writes are applied in the journal's order.
    last_applied: Option<oneshot::Receiver<()>>,
}

/// What of the tail is durable. One writer at a time fsyncs, for every write appended so far,
/// so concurrent writers share an fsync (group commit).
struct Durable {
    /// A handle on the tail, to fsync (and to cut back what an fsync failed to keep).
    file: Arc<File>,
    /// Writes (counted as [`Journal::appended`]) known durable, and the tail's length then.
    synced: u64,
    synced_len: u64,
    sync: Durability,
}

/// When the journal is compacted, and the clock that decides which delivery logs expired.
pub struct JournalOptions {
    /// Compact once the tail holds more than this many bytes.
    pub compact_after_bytes: u64,
    pub clock: Arc<dyn Clock>,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self { compact_after_bytes: 64 * 1024 * 1024, clock: Arc::new(SystemClock) }
    }
}

/// What a write waits for before it is applied and answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// An fsync that covers it.
    ForFsync,
    /// Only the writes before it, so the journal's order stays the order of application.
    InOrder,
}

/// The steps of a compaction, in order; a crash after any of them leaves a data dir that
/// opens to the same state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// The snapshot is written to its temporary file and fsynced.
    SnapshotWritten,
    /// The snapshot has replaced the previous one (rename, then the directory fsynced).
    SnapshotInPlace,
    /// The next generation's empty tail exists and takes the writes.
    TailStarted,
    /// The previous tail is deleted.
    OldTailRemoved,
}

/// The first line of a snapshot: which tail continues it.
#[derive(Debug, Serialize, Deserialize)]
struct SnapshotHeader {
    /// The generation whose tail holds the writes made after this snapshot.
    generation: u64,
}

pub struct JournalStore {
    inner: MemoryStore,
    journal: Mutex<Journal>,
    durable: Mutex<Durable>,
    /// `(appended, len)` of the journal, as the last append left them.
    written: std::sync::Mutex<(u64, u64)>,
    /// Set when a write could not be made durable: the store refuses further writes rather
    /// than acknowledge what a restart would lose.
    broken: AtomicBool,
    dir: PathBuf,
    options: JournalOptions,
    /// Held (locked) while the store is open: one process per data dir.
    _lock: File,
}

const SNAPSHOT: &str = "snapshot.json";
const SNAPSHOT_TEMP: &str = "snapshot.json.tmp";

/// The tail of `generation`: the first one keeps the name journals had before compaction.
fn tail_name(generation: u64) -> String {
    if generation == 0 { "journal.jsonl".to_owned() } else { format!("journal-{generation}.jsonl") }
}

fn tail_generation(name: &str) -> Option<u64> {
    if name == "journal.jsonl" {
        return Some(0);
    }
    name.strip_prefix("journal-")?.strip_suffix(".jsonl")?.parse().ok()
}

impl JournalStore {
    /// Opens (or creates) the store in `dir` with the default options.
    pub async fn open(dir: &Path) -> StoreResult<Self> {
        Self::open_with(dir, JournalOptions::default()).await
    }

    /// Opens (or creates) the store in `dir`: loads the snapshot, if any, and replays the tail
    /// that continues it. Leases and claims found held belonged to a process that is gone
    /// (the data dir is locked to one process), so they are released, as a journaled write.
    pub async fn open_with(dir: &Path, options: JournalOptions) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("LOCK")).map_err(io)?;
        lock.try_lock().map_err(|_| StoreError::Backend(format!("{} is in use by another process", dir.display())))?;
        // A temporary snapshot is one whose compaction never finished: the tail still holds it all.
        match std::fs::remove_file(dir.join(SNAPSHOT_TEMP)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let (inner, generation) = match File::open(dir.join(SNAPSHOT)) {
            Ok(file) => {
                let mut reader = BufReader::new(file);
                let mut header = String::new();
                reader.read_line(&mut header).map_err(io)?;
                let header: SnapshotHeader =
                    serde_json::from_str(&header).map_err(|e| StoreError::Corrupt(format!("snapshot header: {e}")))?;
                let inner =
                    MemoryStore::read_snapshot(reader).map_err(|e| StoreError::Corrupt(format!("snapshot: {e}")))?;
                (inner, header.generation)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (MemoryStore::new(), 0),
            Err(e) => return Err(io(e)),
        };
        let path = dir.join(tail_name(generation));
        let mut file =
            OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).map_err(io)?;
        let mut good_until = 0u64;
        let mut reader = BufReader::new(&file);
        let mut line = String::new();
        loop {
            line.clear();
            let read = reader.read_line(&mut line).map_err(io)?;
            // A last line without its newline, or one that does not parse, was torn by a
            // crash before it was acknowledged: everything from it on is dropped.
            if read == 0 || !line.ends_with('\n') {
                break;
            }
            let Ok(write) = serde_json::from_str::<Write>(&line) else { break };
            write.replay(&inner).await;
            good_until += read as u64;
        }
        drop(reader);
        file.set_len(good_until).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        // Tails older than the snapshot are in it: a compaction stopped before deleting them.
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            if tail_generation(&name.to_string_lossy()).is_some_and(|g| g < generation) {
                std::fs::remove_file(dir.join(&name)).map_err(io)?;
            }
        }
        let durable = Durable {
            file: Arc::new(file.try_clone().map_err(io)?),
            synced: 0,
            synced_len: good_until,
            sync: Arc::new(File::sync_data),
        };
        let journal = Journal { file, generation, len: good_until, appended: 0, last_applied: None };
        let store = Self {
            inner,
            journal: Mutex::new(journal),
            durable: Mutex::new(durable),
            written: std::sync::Mutex::new((0, good_until)),
            broken: AtomicBool::new(false),
            dir: dir.to_owned(),
            options,
            _lock: lock,
        };
        if store.inner.release_claims() > 0 {
            store.logged(Write::ReleaseClaims, async { Ok(()) }).await?;
        }
        store.compact_if_due(Step::OldTailRemoved).await?;
        Ok(store)
    }

    /// The tail the next write goes to.
    pub async fn path(&self) -> PathBuf {
        self.dir.join(tail_name(self.journal.lock().await.generation))
    }

    /// Journals `write` durably, and only then runs `op` on the in-memory state, so no reader
    /// sees a change a crash could still take back. A write the store then refuses is
    /// journaled all the same: replaying it is refused again and changes nothing.
    ///
    /// Three steps: append the line (under the journal's lock, in journal order); wait until
    /// an fsync covers it (shared with the writers appending meanwhile); apply it once the
    /// write before it is applied.
    async fn logged<T>(&self, write: Write, op: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.log(write, op, Wait::ForFsync).await
    }

    /// As [`Self::logged`], for a write whose loss in a crash the restart repairs (a lease,
    /// which the restart releases anyway; an outbox entry cleared, which the sweep only
    /// enqueues again; a delivery record created, which its job creates again): applied in
    /// journal order as every write is, but answered without waiting for an fsync of its own.
    /// A later write's fsync covers it, since the journal is one file appended in order.
    async fn logged_lazily<T>(&self, write: Write, op: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.log(write, op, Wait::InOrder).await
    }

    async fn log<T>(&self, write: Write, op: impl Future<Output = StoreResult<T>>, wait: Wait) -> StoreResult<T> {
        let mut line = serde_json::to_vec(&write).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        line.push(b'\n');
        let (seq, previous, applied) = {
            let mut journal = self.journal.lock().await;
            if self.broken.load(Ordering::Acquire) {
                return Err(broken());
            }
            if let Err(e) = journal.file.write_all(&line) {
                self.broken.store(true, Ordering::Release);
                return Err(io(e));
            }
            journal.len += line.len() as u64;
            journal.appended += 1;
            *self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (journal.appended, journal.len);
            let (applied, next) = oneshot::channel();
            (journal.appended, journal.last_applied.replace(next), applied)
        };
        let durable = match wait {
            Wait::ForFsync => self.make_durable(seq).await,
            Wait::InOrder => Ok(()),
        };
        if let Some(previous) = previous {
            let _ = previous.await;
        }
        // A write that waited for no fsync: one failed meanwhile and may have cut its line off the
        // journal, so refuse it (refusing one that was kept is harmless for these writes). A write
        // whose own fsync succeeded is on disk and is applied whatever came after.
        let durable = durable.and_then(|()| {
            if wait == Wait::InOrder && self.broken.load(Ordering::Acquire) { Err(broken()) } else { Ok(()) }
        });
        let result = match durable {
            Ok(()) => op.await,
            Err(e) => Err(e),
        };
        let _ = applied.send(());
        if let Err(e) = self.compact_if_due(Step::OldTailRemoved).await {
            // The tail keeps every write; compaction is tried again after the next one.
            tracing::warn!(error = %e, "journal compaction failed");
        }
        result
    }

    /// Returns once write `seq` is durable: fsyncs everything appended so far, unless an
    /// fsync made while this writer waited already covered it.
    async fn make_durable(&self, seq: u64) -> StoreResult<()> {
        let mut durable = self.durable.lock().await;
        if self.broken.load(Ordering::Acquire) {
            return Err(broken());
        }
        if durable.synced >= seq {
            return Ok(());
        }
        let (appended, len) = *self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (file, sync) = (durable.file.clone(), durable.sync.clone());
        let synced =
            tokio::task::spawn_blocking(move || sync(&file)).await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        if let Err(e) = synced {
            self.broken.store(true, Ordering::Release);
            // Take back what was never acknowledged, so a restart does not replay it.
            let kept = durable.synced_len;
            if durable.file.set_len(kept).is_err() {
                tracing::error!("journal: unacknowledged writes may be replayed after a restart");
            }
            return Err(io(e));
        }
        durable.synced = appended;
        durable.synced_len = len;
        Ok(())
    }

    /// Compacts the journal if its tail has grown past the limit: waits until every write
    /// appended is applied (no new one is appended meanwhile), then compacts up to `until`.
    async fn compact_if_due(&self, until: Step) -> StoreResult<()> {
        let due = |len: u64| len > self.options.compact_after_bytes;
        if !due(self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1) {
            return Ok(());
        }
        let mut journal = self.journal.lock().await;
        if !due(journal.len) {
            return Ok(());
        }
        self.compact_now(&mut journal, until).await
    }

    /// Compacts under the journal's lock, once the writes already appended are applied.
    async fn compact_now(&self, journal: &mut Journal, until: Step) -> StoreResult<()> {
        if let Some(last) = journal.last_applied.take() {
            let _ = last.await;
        }
        if self.broken.load(Ordering::Acquire) {
            return Err(broken());
        }
        let mut durable = self.durable.lock().await;
        self.compact(journal, &mut durable, until)?;
        *self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (journal.appended, journal.len);
        Ok(())
    }

    /// Compacts the journal: the whole state goes to a new snapshot, the tail starts afresh.
    /// Runs under the journal's lock with every write applied, so none happens meanwhile;
    /// `until` stops after a step (tests use it to leave the data dir as a crash would).
    fn compact(&self, journal: &mut Journal, durable: &mut Durable, until: Step) -> StoreResult<()> {
        let next = journal.generation + 1;
        let temp = self.dir.join(SNAPSHOT_TEMP);
        let mut out = std::io::BufWriter::new(File::create(&temp).map_err(io)?);
        let header = serde_json::to_string(&SnapshotHeader { generation: next })
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        writeln!(out, "{header}").map_err(io)?;
        self.inner
            .write_snapshot(&mut out, self.options.clock.now())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        drop(file);
        if until == Step::SnapshotWritten {
            return Ok(());
        }
        std::fs::rename(&temp, self.dir.join(SNAPSHOT)).map_err(io)?;
        sync_dir(&self.dir)?;
        if until == Step::SnapshotInPlace {
            return Ok(());
        }
        let tail = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(self.dir.join(tail_name(next)))
            .map_err(io)?;
        sync_dir(&self.dir)?;
        let previous = journal.generation;
        durable.file = Arc::new(tail.try_clone().map_err(io)?);
        durable.synced = journal.appended;
        durable.synced_len = 0;
        journal.file = tail;
        journal.generation = next;
        journal.len = 0;
        if until == Step::TailStarted {
            return Ok(());
        }
        std::fs::remove_file(self.dir.join(tail_name(previous))).map_err(io)?;
        tracing::info!(generation = next, "journal compacted");
        Ok(())
    }
}

/// Makes a rename or a new file in `dir` durable.
fn sync_dir(dir: &Path) -> StoreResult<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)
}

fn broken() -> StoreError {
    StoreError::Backend("the journal could not be written; restart to recover".into())
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("journal: {e}"))
}

/// Rate-limit counters are kept in memory only: after a restart every window starts afresh.
#[async_trait]
impl RateLimitStore for JournalStore {
    async fn take(&self, key: &RateKey, window: Window, limit: u32) -> StoreResult<bool> {
        self.inner.take(key, window, limit).await
    }

    async fn counted(&self, key: &RateKey, window: Window) -> StoreResult<u32> {
        self.inner.counted(key, window).await
    }
}

#[async_trait]
impl RealmStore for JournalStore {
    async fn create_realm(&self, realm: NewRealm, owner: NewUser, now: Millis) -> StoreResult<(Realm, User)> {
        let write = Write::CreateRealm { realm: realm.clone(), owner: owner.clone(), now };
        self.logged(write, self.inner.create_realm(realm, owner, now)).await
    }

    async fn get_realm(&self, id: RealmId) -> StoreResult<Option<Realm>> {
        self.inner.get_realm(id).await
    }

    async fn find_realm(&self, string_id: &str) -> StoreResult<Option<Realm>> {
        self.inner.find_realm(string_id).await
    }
}

#[async_trait]
impl UserStore for JournalStore {
    async fn create_user(&self, realm: RealmId, user: NewUser, now: Millis) -> StoreResult<User> {
        let write = Write::CreateUser { realm, user: user.clone(), now };
        self.logged(write, self.inner.create_user(realm, user, now)).await
    }

    async fn get_user(&self, realm: RealmId, id: UserId) -> StoreResult<Option<User>> {
        self.inner.get_user(realm, id).await
    }

    async fn find_user_by_email(&self, realm: RealmId, email: &str) -> StoreResult<Option<User>> {
        self.inner.find_user_by_email(realm, email).await
    }

    async fn list_users(&self, realm: RealmId) -> StoreResult<Vec<User>> {
        self.inner.list_users(realm).await
    }

    async fn set_user_active(&self, realm: RealmId, id: UserId, active: bool) -> StoreResult<User> {
        self.logged(Write::SetUserActive { realm, id, active }, self.inner.set_user_active(realm, id, active)).await
    }

    async fn set_full_name(&self, realm: RealmId, id: UserId, full_name: &str) -> StoreResult<User> {
        let write = Write::SetFullName { realm, id, full_name: full_name.to_owned() };
        self.logged(write, self.inner.set_full_name(realm, id, full_name)).await
    }

    async fn replace_api_key(&self, realm: RealmId, id: UserId, new: ApiKeyHash) -> StoreResult<()> {
        let write = Write::ReplaceApiKey { realm, id, new: new.clone() };
        self.logged(write, self.inner.replace_api_key(realm, id, new)).await
    }

    async fn authenticate(&self, key: &ApiKeyHash) -> StoreResult<Option<(RealmId, UserId)>> {
        self.inner.authenticate(key).await
    }
}

#[async_trait]
impl StreamStore for JournalStore {
    async fn create_stream(&self, realm: RealmId, name: &str, description: &str, now: Millis) -> StoreResult<Stream> {
        let write = Write::CreateStream { realm, name: name.to_owned(), description: description.to_owned(), now };
        self.logged(write, self.inner.create_stream(realm, name, description, now)).await
    }

    async fn get_stream(&self, realm: RealmId, id: StreamId) -> StoreResult<Option<Stream>> {
        self.inner.get_stream(realm, id).await
    }

    async fn find_stream(&self, realm: RealmId, name: &str) -> StoreResult<Option<Stream>> {
        self.inner.find_stream(realm, name).await
    }

    async fn list_streams(&self, realm: RealmId) -> StoreResult<Vec<Stream>> {
        self.inner.list_streams(realm).await
    }

    async fn subscribe(&self, realm: RealmId, user: UserId, stream: StreamId) -> StoreResult<()> {
        self.logged(Write::Subscribe { realm, user, stream }, self.inner.subscribe(realm, user, stream)).await
    }

    async fn subscriptions(&self, realm: RealmId, user: UserId) -> StoreResult<Vec<StreamId>> {
        self.inner.subscriptions(realm, user).await
    }
}

#[async_trait]
impl ServiceStore for JournalStore {
    async fn get_service(&self, realm: RealmId, bot: UserId) -> StoreResult<Option<BotService>> {
        self.inner.get_service(realm, bot).await
    }

    async fn list_services(&self, realm: RealmId) -> StoreResult<Vec<BotService>> {
        self.inner.list_services(realm).await
    }

    async fn update_service(&self, service: &BotService, expected_updated_at: Millis) -> StoreResult<()> {
        let write = Write::UpdateService { service: service.clone(), expected_updated_at };
        self.logged(write, self.inner.update_service(service, expected_updated_at)).await
    }
}

#[async_trait]
impl MessageStore for JournalStore {
    async fn commit_message(&self, draft: MessageDraft) -> StoreResult<Message> {
        self.logged(Write::CommitMessage { draft: draft.clone() }, self.inner.commit_message(draft)).await
    }

    async fn get_message(&self, realm: RealmId, id: MessageId) -> StoreResult<Option<Message>> {
        self.inner.get_message(realm, id).await
    }

    async fn list_messages(
        &self,
        realm: RealmId,
        scope: &MessageScope,
        anchor: MessageId,
        direction: Direction,
        limit: usize,
        keep: &MessageFilter,
    ) -> StoreResult<Vec<Message>> {
        self.inner.list_messages(realm, scope, anchor, direction, limit, keep).await
    }

    async fn last_message_id(&self, realm: RealmId) -> StoreResult<MessageId> {
        self.inner.last_message_id(realm).await
    }

    async fn pending_outbox(&self, created_before: Millis, now: Millis, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.inner.pending_outbox(created_before, now, limit).await
    }

    async fn get_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<Option<OutboxEntry>> {
        self.inner.get_outbox(realm, message).await
    }

    async fn claim_outbox(&self, realm: RealmId, message: MessageId, now: Millis, until: Millis) -> StoreResult<bool> {
        let write = Write::ClaimOutbox { realm, message, now, until };
        self.logged(write, self.inner.claim_outbox(realm, message, now, until)).await
    }

    async fn delete_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<()> {
        self.logged_lazily(Write::DeleteOutbox { realm, message }, self.inner.delete_outbox(realm, message)).await
    }
}

#[async_trait]
impl MessageChangeStore for JournalStore {
    async fn replace_message(&self, current: &Message, changed: Message) -> StoreResult<Message> {
        let write = Write::ReplaceMessage { current: Box::new(current.clone()), changed: Box::new(changed.clone()) };
        self.logged(write, self.inner.replace_message(current, changed)).await
    }

    async fn delete_message(&self, current: &Message) -> StoreResult<()> {
        self.logged(Write::DeleteMessage { current: Box::new(current.clone()) }, self.inner.delete_message(current))
            .await
    }
}

#[async_trait]
impl BotStorageStore for JournalStore {
    async fn bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        keys: Option<&[String]>,
    ) -> StoreResult<BTreeMap<String, String>> {
        self.inner.bot_storage(realm, bot, keys).await
    }

    async fn put_bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        entries: &BTreeMap<String, String>,
        limit: u64,
    ) -> StoreResult<()> {
        let write = Write::PutBotStorage { realm, bot, entries: entries.clone(), limit };
        self.logged(write, self.inner.put_bot_storage(realm, bot, entries, limit)).await
    }

    async fn remove_bot_storage(&self, realm: RealmId, bot: UserId, keys: &[String]) -> StoreResult<()> {
        let write = Write::RemoveBotStorage { realm, bot, keys: keys.to_vec() };
        self.logged(write, self.inner.remove_bot_storage(realm, bot, keys)).await
    }
}

#[async_trait]
impl DeliveryStore for JournalStore {
    async fn ensure_delivery(&self, delivery: &Delivery) -> StoreResult<Delivery> {
        self.logged_lazily(Write::EnsureDelivery { delivery: delivery.clone() }, self.inner.ensure_delivery(delivery))
            .await
    }

    async fn get_delivery(&self, realm: RealmId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        self.inner.get_delivery(realm, id).await
    }

    async fn claim_delivery(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> StoreResult<Option<Delivery>> {
        let write = Write::ClaimDelivery { realm, id, owner: owner.to_owned(), now, until };
        self.logged_lazily(write, self.inner.claim_delivery(realm, id, owner, now, until)).await
    }

    async fn begin_attempt(&self, delivery: &Delivery, owner: &str, now: Millis, until: Millis) -> StoreResult<Begun> {
        let write = Write::BeginAttempt { delivery: delivery.clone(), owner: owner.to_owned(), now, until };
        self.logged_lazily(write, self.inner.begin_attempt(delivery, owner, now, until)).await
    }

    async fn record_attempt(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        outcome: AttemptOutcome,
    ) -> StoreResult<Delivery> {
        let write = Write::RecordAttempt { realm, id, owner: owner.to_owned(), outcome: outcome.clone() };
        self.logged(write, self.inner.record_attempt(realm, id, owner, outcome)).await
    }

    async fn list_deliveries(
        &self,
        realm: RealmId,
        bot: UserId,
        state: Option<DeliveryState>,
        cursor: Option<DeliveryId>,
        limit: usize,
    ) -> StoreResult<Vec<Delivery>> {
        self.inner.list_deliveries(realm, bot, state, cursor, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::generate_api_key;
    use crate::user::Role;

    fn dir() -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hookline-journal-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn owner() -> NewUser {
        NewUser {
            email: "o@acme.example".into(),
            full_name: "O".into(),
            role: Role::Owner,
            bot_type: None,
            bot_owner_id: None,
            api_key_hash: ApiKeyHash::of(&generate_api_key()),
            service: None,
        }
    }

    fn realm() -> NewRealm {
        NewRealm {
            string_id: "acme".into(),
            name: "Acme".into(),
            host: "acme.test".into(),
            public_url: "http://x".into(),
        }
    }

    #[tokio::test]
    async fn reopening_replays_every_acknowledged_write() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let stream = store.create_stream(realm.id, "general", "", 2).await.unwrap();
        store.set_user_active(realm.id, owner.id, false).await.unwrap();
        // A refused write is not journaled
        assert!(store.create_stream(realm.id, "General", "", 3).await.is_err());
        let before = store.get_realm(realm.id).await.unwrap();
        drop(store);

        let reopened = JournalStore::open(&dir).await.unwrap();
        assert_eq!(reopened.get_realm(realm.id).await.unwrap(), before);
        assert_eq!(reopened.find_stream(realm.id, "general").await.unwrap(), Some(stream));
        assert!(!reopened.get_user(realm.id, owner.id).await.unwrap().unwrap().is_active);
        // Ids continue where they stopped
        assert_eq!(reopened.create_stream(realm.id, "second", "", 4).await.unwrap().id, 2);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_dropped_and_the_journal_stays_usable() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, _) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let path = store.path().await;
        drop(store);
        // GIVEN a crash in the middle of appending a line
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        use std::io::Write as _;
        file.write_all(br#"{"op":"create_stream","realm":1,"na"#).unwrap();
        drop(file);

        let reopened = JournalStore::open(&dir).await.unwrap();
        assert!(reopened.get_realm(realm.id).await.unwrap().is_some());
        assert_eq!(reopened.list_streams(realm.id).await.unwrap(), vec![]);
        reopened.create_stream(realm.id, "after", "", 2).await.unwrap();
        drop(reopened);
        let again = JournalStore::open(&dir).await.unwrap();
        assert_eq!(again.list_streams(realm.id).await.unwrap().len(), 1);
    }

    /// The job of message 1 mentioning `bot`.
    fn mention_of(realm: RealmId, bot: UserId) -> crate::delivery::DeliveryJob {
        crate::delivery::DeliveryJob {
            realm_id: realm,
            message_id: 1,
            bot_id: bot,
            trigger: crate::delivery::Trigger::Mention,
            redelivery: 0,
        }
    }

    fn draft(realm: RealmId, sender: UserId, content: &str, outbox: Vec<crate::delivery::DeliveryJob>) -> MessageDraft {
        MessageDraft {
            realm_id: realm,
            sender_id: sender,
            sender_email: "o@acme.example".into(),
            sender_full_name: "O".into(),
            sender_is_bot: false,
            recipient: crate::message::Recipient::direct(sender, [sender]),
            content: content.into(),
            timestamp: 10,
            client: "test".into(),
            outbox,
            reply_to: None,
            idempotency: None,
        }
    }

    fn small_tail(bytes: u64) -> JournalOptions {
        JournalOptions { compact_after_bytes: bytes, clock: Arc::new(crate::ManualClock::at(0)) }
    }

    async fn message_ids(store: &JournalStore, realm: RealmId) -> Vec<MessageId> {
        let all =
            store.list_messages(realm, &MessageScope::Realm, 0, Direction::From, 10_000, &|_| true).await.unwrap();
        all.iter().map(|m| m.id).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_reader_sees_a_write_before_it_is_durable() {
        let store = Arc::new(JournalStore::open(&dir()).await.unwrap());
        // GIVEN an fsync that stalls until released
        let (entered, in_sync) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = std::sync::Mutex::new(released);
        store.durable.lock().await.sync = Arc::new(move |file| {
            let _ = entered.send(());
            let _ = released.lock().unwrap().recv();
            file.sync_data()
        });
        let writer = {
            let store = store.clone();
            tokio::spawn(async move { store.create_realm(realm(), owner(), 1).await })
        };
        tokio::task::spawn_blocking(move || in_sync.recv().unwrap()).await.unwrap();
        // WHEN a reader looks while the write waits for its fsync; THEN it is not there yet
        assert_eq!(store.find_realm("acme").await.unwrap(), None);
        release.send(()).unwrap();
        let (realm, _) = writer.await.unwrap().unwrap();
        assert_eq!(store.find_realm("acme").await.unwrap(), Some(realm));
    }

    #[tokio::test]
    async fn a_write_whose_fsync_fails_is_never_seen_nor_replayed() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, _) = store.create_realm(realm(), owner(), 1).await.unwrap();
        store.durable.lock().await.sync = Arc::new(|_| Err(std::io::Error::other("disk on fire")));
        assert!(store.create_stream(realm.id, "lost", "", 2).await.is_err());
        assert_eq!(store.list_streams(realm.id).await.unwrap(), vec![]);
        // The store refuses writes from then on rather than acknowledge what it cannot keep
        assert!(matches!(store.create_stream(realm.id, "next", "", 3).await, Err(StoreError::Backend(_))));
        drop(store);
        let reopened = JournalStore::open(&dir).await.unwrap();
        assert_eq!(reopened.list_streams(realm.id).await.unwrap(), vec![]);
        assert!(reopened.get_realm(realm.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_data_dir_is_open_in_one_store_at_a_time() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        assert!(matches!(JournalStore::open(&dir).await, Err(StoreError::Backend(e)) if e.contains("in use")));
        drop(store);
        JournalStore::open(&dir).await.unwrap();
    }

    #[tokio::test]
    async fn the_tail_stays_bounded_and_compaction_keeps_every_write() {
        let dir = dir();
        let limit = 4096;
        let store = JournalStore::open_with(&dir, small_tail(limit)).await.unwrap();
        let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let mut biggest_tail = 0;
        for i in 0..300 {
            store.commit_message(draft(realm.id, owner.id, &format!("message {i}"), vec![])).await.unwrap();
            biggest_tail = biggest_tail.max(std::fs::metadata(store.path().await).unwrap().len());
        }
        // The tail never grows past the limit by more than one write
        assert!(biggest_tail < limit + 1024, "{biggest_tail}");
        assert!(store.journal.lock().await.generation > 1, "compacted more than once");
        drop(store);
        let reopened = JournalStore::open_with(&dir, small_tail(limit)).await.unwrap();
        assert_eq!(message_ids(&reopened, realm.id).await, (1..=300).collect::<Vec<_>>());
        assert_eq!(reopened.get_message(realm.id, 300).await.unwrap().unwrap().content, "message 299");
        // Only the snapshot and the current tail are left
        let mut files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        let tail = reopened.path().await.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(files, ["LOCK".to_owned(), tail, SNAPSHOT.to_owned()]);
    }

    #[tokio::test]
    async fn a_crash_between_any_two_steps_of_a_compaction_loses_and_doubles_nothing() {
        for step in [Step::SnapshotWritten, Step::SnapshotInPlace, Step::TailStarted, Step::OldTailRemoved] {
            let dir = dir();
            let store = JournalStore::open(&dir).await.unwrap();
            let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
            for i in 0..3 {
                store.commit_message(draft(realm.id, owner.id, &format!("before {i}"), vec![])).await.unwrap();
            }
            let stored = BTreeMap::from([("k".to_owned(), "v".to_owned())]);
            store.put_bot_storage(realm.id, owner.id, &stored, 1_000).await.unwrap();
            // A first, complete compaction, so that a previous snapshot exists too
            store.compact_now(&mut *store.journal.lock().await, Step::OldTailRemoved).await.unwrap();
            store.commit_message(draft(realm.id, owner.id, "between", vec![])).await.unwrap();
            // GIVEN a compaction that stops after `step`, as a crash would stop it
            store.compact_now(&mut *store.journal.lock().await, step).await.unwrap();
            drop(store);

            let reopened = JournalStore::open(&dir).await.unwrap();
            assert_eq!(message_ids(&reopened, realm.id).await, [1, 2, 3, 4], "after {step:?}");
            assert_eq!(reopened.bot_storage(realm.id, owner.id, None).await.unwrap(), stored, "after {step:?}");
            reopened.commit_message(draft(realm.id, owner.id, "after", vec![])).await.unwrap();
            drop(reopened);
            let again = JournalStore::open(&dir).await.unwrap();
            assert_eq!(message_ids(&again, realm.id).await, [1, 2, 3, 4, 5], "after {step:?}, reopened twice");
        }
    }

    #[tokio::test]
    async fn a_half_written_temporary_snapshot_is_ignored() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
        store.commit_message(draft(realm.id, owner.id, "kept", vec![])).await.unwrap();
        drop(store);
        std::fs::write(dir.join(SNAPSHOT_TEMP), b"{\"generation\":1}\n{\"realms\":[[1,").unwrap();
        let reopened = JournalStore::open(&dir).await.unwrap();
        assert_eq!(message_ids(&reopened, realm.id).await, [1]);
        assert!(!dir.join(SNAPSHOT_TEMP).exists());
    }

    #[tokio::test]
    async fn leases_and_claims_of_the_process_before_are_released_on_open() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let job = mention_of(realm.id, owner.id);
        store.commit_message(draft(realm.id, owner.id, "hi", vec![job.clone()])).await.unwrap();
        let delivery = store.ensure_delivery(&Delivery::new(&job, 10, 1_000_000)).await.unwrap();
        assert!(store.claim_delivery(realm.id, delivery.id, "before-the-crash", 20, 30_000).await.unwrap().is_some());
        drop(store);

        // WHEN the store is opened again (the process that held the lease is gone)
        let reopened = JournalStore::open(&dir).await.unwrap();
        // THEN the delivery and the outbox entry can be taken up at once
        assert!(reopened.claim_delivery(realm.id, delivery.id, "after", 25, 30_000).await.unwrap().is_some());
        assert_eq!(reopened.pending_outbox(100_000, 100, 10).await.unwrap().len(), 1);
        let outcome = AttemptOutcome {
            attempt: crate::Attempt {
                at: 26,
                status: Some(200),
                latency_ms: 1,
                error: None,
                response_excerpt: String::new(),
            },
            state: DeliveryState::Delivered,
            next_attempt_at: 26,
        };
        reopened.record_attempt(realm.id, delivery.id, "after", outcome).await.unwrap();
        drop(reopened);
        // Replay reproduces the release and what followed it
        let again = JournalStore::open(&dir).await.unwrap();
        let delivery = again.get_delivery(realm.id, delivery.id).await.unwrap().unwrap();
        assert_eq!((delivery.state, delivery.attempt_count), (DeliveryState::Delivered, 1));
    }

    #[tokio::test]
    async fn writes_a_restart_repairs_wait_for_no_fsync_of_their_own_and_are_replayed() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let job = mention_of(realm.id, owner.id);
        store.commit_message(draft(realm.id, owner.id, "hi", vec![job.clone()])).await.unwrap();
        let fsyncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = fsyncs.clone();
        store.durable.lock().await.sync = Arc::new(move |file| {
            counted.fetch_add(1, Ordering::SeqCst);
            file.sync_data()
        });
        // WHEN the outbox entry is cleared and the delivery begun (created and leased)
        store.delete_outbox(realm.id, 1).await.unwrap();
        let Begun::Claimed(delivery) =
            store.begin_attempt(&Delivery::new(&job, 10, 1_000_000), "w", 20, 30_000).await.unwrap()
        else {
            panic!("a new delivery is claimable");
        };
        // THEN neither waited for an fsync, and both are seen at once
        assert_eq!(fsyncs.load(Ordering::SeqCst), 0);
        assert_eq!(store.get_outbox(realm.id, 1).await.unwrap(), None);
        assert_eq!(store.get_delivery(realm.id, delivery.id).await.unwrap().unwrap().lease_owner.as_deref(), Some("w"));
        // AND the attempt's record, which must be durable, fsyncs the journal with them in it
        let outcome = AttemptOutcome {
            attempt: crate::Attempt {
                at: 21,
                status: Some(200),
                latency_ms: 1,
                error: None,
                response_excerpt: String::new(),
            },
            state: DeliveryState::Delivered,
            next_attempt_at: 21,
        };
        store.record_attempt(realm.id, delivery.id, "w", outcome).await.unwrap();
        assert_eq!(fsyncs.load(Ordering::SeqCst), 1);
        drop(store);
        let reopened = JournalStore::open(&dir).await.unwrap();
        assert_eq!(reopened.get_outbox(realm.id, 1).await.unwrap(), None);
        let replayed = reopened.get_delivery(realm.id, delivery.id).await.unwrap().unwrap();
        assert_eq!((replayed.state, replayed.attempt_count), (DeliveryState::Delivered, 1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_fsyncs_and_are_applied_in_journal_order() {
        let dir = dir();
        let store = Arc::new(JournalStore::open(&dir).await.unwrap());
        let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let fsyncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = fsyncs.clone();
        store.durable.lock().await.sync = Arc::new(move |file| {
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            file.sync_data()
        });
        let writers: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store.commit_message(draft(realm.id, owner.id, &format!("w{i}"), vec![])).await.unwrap().id
                })
            })
            .collect();
        let mut ids = Vec::new();
        for writer in writers {
            ids.push(writer.await.unwrap());
        }
        ids.sort_unstable();
        assert_eq!(ids, (1..=40).collect::<Vec<_>>());
        let fsyncs = fsyncs.load(Ordering::SeqCst);
        assert!(fsyncs <= 20, "40 writes took {fsyncs} fsyncs");
        // The replay assigns every message the id it was acknowledged with
        let contents: Vec<(MessageId, String)> = {
            let all = store.list_messages(realm.id, &MessageScope::Realm, 0, Direction::From, 100, &|_| true).await;
            all.unwrap().into_iter().map(|m| (m.id, m.content)).collect()
        };
        drop(store);
        let reopened = JournalStore::open(&dir).await.unwrap();
        let replayed: Vec<(MessageId, String)> = {
            let all = reopened.list_messages(realm.id, &MessageScope::Realm, 0, Direction::From, 100, &|_| true).await;
            all.unwrap().into_iter().map(|m| (m.id, m.content)).collect()
        };
        assert_eq!(replayed, contents);
    }
}
