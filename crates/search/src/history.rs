//! The history index: one Tantivy document per booking (its latest state), for finding
//! bookings and guests across the whole history by name, e-mail, reference, property, tenant,
//! status and the dates of the stay. Kept in a directory (or in memory), fed from the outbox:
//! booking events carry the whole booking; an erased account's bookings are read again (their
//! guest details are erased in the store) and the segments holding their earlier documents
//! rewritten; a bulk import rebuilds. Each commit records the outbox position and the id of
//! the event there ([`Mark`]): a node that starts resumes from it when its database has that
//! event there, and builds the index from the bookings table otherwise.

use crate::analysis::{TEXT_ANALYZER, text_analyzer, words};
use crate::error::SearchError;
use innkeep_app::Store;
use innkeep_app::event::{Change, EventKind};
use innkeep_app::follow::{FollowOptions, Follower, StepError};
use innkeep_app::history::{BookingHistory, BookingHit, GuestHit, HistoryAnswer, HistoryQuery};
use innkeep_app::search::IndexError;
use innkeep_app::store::BookingFilter;
use innkeep_core::{BookingId, EventId, PropertyId, UserId};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::directory::MmapDirectory;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score, SegmentOrdinal, SegmentReader,
    TantivyDocument, Term,
};
use tokio::sync::{Notify, watch};

/// The writer's memory budget.
const WRITER_HEAP_BYTES: usize = 50_000_000;

/// Words of at least this many characters also match terms one edit away.
const FUZZY_MIN_CHARS: usize = 4;

/// Words of a query, at most (the rest are ignored).
const MAX_WORDS: usize = 8;

/// Guests answered at most.
const MAX_GUESTS: usize = 20;

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    user: Field,
    tenant: Field,
    property: Field,
    status: Field,
    email: Field,
    /// The guest's name and the words of their e-mail.
    guest: Field,
    property_name: Field,
    check_in: Field,
    check_out: Field,
    /// The guest's user id in halves, and when the booking was made (fast fields: the
    /// guests are grouped and the newest bookings found without reading documents).
    user_hi: Field,
    user_lo: Field,
    created: Field,
    /// The stored hit, as JSON.
    doc: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(TEXT_ANALYZER).set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING),
        user: b.add_text_field("user", STRING),
        tenant: b.add_text_field("tenant", STRING),
        property: b.add_text_field("property", STRING),
        status: b.add_text_field("status", STRING),
        email: b.add_text_field("email", STRING),
        guest: b.add_text_field("guest", text.clone()),
        property_name: b.add_text_field("property_name", text),
        check_in: b.add_i64_field("check_in", INDEXED | FAST),
        check_out: b.add_i64_field("check_out", INDEXED | FAST),
        user_hi: b.add_u64_field("user_hi", FAST),
        user_lo: b.add_u64_field("user_lo", FAST),
        created: b.add_i64_field("created", FAST),
        doc: b.add_text_field("doc", STORED),
    };
    (b.build(), fields)
}

/// A date as an ordered number (20261201).
fn day(d: Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

fn halves(user: UserId) -> (u64, u64) {
    let v = user.0.as_u128();
    ((v >> 64) as u64, v as u64)
}

/// The shape of the documents; an index on disk of another layout is built again.
const LAYOUT: u32 = 1;

/// On disk, the position is committed at least this often (in events) while no booking
/// changes, so that a restart reads few events again.
const PERSIST_EVERY: i64 = 10_000;

/// What a commit records beside the documents: the outbox position they reflect and the id
/// of the event there, so that an index left by another database is never taken for ours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    layout: u32,
    pub position: i64,
    pub event: Option<EventId>,
}

/// The history index, in memory or in a directory. Safe to share: writes are serialised by a
/// lock, searches run on the last committed state.
pub struct HistoryIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// The outbox position the index reflects; -1 until it is first built.
    position: AtomicI64,
    /// The position of the last commit (on disk, what a restart resumes from).
    committed: AtomicI64,
    on_disk: bool,
}

impl HistoryIndex {
    /// A fresh index in memory.
    pub fn new() -> Result<HistoryIndex, SearchError> {
        let (schema, _) = schema();
        HistoryIndex::with(Index::create_in_ram(schema), false)
    }

    /// The index kept in `dir` (created there if there is none; built again there if it was
    /// written with another layout or cannot be read). Fails when another process holds it.
    pub fn open(dir: &Path) -> Result<HistoryIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let (schema, _) = schema();
        let opened = Index::open_or_create(MmapDirectory::open(dir)?, schema.clone());
        let usable = match &opened {
            Ok(index) => index
                .load_metas()
                .ok()
                .and_then(|m| m.payload)
                .is_none_or(|p| serde_json::from_str::<Mark>(&p).is_ok_and(|m| m.layout == LAYOUT)),
            Err(_) => false,
        };
        let index = match opened {
            Ok(index) if usable => index,
            _ => {
                tracing::warn!(dir = %dir.display(), "the booking history index on disk is of another layout: building it again");
                std::fs::remove_dir_all(dir)?;
                std::fs::create_dir_all(dir)?;
                Index::create_in_dir(dir, schema)?
            }
        };
        HistoryIndex::with(index, true)
    }

    fn with(index: Index, on_disk: bool) -> Result<HistoryIndex, SearchError> {
        let (_, fields) = schema();
        index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
        let writer = index.writer_with_num_threads(1, WRITER_HEAP_BYTES)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(HistoryIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            position: AtomicI64::new(-1),
            committed: AtomicI64::new(-1),
            on_disk,
        })
    }

    /// What the last commit on disk recorded (`None` in memory, or for a new index).
    pub fn mark(&self) -> Option<Mark> {
        let payload = self.index.load_metas().ok()?.payload?;
        serde_json::from_str(&payload).ok()
    }

    /// The outbox position the index reflects; -1 before it was first built.
    pub fn position(&self) -> i64 {
        self.position.load(Ordering::Relaxed)
    }

    fn set_position(&self, seq: i64) {
        self.position.store(seq, Ordering::Relaxed);
    }

    /// Bookings indexed.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn document(&self, hit: &BookingHit) -> Result<TantivyDocument, SearchError> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, hit.booking_id.to_string());
        doc.add_text(f.user, hit.user_id.to_string());
        doc.add_text(f.tenant, hit.tenant_id.to_string());
        doc.add_text(f.property, hit.property_id.to_string());
        doc.add_text(f.status, hit.status.as_str());
        doc.add_text(f.email, hit.guest_email.to_lowercase());
        doc.add_text(f.guest, format!("{} {}", hit.guest_name, hit.guest_email));
        doc.add_text(f.property_name, &hit.property_name);
        doc.add_i64(f.check_in, day(hit.check_in));
        doc.add_i64(f.check_out, day(hit.check_out));
        let json = serde_json::to_string(hit).map_err(|e| SearchError::Corrupt(e.to_string()))?;
        doc.add_text(f.doc, json);
        let (hi, lo) = halves(hit.user_id);
        doc.add_u64(f.user_hi, hi);
        doc.add_u64(f.user_lo, lo);
        doc.add_i64(f.created, hit.created_at.as_millisecond());
        Ok(doc)
    }

    /// Add a booking or replace its earlier state (visible after [`commit`](Self::commit)).
    pub fn upsert(&self, hit: &BookingHit) -> Result<(), SearchError> {
        let doc = self.document(hit)?;
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_term(Term::from_field_text(self.fields.id, &hit.booking_id.to_string()));
        writer.add_document(doc)?;
        Ok(())
    }

    /// Make the changes so far searchable (and durable on disk), as reflecting the outbox up
    /// to `position`, where the event `event` is.
    pub fn commit(&self, position: i64, event: Option<EventId>) -> Result<(), SearchError> {
        let mark = serde_json::to_string(&Mark { layout: LAYOUT, position, event })
            .map_err(|e| SearchError::Corrupt(e.to_string()))?;
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&mark);
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        self.committed.store(position, Ordering::Relaxed);
        self.set_position(position);
        Ok(())
    }

    /// Rewrite every segment that still holds replaced documents, so that nothing of them
    /// is left in memory or on disk (after an account was erased). Call after a commit.
    pub fn purge(&self) -> Result<(), SearchError> {
        let searcher = self.reader.searcher();
        let stale: Vec<_> =
            searcher.segment_readers().iter().filter(|s| s.num_deleted_docs() > 0).map(|s| s.segment_id()).collect();
        drop(searcher);
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        if !stale.is_empty()
            && let Err(e) = writer.merge(&stale).wait()
        {
            // A merge already running takes those segments, and drops their deleted documents.
            tracing::info!(error = %e, "the history index is merging already");
        }
        self.reader.reload()?;
        writer.garbage_collect_files().wait()?;
        Ok(())
    }

    /// Drop every document (before a rebuild adds them all again).
    fn clear(&self) -> Result<(), SearchError> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_all_documents()?;
        Ok(())
    }

    fn query(&self, q: &HistoryQuery) -> Box<dyn Query> {
        let f = self.fields;
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        let term = |field: Field, value: String| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, &value), IndexRecordOption::Basic))
        };
        if let Some(id) = q.booking_id {
            must.push(term(f.id, id.to_string()));
        }
        if let Some(t) = q.tenant_id {
            must.push(term(f.tenant, t.to_string()));
        }
        if let Some(p) = q.property_id {
            must.push(term(f.property, p.to_string()));
        }
        if let Some(s) = q.status {
            must.push(term(f.status, s.as_str().to_string()));
        }
        if let Some(e) = &q.email {
            must.push(term(f.email, e.to_lowercase()));
        }
        // A night in [from, to): the stay ends after `from` and starts before `to`.
        if let Some(from) = q.from {
            let lower = Bound::Excluded(Term::from_field_i64(f.check_out, day(from)));
            must.push(Box::new(RangeQuery::new(lower, Bound::Unbounded)));
        }
        if let Some(to) = q.to {
            let upper = Bound::Excluded(Term::from_field_i64(f.check_in, day(to)));
            must.push(Box::new(RangeQuery::new(Bound::Unbounded, upper)));
        }
        if let Some(text) = &q.text {
            let mut analyzer = text_analyzer();
            for word in words(&mut analyzer, text).into_iter().take(MAX_WORDS) {
                let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (field, weight) in [(f.guest, 2.0), (f.property_name, 1.0)] {
                    let t = Term::from_field_text(field, &word);
                    let exact = TermQuery::new(t.clone(), IndexRecordOption::WithFreqs);
                    any.push((Occur::Should, Box::new(BoostQuery::new(Box::new(exact), weight))));
                    if word.chars().count() >= FUZZY_MIN_CHARS {
                        let fuzzy = FuzzyTermQuery::new(t, 1, true);
                        any.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), weight * 0.3))));
                    }
                }
                must.push(Box::new(BooleanQuery::new(any)));
            }
        }
        if must.is_empty() {
            return Box::new(AllQuery);
        }
        Box::new(BooleanQuery::new(must.into_iter().map(|q| (Occur::Must, q)).collect()))
    }

    fn hit(&self, searcher: &tantivy::Searcher, at: DocAddress) -> Result<BookingHit, SearchError> {
        let doc: TantivyDocument = searcher.doc(at)?;
        let json = doc.get_first(self.fields.doc).and_then(|v| v.as_str()).unwrap_or_default();
        serde_json::from_str(json).map_err(|e| SearchError::Corrupt(format!("a stored booking: {e}")))
    }

    /// Search: the best matches for words (the newest otherwise), how many match in all, and
    /// the guests with most bookings among them.
    pub fn search(&self, q: &HistoryQuery) -> Result<HistoryAnswer, SearchError> {
        let query = self.query(q);
        let searcher = self.reader.searcher();
        let limit = q.limit.max(1);
        let (total, top, guests) = if q.text.is_some() {
            let top = TopDocs::with_limit(limit).order_by_score();
            let (n, top, guests) = searcher.search(&query, &(Count, top, GuestCollector))?;
            (n, top.into_iter().map(|(_, at)| at).collect::<Vec<_>>(), guests)
        } else {
            let top = TopDocs::with_limit(limit).order_by_fast_field::<i64>("created", Order::Desc);
            let (n, top, guests) = searcher.search(&query, &(Count, top, GuestCollector))?;
            (n, top.into_iter().map(|(_, at)| at).collect::<Vec<_>>(), guests)
        };
        let bookings = top.into_iter().map(|at| self.hit(&searcher, at)).collect::<Result<Vec<_>, _>>()?;
        let mut guests: Vec<Guest> = guests.into_values().collect();
        guests.sort_by(|a, b| b.count.cmp(&a.count).then(b.created.cmp(&a.created)));
        let guests = guests
            .into_iter()
            .take(MAX_GUESTS.min(limit))
            .map(|g| {
                let latest = self.hit(&searcher, g.latest)?;
                Ok(GuestHit {
                    user_id: latest.user_id,
                    name: latest.guest_name,
                    email: latest.guest_email,
                    bookings: g.count,
                    last_booked_at: latest.created_at,
                })
            })
            .collect::<Result<Vec<_>, SearchError>>()?;
        Ok(HistoryAnswer { total: total as u64, bookings, guests })
    }
}

impl BookingHistory for HistoryIndex {
    fn search(&self, q: &HistoryQuery) -> Result<HistoryAnswer, IndexError> {
        if self.position() < 0 {
            return Err(IndexError::Failed("the booking history is still being built; try again shortly".into()));
        }
        HistoryIndex::search(self, q).map_err(|e| match e {
            SearchError::InvalidQuery(m) => IndexError::Query(m),
            other => IndexError::Failed(other.to_string()),
        })
    }
}

/// A guest's bookings among the matches: how many, and the newest.
#[derive(Debug, Clone, Copy)]
struct Guest {
    count: u64,
    created: i64,
    latest: DocAddress,
}

/// Groups the matching bookings by guest (the user id's halves, fast fields).
struct GuestCollector;

struct GuestSegment {
    segment: SegmentOrdinal,
    hi: Column<u64>,
    lo: Column<u64>,
    created: Column<i64>,
    guests: HashMap<(u64, u64), Guest>,
}

impl Collector for GuestCollector {
    type Fruit = HashMap<(u64, u64), Guest>;
    type Child = GuestSegment;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<GuestSegment> {
        let ff = reader.fast_fields();
        Ok(GuestSegment {
            segment,
            hi: ff.u64("user_hi")?,
            lo: ff.u64("user_lo")?,
            created: ff.i64("created")?,
            guests: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: HashMap<(u64, u64), Guest> = HashMap::new();
        for fruit in fruits {
            for (key, g) in fruit {
                all.entry(key)
                    .and_modify(|a| {
                        a.count += g.count;
                        if g.created > a.created {
                            a.created = g.created;
                            a.latest = g.latest;
                        }
                    })
                    .or_insert(g);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for GuestSegment {
    type Fruit = HashMap<(u64, u64), Guest>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let key = (self.hi.first(doc).unwrap_or(0), self.lo.first(doc).unwrap_or(0));
        let created = self.created.first(doc).unwrap_or(i64::MIN);
        let latest = DocAddress::new(self.segment, doc);
        self.guests
            .entry(key)
            .and_modify(|g| {
                g.count += 1;
                if created > g.created {
                    g.created = created;
                    g.latest = latest;
                }
            })
            .or_insert(Guest { count: 1, created, latest });
    }

    fn harvest(self) -> Self::Fruit {
        self.guests
    }
}

/// Bookings read at once, in a rebuild and after an erasure.
const PAGE: u32 = 5_000;

/// Property names by id, read from the store once each (and kept as events rename them).
#[derive(Default)]
struct Names(HashMap<PropertyId, String>);

impl Names {
    async fn of(&mut self, store: &dyn Store, id: PropertyId) -> Result<String, SearchError> {
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let name = store.property(id).await?.map(|p| p.draft.name).unwrap_or_default();
        self.0.insert(id, name.clone());
        Ok(name)
    }
}

/// The id of the event at outbox position `seq`, if there is one.
async fn event_at(store: &dyn Store, seq: i64) -> Result<Option<EventId>, SearchError> {
    if seq <= 0 {
        return Ok(None);
    }
    let next = store.events_after(seq - 1, 1).await?;
    Ok(next.into_iter().next().filter(|e| e.seq == seq).map(|e| e.event.id))
}

/// Rebuild the index from every booking and commit it, as reflecting the outbox where it was
/// before the bookings were read.
async fn rebuild(store: &dyn Store, index: &HistoryIndex, names: &mut Names) -> Result<(), SearchError> {
    let from = store.last_event_seq().await?;
    let event = event_at(store, from).await?;
    index.clear()?;
    let mut after: Option<BookingId> = None;
    loop {
        let page = store.all_bookings(after, PAGE).await?;
        after = page.last().map(|b| b.id);
        for b in &page {
            let name = names.of(store, b.property_id).await?;
            index.upsert(&BookingHit::of(b, &name))?;
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    index.commit(from, event)?;
    Ok(())
}

/// Index a user's bookings again from the store (after their account was erased).
async fn reread_user(
    store: &dyn Store,
    index: &HistoryIndex,
    names: &mut Names,
    user: UserId,
) -> Result<(), SearchError> {
    let mut offset = 0;
    loop {
        let filter = BookingFilter { user_id: Some(user), limit: PAGE, offset, ..BookingFilter::default() };
        let page = store.list_bookings(&filter).await?;
        for b in &page {
            let name = names.of(store, b.property_id).await?;
            index.upsert(&BookingHit::of(b, &name))?;
        }
        if page.len() < PAGE as usize {
            return Ok(());
        }
        offset += PAGE;
    }
}

/// How a node's index came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Built {
    /// Read from every booking.
    Rebuilt,
    /// Taken from disk where an earlier run left it, then brought up to date from the outbox.
    Resumed { from: i64 },
}

/// Make the index current before a node serves: resume the one on disk when its last commit
/// names an event this database has at that position, otherwise build it from every booking;
/// then follow the outbox to its end. Returns how, and how many bookings it holds.
pub async fn build(store: Arc<dyn Store>, index: Arc<HistoryIndex>) -> Result<(Built, u64), SearchError> {
    let mut built = Built::Rebuilt;
    if let Some(mark) = index.mark().filter(|m| m.layout == LAYOUT && m.event.is_some())
        && event_at(store.as_ref(), mark.position).await? == mark.event
    {
        index.committed.store(mark.position, Ordering::Relaxed);
        index.set_position(mark.position);
        built = Built::Resumed { from: mark.position };
    }
    let mut feed = HistoryFeed::new(store, index.clone());
    while feed.apply().await? > 0 {}
    Ok((built, index.num_docs()))
}

/// Outbox events read at once.
const BATCH: u32 = 2_000;

/// The history index as an outbox follower (on disk, its position is committed with the
/// documents; in memory, a node builds the index again when it starts).
pub struct HistoryFeed {
    store: Arc<dyn Store>,
    index: Arc<HistoryIndex>,
    names: Names,
}

impl HistoryFeed {
    pub fn new(store: Arc<dyn Store>, index: Arc<HistoryIndex>) -> Self {
        HistoryFeed { store, index, names: Names::default() }
    }

    async fn apply(&mut self) -> Result<usize, SearchError> {
        let store = self.store.as_ref();
        if self.index.position() < 0 {
            rebuild(store, &self.index, &mut self.names).await?;
        }
        let from = self.index.position();
        let events = store.events_after(from, BATCH).await?;
        let Some((last, last_event)) = events.last().map(|e| (e.seq, e.event.id)) else { return Ok(0) };
        let (mut changed, mut erased) = (false, false);
        for e in &events {
            let kind = e.event.kind;
            let relevant = e.event.is_booking_change()
                || matches!(
                    kind,
                    EventKind::PropertyCreated
                        | EventKind::PropertyUpdated
                        | EventKind::UserErased
                        | EventKind::CatalogImported
                );
            if !relevant {
                continue;
            }
            match e.event.change() {
                Ok(Change::Booking(b)) => {
                    let name = self.names.of(store, b.property_id).await?;
                    self.index.upsert(&BookingHit::of(&b, &name))?;
                    changed = true;
                }
                Ok(Change::PropertyCreated(p) | Change::PropertyUpdated(p)) => {
                    self.names.0.insert(p.id, p.draft.name);
                }
                Ok(Change::UserErased(u)) => {
                    reread_user(store, &self.index, &mut self.names, u.user_id).await?;
                    (changed, erased) = (true, true);
                }
                Ok(Change::CatalogImported(_)) => {
                    // A bulk load names no bookings: read them all again.
                    self.names = Names::default();
                    rebuild(store, &self.index, &mut self.names).await?;
                    return Ok(events.len());
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(event_id = %e.event.id, kind = %kind, error = %err, "undecodable event payload");
                }
            }
        }
        let unsaved = last - self.index.committed.load(Ordering::Relaxed);
        if changed || (self.index.on_disk && unsaved >= PERSIST_EVERY) {
            self.index.commit(last, Some(last_event))?;
        } else {
            self.index.set_position(last);
        }
        if erased {
            // The erased person's earlier documents are only marked deleted: rewrite them away.
            self.index.purge()?;
        }
        Ok(events.len())
    }
}

#[async_trait::async_trait]
impl Follower for HistoryFeed {
    fn name(&self) -> &str {
        "history-index"
    }

    async fn step(&mut self) -> Result<usize, StepError> {
        Ok(self.apply().await?)
    }
}

/// Follow the outbox from where the index is (building it first if it is not built) until
/// `stop`, woken by commits.
pub async fn follow(
    store: Arc<dyn Store>,
    index: Arc<HistoryIndex>,
    commits: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    let opts =
        FollowOptions { batch: BATCH as usize, poll: Duration::from_millis(500), linger: Duration::from_millis(50) };
    innkeep_app::follow::follow(HistoryFeed::new(store, index), commits, opts, stop).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_core::{BookingStatus, Currency, Money, TenantId};

    fn hit(n: u128, user: u128, name: &str, stay: (&str, &str), status: BookingStatus) -> BookingHit {
        BookingHit {
            booking_id: BookingId(uuid::Uuid::from_u128(n)),
            status,
            tenant_id: TenantId(uuid::Uuid::from_u128(7)),
            property_id: PropertyId(uuid::Uuid::from_u128(9)),
            property_name: "Casa Azul".into(),
            user_id: UserId(uuid::Uuid::from_u128(user)),
            guest_name: name.into(),
            guest_email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
            check_in: stay.0.parse().unwrap(),
            check_out: stay.1.parse().unwrap(),
            total: Money::new(10_000, Currency::parse("EUR").unwrap()),
            created_at: jiff::Timestamp::from_second(1_700_000_000 + n as i64).unwrap(),
        }
    }

    fn found(index: &HistoryIndex, q: HistoryQuery) -> Vec<u128> {
        let a = index.search(&HistoryQuery { limit: 50, ..q }).unwrap();
        a.bookings.iter().map(|b| b.booking_id.0.as_u128()).collect()
    }

    #[test]
    fn finds_by_words_dates_and_groups_guests() {
        let index = HistoryIndex::new().unwrap();
        index.upsert(&hit(1, 100, "José Müller", ("2027-03-01", "2027-03-03"), BookingStatus::Held)).unwrap();
        index.upsert(&hit(2, 100, "José Müller", ("2027-05-01", "2027-05-02"), BookingStatus::Confirmed)).unwrap();
        index.upsert(&hit(3, 200, "Maria Santos", ("2027-03-03", "2027-03-05"), BookingStatus::Held)).unwrap();
        // A later state of booking 1 replaces the earlier one.
        index.upsert(&hit(1, 100, "José Müller", ("2027-03-01", "2027-03-03"), BookingStatus::Cancelled)).unwrap();
        index.commit(3, None).unwrap();
        assert_eq!(index.num_docs(), 3);
        let text = |t: &str| HistoryQuery { text: Some(t.into()), ..HistoryQuery::default() };
        let mut jose = found(&index, text("muller"));
        jose.sort();
        assert_eq!(jose, [1, 2]);
        assert_eq!(found(&index, text("mueller")).len(), 2, "one typo");
        assert_eq!(found(&index, text("mxyzller")), Vec::<u128>::new(), "two typos");
        assert_eq!(found(&index, text("maria muller")), Vec::<u128>::new(), "every word must match");
        // Newest first without words.
        assert_eq!(found(&index, HistoryQuery::default()), [3, 2, 1]);
        // A night in [from, to): booking 1 leaves on the 3rd, booking 3 arrives then.
        let range = |from: &str, to: &str| HistoryQuery {
            from: Some(from.parse().unwrap()),
            to: Some(to.parse().unwrap()),
            ..HistoryQuery::default()
        };
        assert_eq!(found(&index, range("2027-03-03", "2027-03-04")), [3]);
        assert_eq!(found(&index, range("2027-03-02", "2027-03-03")), [1]);
        assert_eq!(found(&index, range("2027-03-05", "2027-05-01")), Vec::<u128>::new());
        let status = HistoryQuery { status: Some(BookingStatus::Cancelled), ..HistoryQuery::default() };
        assert_eq!(found(&index, status), [1]);
        let email = HistoryQuery { email: Some("maria.santos@example.com".into()), ..HistoryQuery::default() };
        assert_eq!(found(&index, email), [3]);
        let all = index.search(&HistoryQuery { limit: 1, ..HistoryQuery::default() }).unwrap();
        assert_eq!(all.total, 3, "the total counts every match, not the page");
        assert_eq!(all.bookings.len(), 1);
        let guests = index.search(&HistoryQuery { limit: 10, ..HistoryQuery::default() }).unwrap().guests;
        let summary: Vec<(&str, u64)> = guests.iter().map(|g| (g.name.as_str(), g.bookings)).collect();
        assert_eq!(summary, [("José Müller", 2), ("Maria Santos", 1)]);
    }

    #[test]
    fn not_built_yet_is_a_failure_to_retry() {
        let index = HistoryIndex::new().unwrap();
        let e = BookingHistory::search(&index, &HistoryQuery { limit: 5, ..HistoryQuery::default() });
        assert!(matches!(e, Err(IndexError::Failed(_))));
    }

    fn segment_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && n != "meta.json" && n != "managed.json")
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_index_on_disk_keeps_its_documents_and_mark_for_one_process_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let event = EventId(uuid::Uuid::from_u128(77));
        let index = HistoryIndex::open(dir.path()).unwrap();
        assert_eq!(index.mark(), None, "a new index");
        index.upsert(&hit(1, 100, "José Müller", ("2027-03-01", "2027-03-03"), BookingStatus::Held)).unwrap();
        index.upsert(&hit(2, 200, "Maria Santos", ("2027-03-03", "2027-03-05"), BookingStatus::Held)).unwrap();
        index.commit(7, Some(event)).unwrap();
        let second = HistoryIndex::open(dir.path()).err().expect("a second writer of the same directory");
        assert!(second.is_locked(), "{second}");
        drop(index);
        let again = HistoryIndex::open(dir.path()).unwrap();
        assert_eq!(again.num_docs(), 2);
        let mark = again.mark().unwrap();
        assert_eq!((mark.position, mark.event), (7, Some(event)));
        assert_eq!(again.position(), -1, "not searchable until the store confirms the mark");
    }

    #[test]
    fn an_index_of_another_layout_is_built_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Schema::builder();
        let title = b.add_text_field("title", STRING | STORED);
        let old = Index::create_in_dir(dir.path(), b.build()).unwrap();
        let mut w: IndexWriter = old.writer_with_num_threads(1, WRITER_HEAP_BYTES).unwrap();
        let mut doc = TantivyDocument::default();
        doc.add_text(title, "an old document");
        w.add_document(doc).unwrap();
        w.commit().unwrap();
        drop((w, old));
        let index = HistoryIndex::open(dir.path()).unwrap();
        assert_eq!((index.num_docs(), index.mark()), (0, None));
        index.upsert(&hit(1, 100, "José Müller", ("2027-03-01", "2027-03-03"), BookingStatus::Held)).unwrap();
        index.commit(1, None).unwrap();
        assert_eq!(index.num_docs(), 1);
    }

    #[test]
    fn an_erased_guests_replaced_documents_are_rewritten_away() {
        let dir = tempfile::tempdir().unwrap();
        let index = HistoryIndex::open(dir.path()).unwrap();
        index.upsert(&hit(1, 100, "Erin Walsh", ("2027-03-01", "2027-03-03"), BookingStatus::Held)).unwrap();
        index.upsert(&hit(2, 200, "Maria Santos", ("2027-03-03", "2027-03-05"), BookingStatus::Held)).unwrap();
        index.commit(2, None).unwrap();
        let before = segment_files(dir.path());
        assert!(!before.is_empty());
        index.upsert(&hit(1, 100, "(erased)", ("2027-03-01", "2027-03-03"), BookingStatus::Held)).unwrap();
        index.commit(3, None).unwrap();
        let searcher = index.reader.searcher();
        assert_eq!(searcher.segment_readers().iter().map(|s| s.num_deleted_docs()).sum::<u32>(), 1);
        drop(searcher);
        index.purge().unwrap();
        let searcher = index.reader.searcher();
        assert!(searcher.segment_readers().iter().all(|s| s.num_deleted_docs() == 0));
        let after = segment_files(dir.path());
        assert!(before.iter().all(|f| !after.contains(f)), "{before:?} are still there: {after:?}");
        let text = |t: &str| HistoryQuery { text: Some(t.into()), ..HistoryQuery::default() };
        assert_eq!(found(&index, text("walsh")), Vec::<u128>::new());
        assert_eq!(found(&index, text("maria")), [2]);
        assert_eq!(index.num_docs(), 2);
    }
}
