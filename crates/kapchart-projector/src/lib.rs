//! The projector: every view of kapchart-views fed from the store's global
//! feed, durably and idempotently.
//!
//! Each view has an active **generation** with a **cursor** into the feed.
//! A batch of feed events is applied in one transaction that also moves the
//! cursor, guarded by the cursor it started from: rows and cursor commit
//! together or not at all, two projectors never apply one batch twice, and
//! a crash at any point leaves a view exactly as current as its cursor says
//! — the next [`Projector::catch_up`] continues from there. Applying is
//! idempotent besides (a client's state ignores a sequence it has seen).
//!
//! Fold states are not stored. When a batch touches a client, its state is
//! rebuilt from the client's own earlier events (one read by primary key,
//! about fifty events at most), the batch applied, and only the rows that
//! changed are written. A rebuild folds the whole feed in memory and
//! writes the rows in bulk (`COPY` on PostgreSQL).
//!
//! [`Projector::rebuild`] builds new generations from the first event
//! beside the active ones, catches them up and switches in one
//! transaction, so reports keep working during a rebuild.

mod practice;
mod sql;
mod timeline;

pub use practice::ProjectedPractice;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use kapchart_domain::ClientEvent;
use kapchart_store::{CLIENT_RECORD, Cursor, Database, StoreError, upcast};
use kapchart_views::{
    DaySpan, EventMeta, Period, ReportKind, Row, RowData, RowText, STATE_FORMAT, ViewName,
    ViewState,
};
use tokio::sync::Notify;

use crate::sql::{Cell, Col, Param, Tx, values_list};
use crate::timeline::Timeline;

/// Why projecting failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event in the feed cannot be read: the views stop before it (they
    /// are behind, visibly, rather than wrong). `kapchart verify` tells why.
    #[error("the event at feed position {position} cannot be projected: {reason}")]
    Unreadable {
        /// Feed position.
        position: i64,
        /// Why (names the column, never its content).
        reason: String,
    },
    /// A thread of the rebuild stopped unexpectedly.
    #[error("a rebuild worker stopped unexpectedly; nothing was switched")]
    Worker,
    /// A stored view state cannot be read back.
    #[error(
        "the stored {view} state of a client cannot be read; run `kapchart rebuild --view {view}`"
    )]
    BadState {
        /// The view.
        view: &'static str,
    },
}

/// One generation of one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// The view.
    pub view: ViewName,
    /// Its number (increasing per view).
    pub generation: i64,
    /// `building`, `active` or `retired`.
    pub status: String,
    /// The last feed event applied.
    pub cursor: Cursor,
    /// How many feed events it has applied.
    pub events: i64,
    /// The format of its rows ([`kapchart_views::STATE_FORMAT`] of the
    /// version that built it).
    pub format: i64,
}

/// What [`Projector::rebuild`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// The views rebuilt, each with its new generation.
    pub generations: Vec<(ViewName, i64)>,
    /// Feed events read.
    pub events: u64,
    /// Rows written.
    pub rows: u64,
}

/// A feed event decoded for the views.
#[derive(Debug, Clone)]
struct Decoded {
    event: ClientEvent,
    meta: EventMeta,
}

/// Feeds the views.
#[derive(Debug, Clone)]
pub struct Projector {
    db: Database,
    views: Vec<ViewName>,
    batch: i64,
    bulk_threshold: i64,
    wake: Arc<Notify>,
}

const GENERATION_COLUMNS: &str =
    "view, generation, status, cursor_txid, cursor_position, events, format";
const GENERATION_COLS: [Col; 7] = [
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
];

impl Projector {
    /// A projector of every view over `db`.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            views: ViewName::ALL.to_vec(),
            batch: 1000,
            bulk_threshold: 20_000,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Feed events read per transaction (default 1,000).
    #[must_use]
    pub fn with_batch(mut self, batch: i64) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// The same database and waker, catching up only `views` (at least
    /// one; an empty list keeps every view).
    #[must_use]
    pub fn only(mut self, views: &[ViewName]) -> Self {
        if !views.is_empty() {
            self.views = views.to_vec();
        }
        self
    }

    /// How many waiting events make [`Projector::catch_up`] build a view
    /// that has never applied one in bulk (default 20,000).
    #[must_use]
    pub fn with_bulk_threshold(mut self, events: i64) -> Self {
        self.bulk_threshold = events.max(1);
        self
    }

    /// A handle that wakes [`Projector::run`] at once (call it after a
    /// command commits).
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Applies every feed event not yet in the views, view by view, and
    /// returns how many (event, view) applications it made.
    ///
    /// # Errors
    /// [`ProjectorError`]; what was applied before the error stays applied.
    pub async fn catch_up(&self) -> Result<u64, ProjectorError> {
        let mut applied = 0;
        // A view that has never applied an event, over a store that already
        // holds many (a new view, or an upgrade), is built in bulk: much
        // faster than batch after batch.
        //
        // A view whose rows an older version wrote (another format) is
        // rebuilt beside them: reads keep the old rows until the switch.
        let mut fresh = Vec::new();
        for view in &self.views {
            let generation = self.active(*view).await?;
            if generation.format != i64::from(STATE_FORMAT) {
                tracing::info!(
                    view = view.as_str(),
                    from = generation.format,
                    to = STATE_FORMAT,
                    "the view's rows are of an older format: rebuilding it"
                );
                fresh.push(*view);
            } else if generation.events == 0
                && generation.cursor == Cursor::START
                && self.lag(&generation).await? >= self.bulk_threshold
            {
                fresh.push(*view);
            }
        }
        if !fresh.is_empty() {
            let report = self.rebuild(&fresh, &|_| {}).await?;
            applied += report.events * fresh.len() as u64;
        }
        for view in &self.views {
            loop {
                let generation = self.active(*view).await?;
                match self.step(&generation).await? {
                    Step::Applied(n) => applied += n,
                    Step::Raced => {}
                    Step::CaughtUp => break,
                }
            }
        }
        Ok(applied)
    }

    /// Committed events that `generation` has not applied yet. After a
    /// catch-up this is 0, except on PostgreSQL while a transaction that
    /// began before those events is still open anywhere in the cluster: the
    /// feed holds them back until it ends, so that none is ever skipped.
    ///
    /// # Errors
    /// [`ProjectorError::Store`].
    pub async fn lag(&self, generation: &Generation) -> Result<i64, ProjectorError> {
        let (sql, params): (&str, Vec<Param>) = match &self.db {
            Database::Postgres(_) => (
                "SELECT count(*) FROM events WHERE (txid, position) > ($1::text::xid8, $2)",
                vec![
                    Param::Text(generation.cursor.txid.to_string()),
                    generation.cursor.position.into(),
                ],
            ),
            Database::Sqlite(_) => (
                "SELECT count(*) FROM events WHERE position > $1",
                vec![generation.cursor.position.into()],
            ),
        };
        let rows = sql::fetch(&self.db, sql, &params, &[Col::Int]).await?;
        Ok(rows.first().map_or(0, |r| r[0].int()))
    }

    /// Catches up, and waits up to `patience` for events the feed still
    /// holds back (see [`Projector::lag`]). Returns the largest number of
    /// committed events a view still lacks: 0 when every view is current.
    ///
    /// # Errors
    /// [`ProjectorError`].
    pub async fn catch_up_fully(&self, patience: Duration) -> Result<i64, ProjectorError> {
        // The common case, a read with nothing new: two queries, whatever
        // the number of views.
        if self.is_current().await? {
            return Ok(0);
        }
        let started = tokio::time::Instant::now();
        loop {
            self.catch_up().await?;
            let mut behind = 0;
            for view in &self.views {
                let generation = self.active(*view).await?;
                behind = behind.max(self.lag(&generation).await?);
            }
            if behind == 0 || started.elapsed() >= patience {
                return Ok(behind);
            }
            // Waiting for another session's transaction to end: nothing to
            // be woken by, so poll.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// True when every view has an active generation of the current
    /// format whose cursor is the feed's last event (in feed order): no
    /// event, committed and visible, is left to apply. The feed never moves
    /// a cursor past an event it has not applied, so a cursor at the last
    /// event has applied every one before it. Two queries: the views'
    /// active generations, and the last event.
    async fn is_current(&self) -> Result<bool, ProjectorError> {
        let mut params: Vec<Param> = Vec::with_capacity(self.views.len());
        let placeholders = in_list(&mut params, self.views.iter().map(|v| v.as_str()));
        let rows = sql::fetch(
            &self.db,
            &format!(
                "SELECT {GENERATION_COLUMNS} FROM view_generations \
                 WHERE status = 'active' AND view IN ({placeholders})"
            ),
            &params,
            &GENERATION_COLS,
        )
        .await?;
        let mut generations = Vec::with_capacity(rows.len());
        for r in &rows {
            if let Some(g) = generation_of(r)? {
                generations.push(g);
            }
        }
        if generations.len() != self.views.len()
            || generations
                .iter()
                .any(|g| g.format != i64::from(STATE_FORMAT))
        {
            return Ok(false);
        }
        let (sql, cols): (&str, &[Col]) = match &self.db {
            Database::Postgres(_) => (FEED_HEAD_PG, &[Col::OptText, Col::Int]),
            Database::Sqlite(_) => (
                "SELECT NULL, position FROM events ORDER BY position DESC LIMIT 1",
                &[Col::OptText, Col::Int],
            ),
        };
        let last = sql::fetch(&self.db, sql, &[], cols).await?;
        let head = match last.first() {
            None => Cursor::START,
            Some(r) => Cursor {
                txid: match r[0].opt_text() {
                    Some(t) => t.parse().map_err(|_| ProjectorError::Unreadable {
                        position: r[1].int(),
                        reason: "unreadable txid".into(),
                    })?,
                    None => 0,
                },
                position: r[1].int(),
            },
        };
        Ok(generations.iter().all(|g| g.cursor == head))
    }

    /// Keeps the views current until `shutdown` resolves: catches up, then
    /// waits for [`Projector::waker`] or `poll` (events written by other
    /// processes), and again. An error is logged and retried after `poll`.
    pub async fn run(&self, poll: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.catch_up().await {
                tracing::error!(error = %e, "projector: catch-up failed; retrying");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// The active generation of `view`, created (empty, at the feed's
    /// start) if the view has none.
    ///
    /// # Errors
    /// [`ProjectorError::Store`].
    pub async fn active(&self, view: ViewName) -> Result<Generation, ProjectorError> {
        if let Some(g) = self.generation_where(view, "status = 'active'").await? {
            return Ok(g);
        }
        // A second projector doing the same waits on the key, then
        // inserts nothing: one of them creates the partition.
        let mut tx = Tx::begin(&self.db).await?;
        let inserted = tx
            .execute(
                "INSERT INTO view_generations \
                 (view, generation, status, created_at, activated_at, format) \
                 SELECT $1, 1, 'active', $2, $2, $3 \
                 WHERE NOT EXISTS (SELECT 1 FROM view_generations WHERE view = $1) \
                 ON CONFLICT DO NOTHING",
                &[view.as_str().into(), now().into(), current_format()],
            )
            .await?;
        if inserted == 1 && matches!(tx, Tx::Pg(_)) {
            tx.execute(
                &format!(
                    "CREATE TABLE {} PARTITION OF view_rows_{} FOR VALUES IN (1)",
                    partition(view, 1),
                    view.as_str()
                ),
                &[],
            )
            .await?;
        }
        tx.commit().await?;
        self.generation_where(view, "status = 'active'")
            .await?
            .ok_or_else(|| {
                ProjectorError::Store(StoreError::Query(format!(
                    "view {} has generations but none active",
                    view.as_str()
                )))
            })
    }

    /// Every generation of every view (for status reports).
    ///
    /// # Errors
    /// [`ProjectorError::Store`].
    pub async fn generations(&self) -> Result<Vec<Generation>, ProjectorError> {
        let rows = sql::fetch(
            &self.db,
            &format!("SELECT {GENERATION_COLUMNS} FROM view_generations ORDER BY view, generation"),
            &[],
            &GENERATION_COLS,
        )
        .await?;
        rows.iter()
            .filter_map(|r| generation_of(r).transpose())
            .collect()
    }

    async fn generation_where(
        &self,
        view: ViewName,
        condition: &str,
    ) -> Result<Option<Generation>, ProjectorError> {
        let rows = sql::fetch(
            &self.db,
            &format!(
                "SELECT {GENERATION_COLUMNS} FROM view_generations WHERE view = $1 AND {condition} \
                 ORDER BY generation DESC LIMIT 1"
            ),
            &[view.as_str().into()],
            &GENERATION_COLS,
        )
        .await?;
        Ok(match rows.first() {
            Some(r) => generation_of(r)?,
            None => None,
        })
    }

    /// One batch for one generation.
    async fn step(&self, generation: &Generation) -> Result<Step, ProjectorError> {
        let (rows, next) = fetch_page(&self.db, &generation.cursor, self.batch).await?;
        if rows.is_empty() {
            return Ok(Step::CaughtUp);
        }
        let read = rows.len();
        let timeline = Timeline::load(&self.db).await?;
        let decoded = decode_rows(&rows, &timeline)?;
        let mut tx = Tx::begin(&self.db).await?;
        if !advance(&mut tx, generation, &next, read).await? {
            // Another projector moved this generation (or a rebuild
            // switched it) since we read it: start again from its state.
            drop(tx);
            return Ok(Step::Raced);
        }
        let applied = apply_incremental(&mut tx, generation, &decoded, &timeline).await?;
        tx.commit().await?;
        Ok(Step::Applied(applied))
    }

    /// The rows of `view` of the given kinds (all clients, or one), from
    /// the active generation, after catching up.
    ///
    /// # Errors
    /// [`ProjectorError`].
    pub async fn rows(
        &self,
        view: ViewName,
        kinds: &[&str],
        client: Option<&str>,
    ) -> Result<Vec<(String, Row)>, ProjectorError> {
        let generation = self.active(view).await?;
        let mut out = Vec::new();
        for kind in kinds {
            out.extend(
                self.rows_of_generation(view, generation.generation, kind, client, DaySpan::ALL)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The rows of kind `T::KIND` of `view`, of the given clients (all
    /// clients when `clients` is `None`), from the active generation as it
    /// stands (no catch-up), each row's data parsed straight from its
    /// stored text into `T`: the read of a list that shows many clients.
    ///
    /// # Errors
    /// [`ProjectorError::BadState`] for a row that is not a `T`; a store
    /// error otherwise.
    pub async fn data_of_clients<T: RowData>(
        &self,
        view: ViewName,
        clients: Option<&[&str]>,
    ) -> Result<Vec<(String, T)>, ProjectorError> {
        if clients.is_some_and(<[&str]>::is_empty) {
            return Ok(Vec::new());
        }
        let generation = self.active(view).await?;
        let mut params: Vec<Param> = vec![
            view.as_str().into(),
            generation.generation.into(),
            T::KIND.into(),
        ];
        let mut sql = "SELECT client_id, data FROM view_rows \
                       WHERE view = $1 AND generation = $2 AND kind = $3"
            .to_owned();
        if let Some(clients) = clients {
            let placeholders = in_list(&mut params, clients.iter().copied());
            sql.push_str(&format!(" AND client_id IN ({placeholders})"));
        }
        sql.push_str(" ORDER BY client_id, row_key");
        let rows = sql::fetch(&self.db, &sql, &params, &[Col::Text, Col::Text]).await?;
        rows.iter()
            .map(|r| {
                let data =
                    serde_json::from_str(r[1].text()).map_err(|_| ProjectorError::BadState {
                        view: view.as_str(),
                    })?;
                Ok((r[0].text().to_owned(), data))
            })
            .collect()
    }

    /// The rows of one kind of `view` (active generation; one client's, or
    /// every client's when `client` is `None`) filed under a day in `days`,
    /// as they stand: no catch-up. A bounded end reads through the
    /// `(view, generation, kind, day)` index, so a past period's rows cost
    /// the same however much is recorded after them.
    ///
    /// # Errors
    /// [`ProjectorError`].
    pub async fn rows_within(
        &self,
        view: ViewName,
        kind: &str,
        client: Option<&str>,
        days: DaySpan,
    ) -> Result<Vec<(String, Row)>, ProjectorError> {
        let generation = self.active(view).await?;
        self.rows_of_generation(view, generation.generation, kind, client, days)
            .await
    }

    /// The rows of one kind of one generation of `view` (one client's or
    /// all) filed under a day in `days`: the one query of [`rows`](Self::rows)
    /// and [`rows_within`](Self::rows_within) ([`rows_within_sql`]).
    async fn rows_of_generation(
        &self,
        view: ViewName,
        generation: i64,
        kind: &str,
        client: Option<&str>,
        days: DaySpan,
    ) -> Result<Vec<(String, Row)>, ProjectorError> {
        let mut params: Vec<Param> = vec![view.as_str().into(), generation.into(), kind.into()];
        // Days are stored as YYYY-MM-DD text, which sorts as the dates do.
        params.extend(
            [days.first, days.last]
                .into_iter()
                .flatten()
                .map(|d| d.to_string().into()),
        );
        params.extend(client.map(Param::from));
        let rows = sql::fetch(
            &self.db,
            &rows_within_sql(days, client.is_some()),
            &params,
            &[Col::Text, Col::Text, Col::Text, Col::OptText, Col::Text],
        )
        .await?;
        rows.iter()
            .map(|r| Ok((r[0].text().to_owned(), row_of(view, &r[1..])?)))
            .collect()
    }

    /// The rows the report `kind` of `period` is built from (one client's,
    /// or every client's when `client` is `None`): each source's rows on
    /// the days the report reads ([`ReportKind::days_read`]), as they
    /// stand (no catch-up). A past period's report costs the same however
    /// much is recorded after it.
    ///
    /// # Errors
    /// [`ProjectorError`].
    pub async fn report_rows(
        &self,
        kind: ReportKind,
        period: Period,
        client: Option<&str>,
    ) -> Result<Vec<(String, Row)>, ProjectorError> {
        let mut rows = Vec::new();
        for (view, row_kind) in kind.sources() {
            rows.extend(
                self.rows_within(*view, row_kind, client, kind.days_read(row_kind, period))
                    .await?,
            );
        }
        Ok(rows)
    }

    /// A client's chart as it stood at `at`: only events recorded by then,
    /// replayed from the event store (not from the view tables), so it is
    /// exactly what had been recorded.
    ///
    /// # Errors
    /// [`ProjectorError`].
    pub async fn chart_as_of(
        &self,
        client: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Row>, ProjectorError> {
        let timeline = Timeline::load(&self.db).await?;
        let decoded = client_events(&self.db, client, None, &timeline).await?;
        Ok(kapchart_views::chart_as_of(
            client,
            decoded.iter().map(|d| (&d.meta, &d.event)),
            at,
        ))
    }

    /// Rebuilds `views` from the first event, beside the active
    /// generations, and switches to the new ones when they are caught up.
    /// Reports read the old generations until the switch. `progress` is
    /// called with the feed events read so far.
    ///
    /// # Errors
    /// [`ProjectorError`]; the new generations are then left `building`
    /// and removed by the next rebuild.
    pub async fn rebuild(
        &self,
        views: &[ViewName],
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<RebuildReport, ProjectorError> {
        // Leftovers of an interrupted rebuild.
        for view in views {
            self.drop_generations(*view, "status <> 'active'").await?;
        }
        let mut building = Vec::new();
        for view in views {
            let active = self.active(*view).await?;
            let number = active.generation + 1;
            sql::execute(
                &self.db,
                "INSERT INTO view_generations (view, generation, status, created_at, format) \
                 VALUES ($1, $2, 'building', $3, $4)",
                &[
                    view.as_str().into(),
                    number.into(),
                    now().into(),
                    current_format(),
                ],
            )
            .await?;
            building.push(number);
        }

        // One pass over the feed; each view folds in memory on its own
        // thread, while the next page is read and decoded.
        let timer = std::time::Instant::now();
        let mut senders = Vec::new();
        let mut folders = Vec::new();
        for view in views {
            let (sender, mut pages) = tokio::sync::mpsc::channel::<Arc<Vec<Decoded>>>(2);
            senders.push(sender);
            let view = *view;
            folders.push(std::thread::spawn(move || {
                let mut states: BTreeMap<String, ViewState> = BTreeMap::new();
                while let Some(page) = pages.blocking_recv() {
                    for d in page.iter() {
                        states
                            .entry(d.meta.client_id.clone())
                            .or_insert_with(|| view.new_state(&d.meta.client_id))
                            .apply(&d.event, &d.meta);
                    }
                }
                states
            }));
        }
        let mut cursor = Cursor::START;
        let mut events = 0_u64;
        let mut decoding: Option<tokio::task::JoinHandle<Result<Vec<Decoded>, ProjectorError>>> =
            None;
        loop {
            let (rows, next) = fetch_page(&self.db, &cursor, 10_000).await?;
            if let Some(decoded) = decoding.take() {
                let page = Arc::new(decoded.await.map_err(worker_failed)??);
                for sender in &senders {
                    sender
                        .send(Arc::clone(&page))
                        .await
                        .map_err(worker_failed)?;
                }
            }
            if rows.is_empty() {
                break;
            }
            events += rows.len() as u64;
            cursor = next;
            progress(events);
            // The practice's record as it stands when the page is read: it
            // holds every zone and policy the page's events were decided in.
            let timeline = Timeline::load(&self.db).await?;
            decoding = Some(tokio::task::spawn_blocking(move || {
                decode_rows(&rows, &timeline)
            }));
        }
        drop(senders);
        let states: Vec<BTreeMap<String, ViewState>> = tokio::task::spawn_blocking(move || {
            folders
                .into_iter()
                .map(|f| f.join().map_err(|_| ProjectorError::Worker))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(worker_failed)??;
        tracing::info!(
            events,
            seconds = timer.elapsed().as_secs_f64(),
            "rebuild: feed folded"
        );

        // Every view's rows written at once, each view on its own
        // connection and transaction.
        let timer = std::time::Instant::now();
        let generations: Vec<Generation> = views
            .iter()
            .zip(&building)
            .map(|(view, number)| Generation {
                view: *view,
                generation: *number,
                status: "building".to_owned(),
                cursor: Cursor::START,
                events: 0,
                format: i64::from(STATE_FORMAT),
            })
            .collect();
        let written = futures_util::future::try_join_all(
            generations
                .iter()
                .zip(states)
                .map(|(g, states)| write_bulk(&self.db, g, states)),
        )
        .await?;
        let rows: u64 = written.iter().sum();
        tracing::info!(
            rows,
            seconds = timer.elapsed().as_secs_f64(),
            "rebuild: rows written"
        );
        for generation in &generations {
            let mut tx = Tx::begin(&self.db).await?;
            advance(
                &mut tx,
                generation,
                &cursor,
                usize::try_from(events).unwrap_or(0),
            )
            .await?;
            tx.commit().await?;
        }

        // Catch the new generations up with what arrived meanwhile, then
        // switch each in one transaction with a last batch.
        let mut generations = Vec::new();
        for (k, view) in views.iter().enumerate() {
            loop {
                let Some(g) = self
                    .generation_where(*view, &format!("generation = {}", building[k]))
                    .await?
                else {
                    return Err(ProjectorError::Store(StoreError::Query(
                        "the generation being built was removed by another rebuild".into(),
                    )));
                };
                match self.step(&g).await? {
                    Step::Applied(_) | Step::Raced => continue,
                    Step::CaughtUp => {}
                }
                let mut tx = Tx::begin(&self.db).await?;
                tx.execute(
                    "UPDATE view_generations SET status = 'retired' \
                     WHERE view = $1 AND status = 'active'",
                    &[view.as_str().into()],
                )
                .await?;
                tx.execute(
                    "UPDATE view_generations SET status = 'active', activated_at = $3 \
                     WHERE view = $1 AND generation = $2",
                    &[view.as_str().into(), building[k].into(), now().into()],
                )
                .await?;
                tx.commit().await?;
                generations.push((*view, building[k]));
                break;
            }
            let timer = std::time::Instant::now();
            self.drop_generations(*view, "status = 'retired'").await?;
            tracing::info!(
                view = view.as_str(),
                seconds = timer.elapsed().as_secs_f64(),
                "rebuild: switched; old generation dropped"
            );
        }
        Ok(RebuildReport {
            generations,
            events,
            rows,
        })
    }

    async fn drop_generations(
        &self,
        view: ViewName,
        condition: &str,
    ) -> Result<(), ProjectorError> {
        let old = sql::fetch(
            &self.db,
            &format!("SELECT generation FROM view_generations WHERE view = $1 AND {condition}"),
            &[view.as_str().into()],
            &[Col::Int],
        )
        .await?;
        for g in old {
            let generation = g[0].int();
            let params = [Param::from(view.as_str()), Param::Int(generation)];
            let mut tx = Tx::begin(&self.db).await?;
            if matches!(tx, Tx::Pg(_)) {
                // A whole table dropped, not a million rows deleted.
                tx.execute(
                    &format!("DROP TABLE IF EXISTS {}", partition(view, generation)),
                    &[],
                )
                .await?;
            } else {
                tx.execute(
                    "DELETE FROM view_rows WHERE view = $1 AND generation = $2",
                    &params,
                )
                .await?;
            }
            tx.execute(
                "DELETE FROM view_generations WHERE view = $1 AND generation = $2",
                &params,
            )
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

enum Step {
    Applied(u64),
    Raced,
    CaughtUp,
}

/// On PostgreSQL, the table holding one generation of a view: a partition
/// of `view_rows_<view>` (migration 0005).
fn partition(view: ViewName, generation: i64) -> String {
    format!("view_rows_{}_{generation}", view.as_str())
}

/// Appends `values` to `params` and returns their placeholders, `$n, ...`,
/// for an `IN (...)` list.
fn in_list<'a>(params: &mut Vec<Param>, values: impl Iterator<Item = &'a str>) -> String {
    let mut placeholders = Vec::new();
    for value in values {
        params.push(value.into());
        placeholders.push(format!("${}", params.len()));
    }
    placeholders.join(", ")
}

/// [`STATE_FORMAT`] as a parameter.
fn current_format() -> Param {
    Param::Int(i64::from(STATE_FORMAT))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn generation_of(r: &[Cell]) -> Result<Option<Generation>, ProjectorError> {
    let Ok(view) = r[0].text().parse::<ViewName>() else {
        // A view this version does not know (written by a newer one).
        return Ok(None);
    };
    Ok(Some(Generation {
        view,
        generation: r[1].int(),
        status: r[2].text().to_owned(),
        cursor: Cursor {
            txid: u64::try_from(r[3].int()).unwrap_or(0),
            position: r[4].int(),
        },
        events: r[5].int(),
        format: r[6].int(),
    }))
}

fn row_of(view: ViewName, r: &[Cell]) -> Result<Row, ProjectorError> {
    let bad = || ProjectorError::BadState {
        view: view.as_str(),
    };
    Ok(Row {
        kind: r[0].text().to_owned(),
        key: r[1].text().to_owned(),
        day: match r[2].opt_text() {
            Some(d) => Some(d.parse().map_err(|_| bad())?),
            None => None,
        },
        data: serde_json::from_str(r[3].text()).map_err(|_| bad())?,
    })
}

/// The query [`Projector::rows_within`] runs: `$1` view, `$2`
/// generation, `$3` kind, then the bounded ends of `days` (first, last) and
/// the client, when given, numbered in that order. Public for the test
/// that asks PostgreSQL for its plan.
pub fn rows_within_sql(days: DaySpan, client: bool) -> String {
    let mut sql = "SELECT client_id, kind, row_key, day, data FROM view_rows \
                   WHERE view = $1 AND generation = $2 AND kind = $3"
        .to_owned();
    let mut n = 3;
    for (bound, op) in [(days.first, ">="), (days.last, "<=")] {
        if bound.is_some() {
            n += 1;
            sql.push_str(&format!(" AND day {op} ${n}"));
        }
    }
    if client {
        sql.push_str(&format!(" AND client_id = ${}", n + 1));
    }
    sql.push_str(" ORDER BY client_id, row_key");
    sql
}

/// The feed's last event on PostgreSQL, read before every read's catch-up
/// (`Projector::is_current`): one step down the `events_feed` index.
/// `events.txid` is qualified: a bare `txid` would name the output column,
/// the text, and sort every event by it (a scan of the whole table per
/// read, found by the soak benchmark; `tests/feed_head_plan.rs`).
pub const FEED_HEAD_PG: &str = "SELECT txid::text, position FROM events \
                                ORDER BY events.txid DESC, events.position DESC LIMIT 1";

/// The columns a view needs, in the order [`decode_rows`] reads them.
const PG_COLUMNS: &str = "txid::text, position, aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload::text, metadata->>'recorded_at'";
const SQLITE_COLUMNS: &str = "NULL, position, aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload, metadata ->> 'recorded_at'";
const COLUMN_TYPES: [Col; 9] = [
    Col::OptText,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::OptText,
];

/// Up to `limit` feed events after `cursor` (as the store's feed: never
/// skipping a late commit), not decoded yet, and the cursor after them.
/// Only the columns a view needs are read (see [`decode_rows`]).
async fn fetch_page(
    db: &Database,
    cursor: &Cursor,
    limit: i64,
) -> Result<(Vec<Vec<Cell>>, Cursor), ProjectorError> {
    let rows = match db {
        Database::Postgres(_) => {
            sql::fetch(
                db,
                &format!(
                    "SELECT {PG_COLUMNS} FROM events \
                     WHERE (txid, position) > ($1::text::xid8, $2) \
                       AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
                     ORDER BY events.txid, events.position LIMIT $3"
                ),
                &[
                    Param::Text(cursor.txid.to_string()),
                    cursor.position.into(),
                    limit.into(),
                ],
                &COLUMN_TYPES,
            )
            .await?
        }
        Database::Sqlite(_) => {
            sql::fetch(
                db,
                &format!(
                    "SELECT {SQLITE_COLUMNS} FROM events WHERE position > $1 \
                     ORDER BY position LIMIT $2"
                ),
                &[cursor.position.into(), limit.into()],
                &COLUMN_TYPES,
            )
            .await?
        }
    };
    let mut next = cursor.clone();
    if let Some(last) = rows.last() {
        next = Cursor {
            txid: match last[0].opt_text() {
                Some(t) => t.parse().map_err(|_| ProjectorError::Unreadable {
                    position: last[1].int(),
                    reason: "unreadable txid".into(),
                })?,
                None => 0,
            },
            position: last[1].int(),
        };
    }
    Ok((rows, next))
}

/// A client's events in sequence order, those before `before` only when
/// given: what its fold state is rebuilt from.
async fn client_events(
    db: &Database,
    client: &str,
    before: Option<u64>,
    timeline: &Timeline,
) -> Result<Vec<Decoded>, ProjectorError> {
    let columns = match db {
        Database::Postgres(_) => PG_COLUMNS,
        Database::Sqlite(_) => SQLITE_COLUMNS,
    };
    let (sql, params) = client_events_query(columns, client, before);
    let rows = sql::fetch(db, &sql, &params, &COLUMN_TYPES).await?;
    decode_rows(&rows, timeline)
}

/// The query of [`client_events`] and its parameters.
fn client_events_query(columns: &str, client: &str, before: Option<u64>) -> (String, [Param; 3]) {
    let before = before.map_or(i64::MAX, |s| i64::try_from(s).unwrap_or(i64::MAX));
    (
        format!(
            "SELECT {columns} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
             AND sequence < $3 ORDER BY sequence"
        ),
        [CLIENT_RECORD.into(), client.into(), before.into()],
    )
}

/// The client events of rows read with [`COLUMN_TYPES`], each placed in
/// the practice's zone and policy it was decided in (`timeline`); other
/// aggregates are skipped.
fn decode_rows(rows: &[Vec<Cell>], timeline: &Timeline) -> Result<Vec<Decoded>, ProjectorError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let position = r[1].int();
        let aggregate_type = r[2].text();
        if aggregate_type != CLIENT_RECORD {
            continue;
        }
        let unreadable = |reason: upcast::UpcastError| ProjectorError::Unreadable {
            position,
            reason: reason.to_string(),
        };
        let event =
            upcast::client_event_from_text(aggregate_type, r[5].text(), r[6].text(), r[7].text())
                .map_err(unreadable)?;
        let recorded_at = upcast::parse_recorded_at(r[8].opt_text()).map_err(unreadable)?;
        let sequence = u64::try_from(r[4].int()).map_err(|_| ProjectorError::Unreadable {
            position,
            reason: "sequence is negative".into(),
        })?;
        let meta = timeline.place(
            EventMeta::new(r[3].text(), sequence, position, recorded_at),
            &event,
        );
        out.push(Decoded { event, meta });
    }
    Ok(out)
}

/// Moves `generation`'s cursor from where it was read to `next`, if no one
/// else has: the guard that makes each batch apply once.
async fn advance(
    tx: &mut Tx,
    generation: &Generation,
    next: &Cursor,
    events: usize,
) -> Result<bool, ProjectorError> {
    let moved = tx
        .execute(
            "UPDATE view_generations SET cursor_txid = $1, cursor_position = $2, \
             events = events + $3 \
             WHERE view = $4 AND generation = $5 AND status = $6 \
             AND cursor_txid = $7 AND cursor_position = $8",
            &[
                txid_param(next.txid),
                next.position.into(),
                i64::try_from(events).unwrap_or(i64::MAX).into(),
                generation.view.as_str().into(),
                generation.generation.into(),
                generation.status.clone().into(),
                txid_param(generation.cursor.txid),
                generation.cursor.position.into(),
            ],
        )
        .await?;
    Ok(moved == 1)
}

fn txid_param(txid: u64) -> Param {
    Param::Int(i64::try_from(txid).unwrap_or(i64::MAX))
}

/// Applies decoded events to one generation inside `tx`: per client, load
/// its state, apply, and write only the rows that changed.
async fn apply_incremental(
    tx: &mut Tx,
    generation: &Generation,
    decoded: &[Decoded],
    timeline: &Timeline,
) -> Result<u64, ProjectorError> {
    let view = generation.view;
    let mut by_client: BTreeMap<&str, Vec<&Decoded>> = BTreeMap::new();
    for d in decoded {
        by_client.entry(&d.meta.client_id).or_default().push(d);
    }
    let mut applied = 0;
    for (client, events) in by_client {
        let base = [
            Param::from(view.as_str()),
            Param::Int(generation.generation),
            Param::from(client),
        ];
        let first = events.first().map_or(0, |d| d.meta.sequence);
        let mut state = view.new_state(client);
        for d in tx_client_events(tx, client, first, timeline).await? {
            state.apply(&d.event, &d.meta);
        }
        let before = keyed(state.rows_text());
        for d in &events {
            state.apply(&d.event, &d.meta);
            applied += 1;
        }
        let after = keyed(state.rows_text());
        for (key, _) in before.iter().filter(|(k, _)| !after.contains_key(*k)) {
            let mut params = base.to_vec();
            params.push(key.0.clone().into());
            params.push(key.1.clone().into());
            tx.execute(
                "DELETE FROM view_rows WHERE view = $1 AND generation = $2 AND client_id = $3 \
                 AND kind = $4 AND row_key = $5",
                &params,
            )
            .await?;
        }
        for (key, row) in &after {
            if before.get(key) == Some(row) {
                continue;
            }
            let mut params = base.to_vec();
            params.extend(row_params(row));
            tx.execute(
                "INSERT INTO view_rows (view, generation, client_id, kind, row_key, day, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (view, generation, kind, client_id, row_key) \
                 DO UPDATE SET day = excluded.day, data = excluded.data",
                &params,
            )
            .await?;
        }
    }
    Ok(applied)
}

fn keyed(rows: Vec<RowText>) -> HashMap<(String, String), RowText> {
    rows.into_iter()
        .map(|r| ((r.kind.clone(), r.key.clone()), r))
        .collect()
}

fn row_params(row: &RowText) -> [Param; 4] {
    [
        row.kind.clone().into(),
        row.key.clone().into(),
        Param::OptText(row.day.map(|d| d.to_string())),
        Param::Text(row.data.clone()),
    ]
}

/// [`client_events`] inside a transaction.
async fn tx_client_events(
    tx: &mut Tx,
    client: &str,
    before: u64,
    timeline: &Timeline,
) -> Result<Vec<Decoded>, ProjectorError> {
    let columns = match tx {
        Tx::Pg(_) => PG_COLUMNS,
        Tx::Sqlite(_) => SQLITE_COLUMNS,
    };
    let (sql, params) = client_events_query(columns, client, Some(before));
    let rows = tx.fetch(&sql, &params, &COLUMN_TYPES).await?;
    decode_rows(&rows, timeline)
}

/// Writes every client's rows of a generation being built, in one
/// transaction: on PostgreSQL with `COPY`, the text made on a thread of its
/// own while the connection sends it; on SQLite with multi-row INSERTs.
async fn write_bulk(
    db: &Database,
    generation: &Generation,
    states: BTreeMap<String, ViewState>,
) -> Result<u64, ProjectorError> {
    let view = generation.view.as_str();
    let mut written = 0_u64;
    let mut tx = Tx::begin(db).await?;
    match &mut tx {
        Tx::Pg(pg) => {
            let prefix = format!("{}\t{}\t", copy_text(view), generation.generation);
            let (chunks, mut received) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
            let serializer = std::thread::spawn(move || {
                let mut written = 0_u64;
                let mut buffer: Vec<u8> = Vec::with_capacity(1 << 20);
                for (client, state) in &states {
                    let client = copy_text(client);
                    for row in state.rows_text() {
                        copy_line(&mut buffer, &prefix, &client, &row);
                        written += 1;
                    }
                    if buffer.len() >= 1 << 20
                        && chunks
                            .blocking_send(std::mem::replace(
                                &mut buffer,
                                Vec::with_capacity(1 << 20),
                            ))
                            .is_err()
                    {
                        return written;
                    }
                }
                if !buffer.is_empty() {
                    let _ = chunks.blocking_send(buffer);
                }
                written
            });
            // The generation's own table, created in this transaction: the
            // rows go in with no index to maintain (and frozen: nothing
            // else can see them before the commit), then its key and day
            // index are built in one sort each and it joins the view as a
            // partition.
            let table = partition(generation.view, generation.generation);
            sqlx::query(&format!(
                "CREATE TABLE {table} (LIKE view_rows INCLUDING DEFAULTS)"
            ))
            .execute(&mut **pg)
            .await
            .map_err(copy_error)?;
            let mut copy = pg
                .copy_in_raw(&format!(
                    "COPY {table} (view, generation, client_id, kind, row_key, day, data) \
                     FROM STDIN WITH (FREEZE)"
                ))
                .await
                .map_err(copy_error)?;
            while let Some(chunk) = received.recv().await {
                copy.send(chunk).await.map_err(copy_error)?;
            }
            copy.finish().await.map_err(copy_error)?;
            for statement in [
                format!(
                    "ALTER TABLE {table} ADD PRIMARY KEY (view, generation, kind, client_id, row_key)"
                ),
                // The day index of migration 0011, built here in one pass
                // too; the attach adopts it as the partitioned index's part.
                format!("CREATE INDEX ON {table} (view, generation, kind, day)"),
                format!(
                    "ALTER TABLE view_rows_{view} ATTACH PARTITION {table} FOR VALUES IN ({})",
                    generation.generation
                ),
            ] {
                sqlx::query(&statement)
                    .execute(&mut **pg)
                    .await
                    .map_err(copy_error)?;
            }
            written = tokio::task::spawn_blocking(move || serializer.join())
                .await
                .map_err(worker_failed)?
                .map_err(|_| ProjectorError::Worker)?;
        }
        Tx::Sqlite(_) => {
            const ROWS_PER_INSERT: usize = 500;
            let mut pending: Vec<Param> = Vec::new();
            for (client, state) in &states {
                for row in state.rows_text() {
                    pending.push(view.into());
                    pending.push(generation.generation.into());
                    pending.push(client.clone().into());
                    pending.extend(row_params(&row));
                    written += 1;
                    if pending.len() >= ROWS_PER_INSERT * 7 {
                        insert_rows(&mut tx, &mut pending).await?;
                    }
                }
            }
            insert_rows(&mut tx, &mut pending).await?;
        }
    }
    tx.commit().await?;
    Ok(written)
}

/// One row as a line of `COPY` text.
fn copy_line(buffer: &mut Vec<u8>, prefix: &str, client: &str, row: &RowText) {
    buffer.extend_from_slice(prefix.as_bytes());
    buffer.extend_from_slice(client.as_bytes());
    buffer.push(b'\t');
    buffer.extend_from_slice(copy_text(&row.kind).as_bytes());
    buffer.push(b'\t');
    buffer.extend_from_slice(copy_text(&row.key).as_bytes());
    buffer.push(b'\t');
    match row.day {
        Some(day) => buffer.extend_from_slice(day.to_string().as_bytes()),
        None => buffer.extend_from_slice(b"\\N"),
    }
    buffer.push(b'\t');
    buffer.extend_from_slice(copy_text(&row.data).as_bytes());
    buffer.push(b'\n');
}

fn worker_failed(e: impl std::fmt::Display) -> ProjectorError {
    tracing::error!(error = %e, "rebuild: a worker failed");
    ProjectorError::Worker
}

/// A value in `COPY`'s text format: backslash, tab, newline and carriage
/// return escaped.
fn copy_text(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\\', '\t', '\n', '\r']) {
        let mut out = String::with_capacity(value.len() + 8);
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                other => out.push(other),
            }
        }
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

fn copy_error(e: sqlx::Error) -> ProjectorError {
    ProjectorError::Store(StoreError::query(e))
}

async fn insert_rows(tx: &mut Tx, params: &mut Vec<Param>) -> Result<(), ProjectorError> {
    if params.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO view_rows (view, generation, client_id, kind, row_key, day, data) VALUES {}",
        values_list(params.len() / 7, 7, 0)
    );
    tx.execute(&sql, params).await?;
    params.clear();
    Ok(())
}
