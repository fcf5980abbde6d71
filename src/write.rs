//! Write strategies: how a write reaches the caches, and what happens to other copies.
//!
//! `workload.write_strategy` and `workload.invalidation` resolve into a [`WritePlan`]:
//!
//! | strategy | at the commit of a write |
//! |---|---|
//! | `cache_aside` (default) | the database commits; then the caches drop their copies (default `delete_on_write`) |
//! | `write_through` | the database commits and every cache layer stores the new version; a read's fill never replaces a newer version (read fills are "add if absent or older", as a write-through cache's loader does) |
//! | `write_around` | the database commits; caches are left alone (default `ttl_only`), copies go stale until they expire |
//!
//! `invalidation`: `delete_on_write` drops the copies the strategy does not write;
//! `ttl_only` leaves them to expire. Each cache layer's `propagation_delay_ms` delays
//! what the commit does to it (a CDN purge, a pub/sub fan-out).
//!
//! Not modelled yet: `write_back` (a dirty cache flushed in batches, and the crash that
//! loses unflushed writes), `versioned_keys` and `tag_purge`.

use serde::{Deserialize, Serialize};

/// `workload.write_strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteStrategy {
    /// Write the database, then delete the key in the caches.
    #[default]
    CacheAside,
    /// Write the caches and the database together.
    WriteThrough,
    /// Write the database only.
    WriteAround,
}

/// `workload.invalidation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invalidation {
    /// Copies live until their TTL.
    TtlOnly,
    /// A write deletes the copies it does not overwrite.
    DeleteOnWrite,
}

/// A validated write configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WritePlan {
    /// The strategy.
    pub strategy: WriteStrategy,
    /// The invalidation scope.
    pub invalidation: Invalidation,
}

impl WritePlan {
    /// The plan for `strategy`, with its default invalidation unless `invalidation` is set.
    pub fn new(strategy: WriteStrategy, invalidation: Option<Invalidation>) -> Self {
        let default = match strategy {
            WriteStrategy::CacheAside | WriteStrategy::WriteThrough => Invalidation::DeleteOnWrite,
            WriteStrategy::WriteAround => Invalidation::TtlOnly,
        };
        WritePlan {
            strategy,
            invalidation: invalidation.unwrap_or(default),
        }
    }

    /// What a commit does to each cache layer's copy.
    pub fn on_commit(&self) -> OnCommit {
        match (self.strategy, self.invalidation) {
            (WriteStrategy::WriteThrough, _) => OnCommit::Store,
            (_, Invalidation::DeleteOnWrite) => OnCommit::Delete,
            (_, Invalidation::TtlOnly) => OnCommit::Nothing,
        }
    }
}

impl Default for WritePlan {
    fn default() -> Self {
        WritePlan::new(WriteStrategy::CacheAside, None)
    }
}

/// What a committed write does to a cache layer's copy of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCommit {
    /// Nothing: the copy expires in time.
    Nothing,
    /// The copy is deleted.
    Delete,
    /// The new version is stored.
    Store,
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
