//! Quantiles in bounded memory: a mergeable histogram whose answer depends only on the
//! multiset of values, never on how they were split, merged or ordered.
//!
//! Definition (MODEL.md section 9): the q-quantile of n values is the smallest value x with
//! F_n(x) >= q, i.e. `sorted[ceil(q * n) - 1]`; ranks use integer percentages so
//! `ceil(q * n)` is exact.
//!
//! How [`QuantileStore`] holds values. Every value maps to a 64-bit *key* that is
//! order-preserving and invertible ([`SketchValue`]: for f64 the total-order bit pattern,
//! for pence the offset two's complement). The store is a histogram of `key >> level`
//! buckets, each with a count and the smallest key it has seen (a bucket's own number is
//! that smallest key `>> level`, so it is not stored). At level 0 a bucket is a single
//! value, so quantiles are exact actual trial values. Whenever more than
//! [`MAX_BUCKETS`] buckets are occupied, the level rises by one (pairs of neighbouring
//! buckets combine: counts add, minimum of minima) until they fit.
//!
//! Order independence. Let L*(S) be the smallest level at which the multiset S occupies at
//! most `MAX_BUCKETS` buckets. Occupancy only grows with S and only falls with the level,
//! so every sub-multiset has L* <= L*(S); a merge raises both sides to the larger level,
//! adds, and coarsens until it fits, which lands exactly on L*(A ∪ B). So the state (level,
//! counts, minima) is a function of the multiset alone: identical on any thread count and
//! any shard split, bit for bit. Pushes go to an unsorted buffer that is folded in when it
//! fills and before every merge or query; the buffer is only a faster way to add the same
//! multiset. It grows by doubling up to 1024 keys (one chunk's) and then straight to its
//! full length.
//!
//! Folding (the hot path: about one fold per summary per 16384 trials). A store with at
//! least 1024 buckets (below level 64) counts each key straight into its bucket through an
//! index from bucket number to position, rebuilt per fold: a direct one when the numbers
//! span at most 2^16 (continuous values at a coarse level, [`add_indexed`]), else a hash
//! table keyed by the bucket's floor, `number << level`, so that a key is looked up by
//! masking off its low bits ([`add_hashed`]); only the keys of fresh buckets, a few
//! hundred once the store has filled, go on to be grouped as below. In a smaller store
//! the buffered keys
//! are grouped by bucket, whichever way is cheapest for the batch, all giving the same
//! groups: a store of one or two values so far checks whether the batch has no others by
//! whole passes over it ([`two_distinct`]); a batch of at most 128 distinct keys (payments
//! taking a few values) is counted in a small hash table; otherwise the keys are radix
//! sorted by bucket over only the bits where they differ ([`sort_by_bucket`]); a batch too
//! wide for that is hash counted when the store is at level 0 (its values repeat), and
//! otherwise radix sorted by offset from its smallest bucket when its range is narrow
//! (money either side of zero), else comparison sorted ([`sort_wide`]). The groups are
//! added to existing buckets in place, and the new buckets
//! ([`QuantileStore::add_buckets`]), when the store has room for them, inserted by one
//! merge from the back. When they may not fit (a store still filling, whose level is
//! rising), the store's buckets and the new ones are merged into the thread's scratch,
//! the smallest fitting level is found in one pass over that union ([`fitting_bits`]),
//! and the union, coarsened to it, is copied back: a store's bucket vector never holds
//! more than [`MAX_BUCKETS`]. A merge of two stores takes the same way. The order of
//! work never shows in the state, which is the multiset's.
//!
//! Accuracy. The reported quantile is the smallest value in the bucket holding rank
//! `ceil(q n)`: always an actual trial value (money stays whole pence someone could have
//! been paid), exact while at most `MAX_BUCKETS` distinct values were seen, and otherwise
//! off in rank by at most that bucket's share of the values. With 16384 buckets and
//! occupancy above half of that after any coarsening, a smooth distribution's bucket holds
//! well under 0.001 of the mass (tested against exact quantiles at 10^6 values below).
//! Memory: at most `MAX_BUCKETS` buckets of 16 bytes (256 KiB) plus a 16384-key (128 KiB)
//! buffer per summary, whatever the number of trials; a fold briefly allocates its new
//! buckets, and each thread keeps up to about 1.3 MiB of fold scratch (the 256 KiB hash
//! table and its list of used slots, a radix buffer as long as the largest batch, 96 KiB
//! of radix counters, the 128 KiB direct bucket index and the 64 KiB hashed one, and the
//! union of a fold that coarsens, 512 KiB for a full store and a full batch) between
//! folds instead of allocating and zeroing it every time. Before that union went
//! through the thread's scratch, each store's own vector grew to hold it and kept that
//! memory: about 14 MB of a 2-thread Ealing run's peak.

use serde::{Deserialize, Serialize};

/// The percentiles every summary reports, in the order of the JSON contract.
pub(crate) const PERCENTS: [u32; 7] = [5, 10, 25, 50, 75, 90, 95];

/// Most buckets a store keeps before coarsening.
pub(crate) const MAX_BUCKETS: usize = 16_384;

/// Pushes buffered before they are folded into the histogram. A fold into a filled store
/// walks all its buckets and zeroes the radix counters whatever the batch, so a longer
/// buffer spreads that over more values: 16384 instead of 8192 keys saved about 2% of the
/// instructions per Ealing trial, for 64 KiB more per summary.
const BUFFER: usize = 16384;

/// Capacity of the buffer past which it grows to [`BUFFER`] at once (in
/// [`QuantileStore::push_all`]) instead of doubling.
const EARLY_BUFFER: usize = 1024;

/// Widest radix digit in [`sort_by_bucket`], in bits.
const DIGIT_BITS: u32 = 13;

/// Counters per radix digit: one per value of the widest digit.
const SLOTS: usize = 1 << DIGIT_BITS;

/// Most radix passes before [`sort_by_bucket`] uses a comparison sort instead.
const MAX_PASSES: u32 = 3;

/// Most distinct keys in a batch that is counted by [`few_distinct`] instead of sorted.
const FEW: usize = 128;

/// The same for a batch too wide for [`sort_by_bucket`] in a store at level 0 (whose
/// values repeat: at most [`MAX_BUCKETS`] distinct ones so far).
const FEW_WIDE: usize = 4096;

/// Slots of [`few_distinct`]'s table: a quarter full with [`FEW_WIDE`] keys.
const FEW_SLOTS: usize = 4 * FEW_WIDE;

/// [`insert_sorted`] searches for each fresh bucket when there are at least this many
/// existing buckets per fresh one (below, merging them one by one is cheaper).
const FEW_FRESH: usize = 16;

/// Widest span of bucket numbers (smallest to largest) a store may have for its folds to
/// go through [`add_indexed`].
const INDEX_RANGE: u64 = 1 << 16;

/// Fewest buckets a store must have for its folds to go through [`add_indexed`] or
/// [`add_hashed`].
const INDEX_MIN_BUCKETS: usize = 1024;

/// [`add_indexed`]'s mark of a bucket number no bucket has.
const NO_BUCKET: u16 = u16::MAX;

/// Fewest keys [`sort_by_bucket`] radix sorts (below, the counters cost more than a sort).
const RADIX_MIN: usize = 256;

/// Zero-based index of the `percent` quantile among `n > 0` sorted values.
pub(crate) fn rank_index(n: u64, percent: u32) -> u64 {
    debug_assert!(n > 0 && (1..=100).contains(&percent));
    let rank = (u128::from(n) * u128::from(percent)).div_ceil(100);
    (rank.max(1) - 1) as u64
}

/// A value with an order-preserving, invertible 64-bit key.
pub(crate) trait SketchValue: Copy {
    fn key(self) -> u64;
    fn from_key(key: u64) -> Self;
}

impl SketchValue for f64 {
    /// The IEEE total order (as `f64::total_cmp`) as an unsigned integer order.
    #[inline]
    fn key(self) -> u64 {
        let bits = self.to_bits();
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | 1 << 63
        }
    }
    fn from_key(key: u64) -> f64 {
        f64::from_bits(if key >> 63 == 1 {
            key & !(1 << 63)
        } else {
            !key
        })
    }
}

impl SketchValue for i64 {
    #[inline]
    fn key(self) -> u64 {
        (self as u64) ^ (1 << 63)
    }
    fn from_key(key: u64) -> i64 {
        (key ^ (1 << 63)) as i64
    }
}

/// One histogram bucket: how many values, and the smallest of their keys. The bucket's
/// number, `key >> level` of each of its values, is that of its minimum ([`Bucket::key`]):
/// not stored, so a bucket is 16 bytes and a fold, which walks the whole array, moves a
/// third less memory than with the number kept alongside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bucket {
    count: u64,
    min: u64,
}

impl Bucket {
    /// The bucket's number at `level`.
    #[inline]
    fn key(&self, level: u32) -> u64 {
        bucket_of(self.min, level)
    }
}

/// Bounded-memory, order-free quantile store; see the module documentation. Serialised
/// (shard partials) as `{"level", "buckets"}` with the buffer folded in and the buckets
/// packed by [`pack`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(into = "Packed", try_from = "Packed")]
#[serde(bound(serialize = "T: SketchValue", deserialize = "T: SketchValue"))]
pub(crate) struct QuantileStore<T> {
    level: u32,
    /// Sorted by key (so also by minimum), keys unique, at most `MAX_BUCKETS` after every
    /// fold.
    buckets: Vec<Bucket>,
    /// Keys pushed and not yet folded in.
    pending: Vec<u64>,
    value: std::marker::PhantomData<T>,
}

/// The serialised form of a [`QuantileStore`].
#[derive(Serialize, Deserialize)]
struct Packed {
    level: u32,
    buckets: String,
}

impl<T: SketchValue> From<QuantileStore<T>> for Packed {
    fn from(mut store: QuantileStore<T>) -> Packed {
        store.fold_pending();
        Packed {
            level: store.level,
            buckets: pack(&store.buckets, store.level),
        }
    }
}

impl<T: SketchValue> TryFrom<Packed> for QuantileStore<T> {
    type Error = String;
    fn try_from(p: Packed) -> Result<Self, String> {
        if p.level > 64 {
            return Err(format!("quantile store level {} > 64", p.level));
        }
        let buckets = unpack(&p.buckets, p.level)?;
        if buckets.len() > MAX_BUCKETS {
            return Err(format!(
                "{} quantile buckets > {MAX_BUCKETS}",
                buckets.len()
            ));
        }
        Ok(QuantileStore {
            level: p.level,
            buckets,
            pending: Vec::new(),
            value: std::marker::PhantomData,
        })
    }
}

/// Buckets as base64 of LEB128 varints: per bucket the key's increase over the previous
/// key (the first key itself), the count, and the minimum's offset within the bucket
/// (`min - (key << level)`, below 2^level). A few bytes per bucket instead of three
/// 20-digit JSON numbers.
fn pack(buckets: &[Bucket], level: u32) -> String {
    let mut bytes = Vec::with_capacity(buckets.len() * 8);
    let mut previous = 0;
    for b in buckets {
        let key = b.key(level);
        varint(&mut bytes, key - previous);
        varint(&mut bytes, b.count);
        varint(&mut bytes, b.min - bucket_floor(key, level));
        previous = key;
    }
    super::bits::base64_encode(&bytes)
}

fn unpack(text: &str, level: u32) -> Result<Vec<Bucket>, String> {
    let bytes = super::bits::base64_decode(text)?;
    let mut at = 0;
    let next = |at: &mut usize| -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *bytes.get(*at).ok_or("truncated quantile buckets")?;
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 64 bits in quantile buckets".into())
    };
    let mut buckets: Vec<Bucket> = Vec::new();
    let mut key = 0u64;
    while at < bytes.len() {
        let delta = next(&mut at)?;
        if !buckets.is_empty() && delta == 0 {
            return Err("quantile bucket keys not increasing".into());
        }
        key = key
            .checked_add(delta)
            .ok_or("quantile bucket key overflow")?;
        let count = next(&mut at)?;
        let offset = next(&mut at)?;
        let min = bucket_floor(key, level)
            .checked_add(offset)
            // Also at level 64, where every minimum is in bucket 0: a bucket's number is
            // its minimum's, so a partial saying otherwise is damaged.
            .filter(|&m| bucket_of(m, level) == key)
            .ok_or("quantile bucket minimum outside its bucket")?;
        if count == 0 {
            return Err("empty quantile bucket".into());
        }
        buckets.push(Bucket { count, min });
    }
    Ok(buckets)
}

/// The smallest full key in bucket `key` at `level`.
fn bucket_floor(key: u64, level: u32) -> u64 {
    if level >= 64 { 0 } else { key << level }
}

fn varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

impl<T: SketchValue> QuantileStore<T> {
    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        self.push_key(x.key());
    }

    /// Pushes the value whose [`SketchValue::key`] is `key`.
    #[inline]
    pub(crate) fn push_key(&mut self, key: u64) {
        self.pending.push(key);
        if self.pending.len() >= BUFFER {
            self.fold_pending();
        }
    }

    /// Pushes every value of `values` in turn, as [`QuantileStore::push`] would (folding
    /// whenever the buffer fills), their keys appended a run at a time.
    #[inline]
    pub(crate) fn push_all(&mut self, mut values: &[T]) {
        while !values.is_empty() {
            let room = BUFFER - self.pending.len();
            let (now, later) = values.split_at(room.min(values.len()));
            if self.pending.len() + now.len() > self.pending.capacity() {
                self.grow(now.len());
            }
            self.pending.extend(now.iter().map(|v| v.key()));
            if self.pending.len() >= BUFFER {
                self.fold_pending();
            }
            values = later;
        }
    }

    /// Makes room in the buffer for `more` keys (at most the room left before it is
    /// full). Past a chunk's worth of keys the buffer grows straight to its full length
    /// instead of doubling through 2048, 4096 and 8192 (three copies, and a quarter of a
    /// mebibyte allocated and freed, per summary while a run starts); a store that never
    /// holds more, such as one chunk's, stays small. Out of line, so that
    /// [`QuantileStore::push_all`] stays small enough to be inlined into the block path.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, more: usize) {
        if self.pending.capacity() >= EARLY_BUFFER {
            self.pending.reserve_exact(BUFFER - self.pending.len());
        } else {
            self.pending.reserve(more);
        }
    }

    pub(crate) fn merge(&mut self, other: &QuantileStore<T>) {
        self.pending.extend_from_slice(&other.pending);
        // The common case (a chunk's store, all pending, into a long-lived one) touches
        // no buckets at all.
        if !other.buckets.is_empty() {
            if other.level > self.level {
                self.coarsen_to(other.level);
            }
            if other.level < self.level {
                let mut theirs = other.buckets.clone();
                coarsen(&mut theirs, self.level);
                self.add_buckets(&theirs, false);
            } else {
                self.add_buckets(&other.buckets, false);
            }
        }
        if self.pending.len() >= BUFFER {
            self.fold_pending();
        }
    }

    /// Folds the pending keys in now (the state, a function of the multiset, is the same),
    /// so that queries need not copy the store to fold them.
    pub(crate) fn settle(&mut self) {
        self.fold_pending();
    }

    /// Adds the pending keys to the buckets: sorted by bucket, run-length counted straight
    /// into the buckets they land in (in place), and the few new buckets inserted in one
    /// pass from the back. No allocation once the store is warm, except for new buckets.
    #[inline(never)]
    fn fold_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let looked_up = self.level < 64 && self.buckets.len() >= INDEX_MIN_BUCKETS;
        let fresh = if looked_up {
            if let Some((lowest, range)) = self.index_range() {
                add_indexed(
                    &mut self.buckets,
                    &mut self.pending,
                    self.level,
                    lowest,
                    range,
                );
            } else {
                add_hashed(&mut self.buckets, &mut self.pending, self.level);
            }
            // The keys left are those of fresh buckets: grouped into buckets of their own.
            if !sort_by_bucket(&mut self.pending, self.level) {
                sort_wide(&mut self.pending, self.level);
            }
            add_sorted(&mut [], &self.pending, self.level)
        } else if let Some(counted) = (self.buckets.len() <= 2)
            .then(|| two_distinct(&self.pending))
            .flatten()
        {
            // A store of one or two values so far (a payment made in full or not at all).
            add_counted(&mut self.buckets, counted, self.level)
        } else if let Some(counted) = few_distinct(&self.pending, FEW) {
            add_counted(&mut self.buckets, counted, self.level)
        } else if sort_by_bucket(&mut self.pending, self.level) {
            add_sorted(&mut self.buckets, &self.pending, self.level)
        } else if let Some(counted) = (self.level == 0)
            .then(|| few_distinct(&self.pending, FEW_WIDE))
            .flatten()
        {
            // Too wide for the radix sort, and an exact store's values repeat.
            add_counted(&mut self.buckets, counted, self.level)
        } else {
            sort_wide(&mut self.pending, self.level);
            add_sorted(&mut self.buckets, &self.pending, self.level)
        };
        self.pending.clear();
        self.add_buckets(&fresh, true);
    }

    /// Adds `theirs` (sorted, at this store's level; `fresh` when none of them has the
    /// number of one of ours) to the buckets and raises the level to the smallest at
    /// which they fit. When the two lists together fit without coarsening: fresh
    /// buckets (a fold's) inserted in place ([`insert_sorted`]), others (a merge's)
    /// merged into a new vector. When they may not
    /// fit (a store still filling), merged into this thread's [`Scratch`] and coarsened
    /// from there straight back into the store's vector ([`fitting_bits`], then
    /// [`coarsen`], then copied): the same state, without the store's vector ever growing past
    /// [`MAX_BUCKETS`] to hold the union (which would keep up to twice its memory, and
    /// its pages, for the rest of the run) and with the union's copy, its histogram and
    /// its coarsening each one pass.
    fn add_buckets(&mut self, theirs: &[Bucket], fresh: bool) {
        if self.buckets.len() + theirs.len() <= MAX_BUCKETS {
            if fresh {
                insert_sorted(&mut self.buckets, theirs);
            } else {
                self.buckets = merge_sorted(&self.buckets, theirs, self.level);
            }
            return;
        }
        SCRATCH.with_borrow_mut(|scratch| {
            let union = &mut scratch.union;
            union.clear();
            if fresh {
                merge_fresh(union, &self.buckets, theirs);
            } else {
                merge_into(union, &self.buckets, theirs, self.level);
            }
            let (bits, occupied) = fitting_bits(union, self.level);
            self.level += bits;
            coarsen(union, self.level);
            debug_assert_eq!(union.len(), occupied);
            self.buckets.clear();
            self.buckets.reserve_exact(union.len());
            self.buckets.extend_from_slice(union);
        });
    }

    /// The smallest bucket number and the number of bucket numbers from it to the largest,
    /// when the store has enough buckets for [`add_indexed`] to pay and they span at most
    /// [`INDEX_RANGE`] numbers.
    fn index_range(&self) -> Option<(u64, usize)> {
        let (first, last) = (self.buckets.first()?, self.buckets.last()?);
        if self.level >= 64 || self.buckets.len() < INDEX_MIN_BUCKETS {
            return None;
        }
        let lowest = first.key(self.level);
        // Below INDEX_RANGE before adding one: from 0 to u64::MAX the count overflows
        // (so `then`, which adds only for a span that passed, not the eager `then_some`).
        let span = last.key(self.level) - lowest;
        (span < INDEX_RANGE).then(|| (lowest, span as usize + 1))
    }

    fn coarsen_to(&mut self, level: u32) {
        coarsen(&mut self.buckets, level);
        self.level = level;
    }

    /// Raises the level to the smallest one at which the buckets fit ([`fitting_bits`]),
    /// in place: what [`QuantileStore::add_buckets`] does on its way from the union to
    /// the store, for the tests.
    #[cfg(test)]
    fn fit(&mut self) {
        let (bits, _) = fitting_bits(&self.buckets, self.level);
        if bits > 0 {
            self.coarsen_to(self.level + bits);
        }
    }

    /// Number of values held, or `None` when the counts overflow (a damaged store read
    /// from a partial; one built by pushing and merging never does).
    pub(crate) fn checked_len(&self) -> Option<u64> {
        self.buckets
            .iter()
            .try_fold(self.pending.len() as u64, |n, b| n.checked_add(b.count))
    }

    /// Number of values held.
    pub(crate) fn len(&self) -> u64 {
        self.buckets.iter().map(|b| b.count).sum::<u64>() + self.pending.len() as u64
    }

    /// The [`PERCENTS`] quantiles, or `None` when empty. A store with keys pending is
    /// copied and the copy folded (a query does not change the store); one without
    /// ([`QuantileStore::settle`]) is read as it is.
    pub(crate) fn percentiles(&self) -> Option<[T; PERCENTS.len()]> {
        let copy;
        let folded = if self.pending.is_empty() {
            self
        } else {
            let mut store = self.clone();
            store.fold_pending();
            copy = store;
            &copy
        };
        let n = folded.len();
        if n == 0 {
            return None;
        }
        Some(PERCENTS.map(|percent| {
            let index = rank_index(n, percent);
            let mut below = 0u64;
            for b in &folded.buckets {
                below += b.count;
                if below > index {
                    return T::from_key(b.min);
                }
            }
            unreachable!("rank index {index} < n = {n}")
        }))
    }
}

/// How many low bits of the bucket numbers `buckets` (sorted, at `level`) must drop for
/// them to fit in [`MAX_BUCKETS`], and how many buckets they then occupy: the level
/// coarsening one bit at a time would reach, found in one pass (distinct
/// floats may need tens of bits dropped at once). Neighbouring buckets `a < b` stay apart
/// after dropping `bits` low bits exactly when `a ^ b` has a set bit at or above `bits`,
/// so a histogram of the bit lengths of neighbours' XORs gives the occupancy at every
/// level.
fn fitting_bits(buckets: &[Bucket], level: u32) -> (u32, usize) {
    if buckets.len() <= MAX_BUCKETS {
        return (0, buckets.len());
    }
    let mut xor_length = [0usize; 65];
    for pair in buckets.windows(2) {
        let xor = bucket_of(pair[0].min ^ pair[1].min, level);
        xor_length[(64 - xor.leading_zeros()) as usize] += 1;
    }
    // occupied(bits) = 1 + number of neighbours whose XOR is longer than `bits`, and
    // the smallest fitting `bits` is the answer bisection found.
    let mut occupied = buckets.len();
    let mut bits = 0;
    while occupied > MAX_BUCKETS {
        occupied -= xor_length[bits as usize + 1];
        bits += 1;
    }
    (bits, occupied)
}

/// Appends to `out` the union of `ours` and `fresh` (sorted, at the same level, no bucket
/// of `fresh` with the number of one of `ours`), in order of their minima: the runs of
/// ours between fresh buckets copied a run at a time.
fn merge_fresh(out: &mut Vec<Bucket>, ours: &[Bucket], fresh: &[Bucket]) {
    out.reserve(ours.len() + fresh.len());
    let mut i = 0;
    for f in fresh {
        let run = ours[i..].iter().take_while(|b| b.min < f.min).count();
        out.extend_from_slice(&ours[i..i + run]);
        out.push(*f);
        i += run;
    }
    out.extend_from_slice(&ours[i..]);
}

/// Combines neighbouring buckets that fall in the same bucket at `level`, at least the
/// level they are at. They stay sorted, so the first of each group holds its minimum.
fn coarsen(buckets: &mut Vec<Bucket>, level: u32) {
    let mut kept = 0;
    let mut last_key = 0;
    for i in 0..buckets.len() {
        let b = buckets[i];
        let key = b.key(level);
        if kept > 0 && last_key == key {
            buckets[kept - 1].count += b.count;
        } else {
            buckets[kept] = b;
            last_key = key;
            kept += 1;
        }
    }
    buckets.truncate(kept);
}

/// The union of two sorted bucket lists at the same `level`.
fn merge_sorted(a: &[Bucket], b: &[Bucket], level: u32) -> Vec<Bucket> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    merge_into(&mut out, a, b, level);
    out
}

/// Appends to `out` the union of two sorted bucket lists at the same `level` (buckets
/// with the same number combined).
fn merge_into(out: &mut Vec<Bucket>, a: &[Bucket], b: &[Bucket], level: u32) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        let (x_key, y_key) = (x.key(level), y.key(level));
        if x_key < y_key {
            out.push(x);
            i += 1;
        } else if y_key < x_key {
            out.push(y);
            j += 1;
        } else {
            out.push(Bucket {
                count: x.count + y.count,
                min: x.min.min(y.min),
            });
            i += 1;
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// The bucket of full key `key` at `level`.
#[inline]
fn bucket_of(key: u64, level: u32) -> u64 {
    key.checked_shr(level).unwrap_or(0)
}

/// Adds `run` (one bucket's worth of new values, bucket `key` at `level`) to `buckets`,
/// sorted, whose buckets below `*j` are all below `run`: in place when its bucket exists,
/// else to `fresh`.
#[inline]
fn add_run(
    buckets: &mut [Bucket],
    j: &mut usize,
    key: u64,
    run: Bucket,
    level: u32,
    fresh: &mut Vec<Bucket>,
) {
    while *j < buckets.len() && buckets[*j].key(level) < key {
        *j += 1;
    }
    match buckets.get_mut(*j) {
        Some(b) if b.key(level) == key => {
            b.count += run.count;
            b.min = b.min.min(run.min);
        }
        _ => fresh.push(run),
    }
}

/// Counts `keys` (in any order) into `buckets` (sorted, at `level` < 64, numbered from
/// `lowest` to `lowest + range - 1`) through a direct index from bucket number to
/// position, this thread's [`Scratch`]: counts and minima of existing buckets are updated
/// in place, and `keys` keeps only the keys no existing bucket holds, in their order.
fn add_indexed(buckets: &mut [Bucket], keys: &mut Vec<u64>, level: u32, lowest: u64, range: usize) {
    const SPAN: usize = INDEX_RANGE as usize;
    assert!(level < 64 && range <= SPAN && buckets.len() <= MAX_BUCKETS);
    SCRATCH.with_borrow_mut(|scratch| {
        let index = &mut scratch.index;
        if index.len() < SPAN {
            index.resize(SPAN, NO_BUCKET);
        }
        let index = index.first_chunk_mut::<SPAN>().expect("resized above");
        index[..range].fill(NO_BUCKET);
        // Every bucket's entry is below `range`, so the mask changes nothing and lets the
        // compiler drop the bounds checks.
        for (i, b) in buckets.iter().enumerate() {
            index[((b.min >> level).wrapping_sub(lowest) as usize) & (SPAN - 1)] = i as u16;
        }
        count_or_keep(buckets, keys, |_, k| {
            let at = (k >> level).wrapping_sub(lowest) as usize;
            if at < range {
                u64::from(index[at & (SPAN - 1)])
            } else {
                u64::from(NO_BUCKET)
            }
        });
    });
}

/// Slots of [`add_hashed`]'s table for the largest store: at most half full.
const TABLE_SLOTS: usize = 2 * MAX_BUCKETS;

/// [`add_indexed`] for a store whose bucket numbers are spread too far for a direct
/// index: the index is an open-addressing hash table from bucket to position (this
/// thread's [`Scratch`], at most half full, emptied for each fold). A slot holds only the
/// bucket's position (two bytes: the table is 64 KiB, small enough to stay in the core's
/// cache between folds, where slots holding the bucket's floor beside it took 512 KiB);
/// whether a slot's bucket is the key's is told by the bucket itself, whose floor (its
/// smallest possible key, `number << level`) is its minimum with the low `level` bits
/// masked off. The bucket is read anyway to count the key into it, so a key found at its
/// home slot costs no memory access beyond the table's slot. The hash is taken of the
/// floor, so a key is looked up by masking off its low `level` bits, with no shift by the
/// level.
fn add_hashed(buckets: &mut [Bucket], keys: &mut Vec<u64>, level: u32) {
    assert!(level < 64 && buckets.len() <= MAX_BUCKETS);
    SCRATCH.with_borrow_mut(|scratch| {
        let slots = (2 * buckets.len()).next_power_of_two();
        let table = &mut scratch.table;
        if table.len() < TABLE_SLOTS {
            table.resize(TABLE_SLOTS, NO_BUCKET);
        }
        let table = table
            .first_chunk_mut::<TABLE_SLOTS>()
            .expect("resized above");
        table[..slots].fill(NO_BUCKET);
        // Every position is masked below `slots`, and so (as the compiler can see) below
        // the table's length.
        let mask = (slots - 1) & (TABLE_SLOTS - 1);
        let shift = 64 - slots.trailing_zeros();
        let high = u64::MAX << level;
        // Multiplicative hashing: the top bits of floor * 2^64 / phi.
        let home =
            |floor: u64| (floor.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize & mask;
        for (i, b) in buckets.iter().enumerate() {
            let mut at = home(b.min & high);
            while table[at] != NO_BUCKET {
                at = (at + 1) & mask;
            }
            table[at] = i as u16;
        }
        count_or_keep(buckets, keys, |buckets, k| {
            let floor = k & high;
            let mut at = home(floor);
            loop {
                let i = table[at];
                // An empty slot (NO_BUCKET, past every bucket) ends the search: no bucket
                // holds the key.
                match buckets.get(usize::from(i)) {
                    Some(b) if b.min & high != floor => at = (at + 1) & mask,
                    _ => break u64::from(i),
                }
            }
        });
    });
}

/// Counts each of `keys` into the bucket at the position `position` gives it (which may
/// read the buckets as they stand; one at or past the end, e.g. [`NO_BUCKET`] in a store
/// of at most [`MAX_BUCKETS`], for none: no existing bucket holds the key), and keeps in
/// `keys`, in their order, only the keys no bucket holds: the shared step of
/// [`add_indexed`] and [`add_hashed`], which differ only in how they find a key's bucket.
#[inline(always)]
fn count_or_keep(
    buckets: &mut [Bucket],
    keys: &mut Vec<u64>,
    mut position: impl FnMut(&[Bucket], u64) -> u64,
) {
    // The keys kept are written over those already read.
    let mut kept = 0;
    for read in 0..keys.len() {
        let k = keys[read];
        // One check for both "no bucket" and the bounds.
        if let Some(b) = buckets.get_mut(position(buckets, k) as usize) {
            b.count += 1;
            b.min = b.min.min(k);
        } else {
            keys[kept] = k;
            kept += 1;
        }
    }
    keys.truncate(kept);
}

/// Counts `keys`, sorted by bucket at `level`, into `buckets` (sorted, at `level`): counts
/// and minima of existing buckets are updated in place; the buckets no existing one holds
/// are returned, sorted.
fn add_sorted(buckets: &mut [Bucket], keys: &[u64], level: u32) -> Vec<Bucket> {
    let mut fresh = Vec::with_capacity(keys.len());
    let Some(&first) = keys.first() else {
        return fresh;
    };
    let mut j = 0;
    // The shift is below 64 whenever there are two buckets to tell apart.
    let shift = level.min(63);
    let one_bucket = level >= 64;
    let mut run_key = bucket_of(first, level);
    let mut run = Bucket {
        count: 0,
        min: first,
    };
    for &k in keys {
        let key = if one_bucket { 0 } else { k >> shift };
        if key != run_key {
            add_run(buckets, &mut j, run_key, run, level, &mut fresh);
            run_key = key;
            run = Bucket { count: 0, min: k };
        }
        run.count += 1;
        run.min = run.min.min(k);
    }
    add_run(buckets, &mut j, run_key, run, level, &mut fresh);
    fresh
}

/// [`few_distinct`] for at most two distinct keys, by passes that vectorise instead of a
/// hash table: the first key other than the first is looked for a chunk at a time (a chunk
/// whose keys all equal the first is told by one pass over it); when there is one, one more
/// pass counts both and checks that every key is one of them. A batch of two values (a
/// payment in full or not at all) is passed over about once, not twice.
fn two_distinct(keys: &[u64]) -> Option<Vec<(u64, u64)>> {
    const CHUNK: usize = 64;
    let &a = keys.first()?;
    let other = keys
        .chunks(CHUNK)
        .find(|chunk| chunk.iter().fold(0, |acc, &k| acc | (k ^ a)) != 0)
        .and_then(|chunk| chunk.iter().find(|&&k| k != a));
    let Some(&b) = other else {
        return Some(vec![(a, keys.len() as u64)]);
    };
    let (count_a, count_b) = keys.iter().fold((0u64, 0u64), |(ca, cb), &k| {
        (ca + u64::from(k == a), cb + u64::from(k == b))
    });
    (count_a + count_b == keys.len() as u64).then(|| {
        let mut counted = vec![(a, count_a), (b, count_b)];
        counted.sort_unstable();
        counted
    })
}

/// The distinct keys with their counts, sorted by key, when there are at most `limit`
/// (many summaries take a handful of values, e.g. a tranche paid in full or not at all),
/// counted in an open-addressing hash table instead of sorted. Gives up at the first key
/// beyond `limit` distinct ones, which for continuous values comes within `limit + 1` keys.
/// The table is this thread's [`Scratch`], whose used slots are emptied again before
/// returning, so a call costs what it counts, not the table's size.
fn few_distinct(keys: &[u64], limit: usize) -> Option<Vec<(u64, u64)>> {
    // At most a quarter full, so probes are short; a zero count marks an empty slot.
    let slots = (4 * limit).next_power_of_two();
    assert!(slots <= FEW_SLOTS);
    SCRATCH.with_borrow_mut(|scratch| {
        if scratch.slot_count.len() < FEW_SLOTS {
            scratch.slot_key.resize(FEW_SLOTS, 0);
            scratch.slot_count.resize(FEW_SLOTS, 0);
        }
        let Scratch {
            slot_key,
            slot_count,
            used,
            ..
        } = scratch;
        let slot_key = slot_key.first_chunk_mut().expect("resized above");
        let slot_count = slot_count.first_chunk_mut().expect("resized above");
        used.clear();
        let counted = count_distinct(keys, limit, slots, slot_key, slot_count, used);
        let seen = counted.then(|| {
            let mut seen: Vec<(u64, u64)> =
                used.iter().map(|&i| (slot_key[i], slot_count[i])).collect();
            seen.sort_unstable();
            seen
        });
        for &i in used.iter() {
            slot_count[i] = 0;
        }
        seen
    })
}

/// Counts `keys` into the empty table `slot_key`/`slot_count`, its first `slots` (a power
/// of two) slots, listing the slots it fills in `used`; false as soon as a key beyond
/// `limit` distinct ones turns up. The tables are arrays, and every position is masked
/// below `slots` and so (as the compiler can see) below their length: no bounds checks.
fn count_distinct(
    keys: &[u64],
    limit: usize,
    slots: usize,
    slot_key: &mut [u64; FEW_SLOTS],
    slot_count: &mut [u64; FEW_SLOTS],
    used: &mut Vec<usize>,
) -> bool {
    let mask = (slots - 1) & (FEW_SLOTS - 1);
    let shift = 64 - slots.trailing_zeros();
    for &key in keys {
        // Fibonacci hashing: the top bits of key * 2^64 / phi.
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize & mask;
        loop {
            if slot_count[i] == 0 {
                if used.len() == limit {
                    return false;
                }
                used.push(i);
                slot_key[i] = key;
                slot_count[i] = 1;
                break;
            }
            if slot_key[i] == key {
                slot_count[i] += 1;
                break;
            }
            i = (i + 1) & mask;
        }
    }
    true
}

/// Per-thread working memory of the folds, kept between them instead of allocated and
/// zeroed for every fold (about 10,000 folds per million trials): the hash table of
/// [`few_distinct`] (every count zero between calls), the radix sort's second buffer
/// (every slot written before it is read) and its digit counters (only as many zeroed
/// per pass as the digit has values), and the bucket indexes of [`add_indexed`] and
/// [`add_hashed`] (emptied as far as the store needs for each fold).
#[derive(Default)]
struct Scratch {
    slot_key: Vec<u64>,
    slot_count: Vec<u64>,
    used: Vec<usize>,
    spare: Vec<u64>,
    counts: Vec<[u32; SLOTS]>,
    index: Vec<u16>,
    table: Vec<u16>,
    union: Vec<Bucket>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Adds `counted` (distinct keys with counts, sorted by key) to `buckets` at `level`, as
/// [`add_sorted`] does for the same keys listed one by one.
fn add_counted(buckets: &mut [Bucket], counted: Vec<(u64, u64)>, level: u32) -> Vec<Bucket> {
    let mut fresh = Vec::with_capacity(counted.len());
    let mut j = 0;
    let mut pairs = counted.into_iter().peekable();
    while let Some((min, mut count)) = pairs.next() {
        let key = bucket_of(min, level);
        while let Some((_, more)) = pairs.next_if(|(k, _)| bucket_of(*k, level) == key) {
            count += more;
        }
        let run = Bucket { count, min };
        add_run(buckets, &mut j, key, run, level, &mut fresh);
    }
    fresh
}

/// Inserts `fresh` (sorted, no key already in `buckets`) into the sorted `buckets`: a
/// merge from the back, so the existing buckets below the first fresh one never move.
/// A few fresh buckets among many (a store that has filled: a few dozen new ones per
/// fold) each find their place by binary search and move the buckets above them in one
/// block, instead of the buckets being compared and moved one at a time. Buckets are
/// compared by minimum: distinct buckets are in the same order as their minima.
fn insert_sorted(buckets: &mut Vec<Bucket>, fresh: &[Bucket]) {
    if fresh.is_empty() {
        return;
    }
    let few = fresh.len() * FEW_FRESH <= buckets.len();
    let mut i = buckets.len();
    // Room at the end; every slot is overwritten below.
    buckets.extend_from_slice(fresh);
    for (k, f) in fresh.iter().enumerate().rev() {
        // The k + 1 fresh buckets up to `f` all go below the existing ones above `f`.
        if few {
            let at = buckets[..i].partition_point(|b| b.min < f.min);
            buckets.copy_within(at..i, at + k + 1);
            i = at;
        } else {
            while i > 0 && buckets[i - 1].min > f.min {
                buckets[i + k] = buckets[i - 1];
                i -= 1;
            }
        }
        buckets[i + k] = *f;
    }
}

/// Sorts `keys` by bucket (`key >> level`), the order within a bucket unspecified, and
/// returns true; or returns false, leaving them as they were, when the bits where they
/// differ are too many to sort this way. Bits of the bucket that are the same in every
/// key do not affect the order, so this is an LSD radix sort over only the span of bits
/// where the keys differ, in at most [`MAX_PASSES`] digits of at most [`DIGIT_BITS`]
/// bits (a digit every key shares is skipped). Short inputs use a comparison sort.
fn sort_by_bucket(keys: &mut [u64], level: u32) -> bool {
    let Some(&first) = keys.first() else {
        return true;
    };
    let differ = bucket_of(keys.iter().fold(0, |acc, &k| acc | (k ^ first)), level);
    if differ == 0 {
        return true; // one bucket
    }
    let low = differ.trailing_zeros();
    let span = 64 - differ.leading_zeros() - low;
    let passes = span.div_ceil(DIGIT_BITS);
    if keys.len() < RADIX_MIN {
        keys.sort_unstable();
        return true;
    }
    if passes > MAX_PASSES {
        return false;
    }
    let width = span.div_ceil(passes);
    let shifts: [u32; MAX_PASSES as usize] =
        std::array::from_fn(|p| level + low + p as u32 * width);
    match passes {
        1 => radix::<1>(keys, shifts, width),
        2 => radix::<2>(keys, shifts, width),
        _ => radix::<3>(keys, shifts, width),
    }
    true
}

/// Sorts by bucket a batch [`sort_by_bucket`] found too wide and hash counting did not
/// take. Keys that differ in a high bit can still lie in a narrow range: money either side
/// of zero has keys either side of 2^63, which differ in every bit, though the amounts are
/// a few million pence apart. Measured from the smallest bucket's floor (subtracting it
/// keeps every key's bucket order and its bits within the bucket), such a batch differs in
/// only the bits of its range and is radix sorted; a batch still too wide is comparison
/// sorted. Tried only here, after the hash counting: radix sorting batches that hash
/// counting takes was measured slower (docs/performance-and-scale.md, optimisation log).
fn sort_wide(keys: &mut [u64], level: u32) {
    let lowest = keys.iter().copied().min().unwrap_or(0);
    let floor = bucket_floor(bucket_of(lowest, level), level);
    keys.iter_mut().for_each(|k| *k -= floor);
    let sorted = sort_by_bucket(keys, level);
    keys.iter_mut().for_each(|k| *k += floor);
    if !sorted {
        keys.sort_unstable();
    }
}

/// LSD radix sort of `keys` by the `PASSES` digits of `width` bits at `shifts` (lowest
/// first); bits above the top digit must be the same in every key. The second buffer is
/// this thread's [`Scratch`], and so are the counters.
fn radix<const PASSES: usize>(keys: &mut [u64], shifts: [u32; MAX_PASSES as usize], width: u32) {
    SCRATCH.with_borrow_mut(|scratch| {
        let Scratch { spare, counts, .. } = scratch;
        if spare.len() < keys.len() {
            spare.resize(keys.len(), 0);
        }
        if counts.len() < PASSES {
            counts.resize(PASSES, [0; SLOTS]);
        }
        let counts = counts.first_chunk_mut::<PASSES>().expect("resized above");
        radix_through(keys, &mut spare[..keys.len()], counts, shifts, width);
    });
}

/// [`radix`] with `spare` (as long as `keys`, any contents) as the second buffer and
/// `counts` (any contents) as the counters.
fn radix_through<const PASSES: usize>(
    keys: &mut [u64],
    spare: &mut [u64],
    counts: &mut [[u32; SLOTS]; PASSES],
    shifts: [u32; MAX_PASSES as usize],
    width: u32,
) {
    let mask = (1u64 << width) - 1;
    // `& (SLOTS - 1)` changes nothing (mask < SLOTS) and lets the compiler drop bounds checks.
    let digit = |key: u64, p: usize| ((key >> shifts[p]) & mask) as usize & (SLOTS - 1);
    for count in counts.iter_mut() {
        count[..1 << width].fill(0);
    }
    for &key in keys.iter() {
        for (p, count) in counts.iter_mut().enumerate() {
            count[digit(key, p)] += 1;
        }
    }
    let n = keys.len();
    let mut in_spare = false;
    for (p, count) in counts.iter_mut().enumerate() {
        let (from, to) = if in_spare {
            (&spare[..], &mut keys[..])
        } else {
            (&keys[..], &mut spare[..])
        };
        if count[digit(from[0], p)] as usize == n {
            continue; // every key has this digit
        }
        let mut offset = 0u32;
        for c in count.iter_mut().take(1 << width) {
            let here = *c;
            *c = offset;
            offset += here;
        }
        for &key in from {
            let slot = &mut count[digit(key, p)];
            to[*slot as usize] = key;
            *slot += 1;
        }
        in_spare = !in_spare;
    }
    if in_spare {
        keys.copy_from_slice(spare);
    }
}

#[cfg(test)]
#[path = "quantile_tests.rs"]
mod tests;
