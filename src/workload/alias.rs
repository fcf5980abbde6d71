//! Walker's alias method for drawing popularity ranks, and the table of Zipf alias tables
//! a process shares between its runs.
//!
//! [`AliasTable`] draws an index in O(1) from one 64-bit random number and one 8-byte
//! entry per index. [`ZipfTables`] keeps the Zipf tables built so far (a sweep runs the
//! same workload at many points, and building one over 1M keys costs about as much as
//! simulating 100k requests): it is one process-wide memo, [`ZipfTables::shared`],
//! holding at most [`ZipfTables::KEPT_KEYS`] entries (256 MiB) in all, least recently
//! used dropped first. A table is a pure function of its size and exponent and is only
//! read, so sharing it never changes a result.
//!
//! It knows weights and random numbers, not keys, workloads or scenarios.

use std::sync::{Arc, Mutex, PoisonError};

/// Above this many keys the Zipf sampler draws by rejection instead of from an alias
/// table, which costs 8 bytes and some setup per key (`docs/performance.md`, "workload").
pub(super) const ALIAS_TABLE_MAX_KEYS: u32 = 1 << 24;

/// One column of an [`AliasTable`]: keep the column's own key when the draw's fraction
/// is below `threshold / 2^32`, else take `alias`.
#[derive(Clone, Copy, Debug)]
struct AliasEntry {
    threshold: u32,
    alias: u32,
}

/// Walker's alias method (Vose's construction), packed: one 8-byte entry per key, and
/// one 64-bit draw per sample. The draw times `n` gives the column in its high 64 bits
/// and, in its low bits, a fraction uniform within that column (Lemire's multiply), so
/// no second draw is needed. The bias of the column choice is below `n / 2^64`, and a
/// probability is quantized to `2^-32 / n`: far below what any run can detect.
#[derive(Clone, Debug)]
pub struct AliasTable {
    entries: Vec<AliasEntry>,
}

impl AliasTable {
    /// A table drawing index `i` with probability `weights[i] / sum(weights)`.
    /// Weights must be finite, non-negative, and not all zero.
    pub fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        assert!(n > 0 && n <= u32::MAX as usize, "1..=u32::MAX weights");
        let sum: f64 = weights.iter().sum();
        assert!(sum.is_finite() && sum > 0.0, "finite positive weights");
        // Each column holds probability mass 1; scaled[i] is key i's mass in columns.
        let scale = n as f64 / sum;
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * scale).collect();
        let mut entries: Vec<AliasEntry> = (0..n as u32)
            .map(|i| AliasEntry {
                threshold: u32::MAX,
                alias: i,
            })
            .collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) =
            (0..n as u32).partition(|&i| scaled[i as usize] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            let p = scaled[s as usize];
            entries[s as usize] = AliasEntry {
                threshold: (p * 4_294_967_296.0).min(u32::MAX as f64) as u32,
                alias: l,
            };
            scaled[l as usize] -= 1.0 - p;
            if scaled[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left holds mass 1 up to rounding: it keeps its own key (the initial
        // entry).
        AliasTable { entries }
    }

    /// Starts loading the entry that the draw `r` will read, so that the reads of a
    /// batch of draws overlap ([`crate::mem::prefetch`]).
    #[inline]
    pub(super) fn prefetch(&self, r: u64) {
        crate::mem::prefetch::prefetch(&self.entries, self.column(r).0);
    }

    /// The column of a draw and the fraction within it.
    #[inline]
    fn column(&self, r: u64) -> (usize, u32) {
        let m = u128::from(r) * self.entries.len() as u128;
        ((m >> 64) as usize, (m as u64 >> 32) as u32)
    }

    /// The index drawn by `r`.
    #[inline]
    pub fn sample(&self, r: u64) -> u32 {
        let (col, frac) = self.column(r);
        let e = self.entries[col];
        if frac < e.threshold {
            col as u32
        } else {
            e.alias
        }
    }
}

/// The Zipf alias tables built so far, for reuse by later runs of the same workload: the
/// memo the module docs describe. Least recently used first; a table is dropped once
/// the kept tables hold more than the budget's entries.
#[derive(Debug)]
pub struct ZipfTables {
    /// `((keys, alpha's bits), table)`, most recently used last.
    tables: Mutex<Vec<(ZipfId, Arc<AliasTable>)>>,
    /// The most entries kept in all.
    budget: u64,
}

/// A Zipf table's parameters: its keys and the bits of its exponent.
type ZipfId = (u32, u64);

impl Default for ZipfTables {
    fn default() -> Self {
        ZipfTables::new(ZipfTables::KEPT_KEYS)
    }
}

impl ZipfTables {
    /// The budget of [`shared`](Self::shared): 2^25 entries of 8 bytes, 256 MiB.
    pub const KEPT_KEYS: u64 = 1 << 25;

    /// An empty memo that keeps at most `budget` entries in all (a larger table is
    /// built when asked for, and not kept).
    pub const fn new(budget: u64) -> Self {
        ZipfTables {
            tables: Mutex::new(Vec::new()),
            budget,
        }
    }

    /// The memo every workload of this process uses.
    pub fn shared() -> &'static ZipfTables {
        static SHARED: ZipfTables = ZipfTables::new(ZipfTables::KEPT_KEYS);
        &SHARED
    }

    /// The alias table of Zipf(`alpha`) over `keys` keys: a kept one, or one built now
    /// and kept. Built under the lock, so parallel runs asking for the same table build
    /// it once.
    pub fn get(&self, keys: u32, alpha: f64) -> Arc<AliasTable> {
        // A poisoned lock only means another run panicked while building; the list itself
        // is always consistent (it is changed only after a table is complete).
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (keys, alpha.to_bits());
        let table = match tables.iter().position(|(k, _)| *k == id) {
            Some(i) => tables.remove(i).1,
            None => {
                let weights: Vec<f64> = (1..=keys).map(|i| (i as f64).powf(-alpha)).collect();
                Arc::new(AliasTable::new(&weights))
            }
        };
        tables.push((id, Arc::clone(&table)));
        // Most recently used last: drop from the front until the rest fits the budget.
        while tables.iter().map(|((k, _), _)| u64::from(*k)).sum::<u64>() > self.budget {
            tables.remove(0);
        }
        table
    }

    /// How many tables are kept.
    pub fn len(&self) -> usize {
        self.tables
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no table is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_table_is_exact_on_a_grid_of_draws() {
        // Draws spread evenly over u64 hit each index in proportion to its weight,
        // up to the 2^-32 quantization of the thresholds.
        let w = [5.0, 0.0, 1.0, 3.0, 0.5, 10.0, 0.5];
        let t = AliasTable::new(&w);
        let sum: f64 = w.iter().sum();
        let n = 1u64 << 20;
        let mut counts = [0u64; 7];
        for i in 0..n {
            counts[t.sample(i.wrapping_mul(u64::MAX / n)) as usize] += 1;
        }
        for (c, w) in counts.iter().zip(w) {
            assert!((*c as f64 / n as f64 - w / sum).abs() < 1e-5, "{counts:?}");
        }
    }

    #[test]
    fn zipf_tables_share_and_stay_within_their_budget() {
        let memo = ZipfTables::new(100);
        let a = memo.get(60, 0.9);
        assert!(
            Arc::ptr_eq(&a, &memo.get(60, 0.9)),
            "the same table, shared"
        );
        assert!(
            !Arc::ptr_eq(&a, &memo.get(60, 1.0)),
            "another exponent, another table"
        );
        // 60 + 60 keys exceed the budget: the least recently used (alpha 0.9) went.
        assert_eq!(memo.len(), 1);
        assert!(!Arc::ptr_eq(&a, &memo.get(60, 0.9)));
        // A table over the budget pushes out every other, and is not kept itself.
        memo.get(500, 0.9);
        assert!(memo.is_empty());
    }
}
