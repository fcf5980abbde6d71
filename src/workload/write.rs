//! Write strategies: how a write reaches the caches, and what happens to other copies.
//!
//! `workload.write_strategy` and `workload.invalidation` resolve into a [`WritePlan`].
//! A write is *accepted* when the client is told it succeeded: at the database's commit,
//! except under `write_back`, where the cache accepts it. Acceptance moves the key's
//! version on (the version the staleness of reads is measured against), and applies the
//! plan to each cache layer, at once or after the layer's `propagation_delay_ms` (a CDN
//! purge, a pub/sub fan-out).
//!
//! | strategy | a write |
//! |---|---|
//! | `cache_aside` (default) | commits at the database; then the caches drop their copies (default `delete_on_write`) |
//! | `write_through` | commits at the database and every cache layer stores the new version; a read's fill never replaces a newer version (read fills are "add if absent or older", as a write-through cache's loader does) |
//! | `write_back` | is accepted by the innermost cache layer (the write-back layer) at once, and every cache layer stores the new version as for `write_through`; the database gets it later: the layer flushes its dirty keys every `flush_interval_s` (default 1 s), or as soon as `flush_batch` (default 1,000) writes are pending, one write query per dirty key (several writes to one key flush as one). A read that reaches the database before the flush reads the older, durable version. A crash of the layer (a fault, see [`crate::scenario::fault`]) loses the accepted, unflushed writes: `lost_writes` |
//! | `write_around` | commits at the database; caches are left alone (default `ttl_only`), copies go stale until they expire |
//!
//! `flush_interval_s` and `flush_batch` are checked whatever the strategy and used only
//! by `write_back` (and `tags` only by `tag_purge`), so one file serves a `--set` or a
//! sweep over the strategy.
//!
//! `invalidation`, for the copies the strategy does not store:
//!
//! | scope | at a layer, when a write to key k reaches it |
//! |---|---|
//! | `ttl_only` | nothing: copies expire in time |
//! | `delete_on_write` | k's copy is deleted |
//! | `versioned_keys` | caches key copies by (k, version), and readers ask for the current version, so k's old copy is never read again: it is *orphaned*, left to age out of the eviction policy while it still takes a slot (wasted capacity, counted as `orphaned`). A read fill of an old version (the cache-aside race) is orphaned at its first lookup instead of being read stale |
//! | `tag_purge` | every key belongs to the tag `key % workload.tags`; every resident key of k's tag is deleted (`purged`): no stale copy survives, at the price of misses on keys that did not change |
//!
//! It owns the specs and the resolved plan; applying a write to the caches is the
//! engine's, and this module knows neither the engine nor the caches.

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;

/// `workload.write_strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteStrategy {
    /// Write the database, then delete the key in the caches.
    #[default]
    CacheAside,
    /// Write the caches and the database together.
    WriteThrough,
    /// Write the caches; flush to the database later, in batches.
    WriteBack,
    /// Write the database only.
    WriteAround,
}

impl WriteStrategy {
    /// Every strategy's name, as the file spells it.
    pub const NAMES: [&'static str; 4] =
        ["cache_aside", "write_through", "write_back", "write_around"];
}

/// `workload.invalidation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invalidation {
    /// Copies live until their TTL.
    TtlOnly,
    /// A write deletes the copies it does not overwrite.
    DeleteOnWrite,
    /// Copies are keyed by version: a write orphans the old ones.
    VersionedKeys,
    /// A write deletes every copy of its key's tag.
    TagPurge,
}

/// `write_back`'s flush schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteBack {
    /// Time between timed flushes.
    pub flush_interval: SimTime,
    /// A flush starts as soon as this many writes are pending.
    pub flush_batch: u32,
}

/// A validated write configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WritePlan {
    /// The strategy.
    pub strategy: WriteStrategy,
    /// The invalidation scope.
    pub invalidation: Invalidation,
    /// `write_back`: the flush schedule.
    pub write_back: Option<WriteBack>,
    /// `tag_purge`: the number of tags; key k has tag `k % tags`.
    pub tags: u32,
}

/// The write keys of the `[workload]` table, as written.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WriteKeys {
    /// `write_strategy`.
    pub strategy: WriteStrategy,
    /// `invalidation`.
    pub invalidation: Option<Invalidation>,
    /// `flush_interval_s`.
    pub flush_interval_s: Option<f64>,
    /// `flush_batch`.
    pub flush_batch: Option<u32>,
    /// `tags`.
    pub tags: Option<u32>,
}

impl WritePlan {
    /// The plan for `strategy`, with its default invalidation unless `invalidation` is set
    /// (and default flushes and one tag where they apply).
    pub fn new(strategy: WriteStrategy, invalidation: Option<Invalidation>) -> Self {
        let default = match strategy {
            WriteStrategy::CacheAside | WriteStrategy::WriteThrough | WriteStrategy::WriteBack => {
                Invalidation::DeleteOnWrite
            }
            WriteStrategy::WriteAround => Invalidation::TtlOnly,
        };
        WritePlan {
            strategy,
            invalidation: invalidation.unwrap_or(default),
            write_back: (strategy == WriteStrategy::WriteBack).then_some(WriteBack {
                flush_interval: SimTime::from_secs_f64(1.0),
                flush_batch: 1000,
            }),
            tags: 1,
        }
    }

    /// Checks the write keys of `[workload]`; `caches` is the number of cache layers.
    /// Errors name the key within `[workload]`.
    pub fn resolve(k: &WriteKeys, caches: usize) -> Result<WritePlan, Invalid> {
        let mut plan = WritePlan::new(k.strategy, k.invalidation);
        let back = k.strategy == WriteStrategy::WriteBack;
        if back && caches == 0 {
            return Err(Invalid::new(
                "write_strategy",
                "is write_back, but the path has no cache layer to write back from",
            ));
        }
        // The write-back tuning is checked whatever the strategy, and applies only to
        // `write_back`: a `--set` or `--grid` over the strategy keeps one file.
        let mut write_back = WriteBack {
            flush_interval: SimTime::from_secs_f64(1.0),
            flush_batch: 1000,
        };
        if let Some(s) = k.flush_interval_s {
            if !(s.is_finite() && s > 0.0) {
                return Err(Invalid::new(
                    "flush_interval_s",
                    format!("is {s}; must be a finite number of seconds > 0"),
                ));
            }
            // Below the clock's resolution the interval rounds to 0 ns, and the
            // flush timer would fire forever at one instant.
            if s < 1e-9 {
                return Err(Invalid::new(
                    "flush_interval_s",
                    format!(
                        "is {s}; must be at least 0.000000001 seconds (1 ns, the \
                         simulated clock's resolution)"
                    ),
                ));
            }
            write_back.flush_interval = SimTime::from_secs_f64(s);
        }
        if let Some(b) = k.flush_batch {
            if b == 0 {
                return Err(Invalid::new(
                    "flush_batch",
                    "is 0; must be at least 1 pending write",
                ));
            }
            write_back.flush_batch = b;
        }
        if back {
            plan.write_back = Some(write_back);
        }
        // Likewise `tags`: checked always, used by `tag_purge` only.
        if k.tags == Some(0) {
            return Err(Invalid::new("tags", "is 0; must be at least 1"));
        }
        if plan.invalidation == Invalidation::TagPurge {
            plan.tags = k.tags.unwrap_or(1);
        }
        Ok(plan)
    }

    /// Whether a write stores its new version in every cache layer.
    pub fn stores(&self) -> bool {
        matches!(
            self.strategy,
            WriteStrategy::WriteThrough | WriteStrategy::WriteBack
        )
    }

    /// What a write does to each cache layer.
    pub fn on_commit(&self) -> OnCommit {
        match (self.stores(), self.invalidation) {
            (_, Invalidation::VersionedKeys) => OnCommit::Orphan,
            (_, Invalidation::TagPurge) => OnCommit::PurgeTag,
            (true, _) => OnCommit::Store,
            (false, Invalidation::DeleteOnWrite) => OnCommit::Delete,
            (false, Invalidation::TtlOnly) => OnCommit::Nothing,
        }
    }
}

impl Default for WritePlan {
    fn default() -> Self {
        WritePlan::new(WriteStrategy::CacheAside, None)
    }
}

/// What a write does to a cache layer's copies. With [`WritePlan::stores`], `Orphan`
/// and `PurgeTag` are followed by storing the new version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCommit {
    /// Nothing: the copy expires in time.
    Nothing,
    /// The copy is deleted.
    Delete,
    /// The new version is stored.
    Store,
    /// The old copy is orphaned (`versioned_keys`).
    Orphan,
    /// Every copy of the key's tag is deleted (`tag_purge`).
    PurgeTag,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `NAMES` is what the parser accepts, one name per strategy.
    #[test]
    fn every_strategy_name_parses() {
        let parsed: Vec<WriteStrategy> = WriteStrategy::NAMES
            .iter()
            .map(|n| serde_json::from_value(serde_json::Value::String(n.to_string())).unwrap())
            .collect();
        assert_eq!(
            parsed,
            [
                WriteStrategy::CacheAside,
                WriteStrategy::WriteThrough,
                WriteStrategy::WriteBack,
                WriteStrategy::WriteAround
            ]
        );
    }

    #[test]
    fn defaults_follow_the_strategy() {
        assert_eq!(WritePlan::default().on_commit(), OnCommit::Delete);
        let around = WritePlan::new(WriteStrategy::WriteAround, None);
        assert_eq!(around.on_commit(), OnCommit::Nothing);
        let purged = WritePlan::new(
            WriteStrategy::WriteAround,
            Some(Invalidation::DeleteOnWrite),
        );
        assert_eq!(purged.on_commit(), OnCommit::Delete);
        let through = WritePlan::new(WriteStrategy::WriteThrough, Some(Invalidation::TtlOnly));
        assert_eq!(through.on_commit(), OnCommit::Store);
        assert!(WritePlan::new(WriteStrategy::WriteBack, None).stores());
    }

    #[test]
    fn write_keys_apply_only_where_they_mean_something() {
        let keys = |strategy, invalidation, tags, batch| WriteKeys {
            strategy,
            invalidation,
            flush_interval_s: None,
            flush_batch: batch,
            tags,
        };
        let err =
            |k: WriteKeys, caches| WritePlan::resolve(&k, caches).unwrap_err().key.to_string();
        // Write-back and tag keys are checked whatever the strategy, used only by theirs.
        let ignored =
            WritePlan::resolve(&keys(WriteStrategy::CacheAside, None, Some(4), Some(5)), 1)
                .unwrap();
        assert_eq!(ignored, WritePlan::new(WriteStrategy::CacheAside, None));
        assert_eq!(
            err(keys(WriteStrategy::CacheAside, None, None, Some(0)), 1),
            "flush_batch"
        );
        assert_eq!(
            err(keys(WriteStrategy::WriteBack, None, None, Some(0)), 1),
            "flush_batch"
        );
        assert_eq!(
            err(keys(WriteStrategy::WriteBack, None, None, None), 0),
            "write_strategy"
        );
        assert_eq!(
            err(keys(WriteStrategy::CacheAside, None, Some(0), None), 1),
            "tags"
        );
        let tagged = keys(
            WriteStrategy::CacheAside,
            Some(Invalidation::TagPurge),
            Some(4),
            None,
        );
        let p = WritePlan::resolve(&tagged, 1).unwrap();
        assert_eq!((p.tags, p.on_commit()), (4, OnCommit::PurgeTag));
        let wb =
            WritePlan::resolve(&keys(WriteStrategy::WriteBack, None, None, Some(7)), 1).unwrap();
        assert_eq!(wb.write_back.unwrap().flush_batch, 7);
        assert_eq!(wb.on_commit(), OnCommit::Store);
    }
}
