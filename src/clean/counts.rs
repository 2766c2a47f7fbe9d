//! Occurrence counts keyed by numbers, for the corpus word statistics.
//!
//! The statistics pass bumps a few counts per word of every kept article, one thread in
//! input order, in tables of millions of entries: nearly every bump is a cache miss, and
//! a general hash map gives no way to fetch an entry ahead of time. This table places a
//! key by its own hash, so the caller can [`prefetch`](CountTable::prefetch) the slot of
//! a key a few bumps before it bumps it, and the misses overlap instead of queueing.
//! Tables of other small numbers by key use it for the same reason: the glued-word
//! memo, the lexicon's ranks, the language model's n-gram index.

/// Ask the memory for the cache lines of `item` now, so that reading it later finds
/// them in the core's cache: the lookups of one item after another in a table larger
/// than the cache then wait for their misses together, not one after the other.
#[inline(always)]
pub(crate) fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        const LINE: usize = 64;
        let start = (item as *const T).cast::<i8>();
        let addr = start as usize;
        // One hint per line the item touches: one for a small item inside a line.
        let first = addr & !(LINE - 1);
        let last = (addr + std::mem::size_of::<T>().max(1) - 1) & !(LINE - 1);
        for line in (first..=last).step_by(LINE) {
            // SAFETY: a prefetch is a hint: it reads nothing and cannot fault.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    start.wrapping_add(line.wrapping_sub(addr)),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}

/// Hand `items` to `each_batch` up to `N` at a time, in order. A caller that looks each
/// item up in a table larger than the cache asks for all of a batch's slots first, then
/// looks them up: the misses of a batch overlap.
pub(crate) fn in_batches<T: Copy + Default, const N: usize>(
    items: impl IntoIterator<Item = T>,
    mut each_batch: impl FnMut(&[T]),
) {
    let mut items = items.into_iter();
    let mut batch = [T::default(); N];
    loop {
        let mut n = 0;
        for item in items.by_ref() {
            batch[n] = item;
            n += 1;
            if n == N {
                break;
            }
        }
        if n == 0 {
            return;
        }
        each_batch(&batch[..n]);
        if n < N {
            return;
        }
    }
}

/// A key the table can place: a fixed-width number, hashed by a fixed function (the same
/// slots on every run).
pub(crate) trait CountKey: Copy + Eq + Default {
    /// 64 well-mixed bits; the table takes its slot from the top ones.
    fn mix(self) -> u64;
}

/// Pair keys are hashes already (`foldhash::quality`): the multiply only spreads keys
/// that differ in their low bits alone.
impl CountKey for u64 {
    #[inline(always)]
    fn mix(self) -> u64 {
        self.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// Short words, as their bytes: a folded 128-bit multiply of the two halves.
impl CountKey for (u64, u64) {
    #[inline(always)]
    fn mix(self) -> u64 {
        let p =
            u128::from(self.0 ^ 0x243F_6A88_85A3_08D3) * u128::from(self.1 ^ 0x1319_8A2E_0370_7344);
        (p as u64) ^ ((p >> 64) as u64)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot<K> {
    key: K,
    /// 0 for an empty slot: a stored count is at least 1.
    count: u32,
}

/// Counts by key, open addressing with linear probing; at most three quarters full.
#[derive(Debug, Clone)]
pub(crate) struct CountTable<K> {
    slots: Vec<Slot<K>>,
    /// `64 - log2(slots.len())`: a key's home slot is the top bits of its mix.
    shift: u32,
    len: usize,
    /// Times the table forgot keys to make room (for tests: they must stay few).
    forgets: usize,
}

impl<K: CountKey> Default for CountTable<K> {
    fn default() -> Self {
        Self::with_slots(16)
    }
}

impl<K: CountKey> CountTable<K> {
    fn with_slots(n: usize) -> Self {
        let n = n.next_power_of_two().max(16);
        CountTable {
            slots: vec![Slot::default(); n],
            shift: 64 - n.trailing_zeros(),
            len: 0,
            forgets: 0,
        }
    }

    /// An empty table with room for `keys` keys before it grows.
    pub fn with_capacity(keys: usize) -> Self {
        Self::with_slots((keys * 4).div_ceil(3) + 1)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn home(&self, key: K) -> usize {
        (key.mix() >> self.shift) as usize
    }

    /// The slot holding `key`, or the empty slot where it would go.
    #[inline(always)]
    fn find(&self, key: K) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = &self.slots[i];
            if s.count == 0 || s.key == key {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// Ask the memory for `key`'s home slot now; a later [`get`](Self::get) or
    /// [`bump`](Self::bump) of it then finds it in the cache.
    #[inline(always)]
    pub fn prefetch(&self, key: K) {
        if let Some(s) = self.slots.get(self.home(key)) {
            prefetch(s);
        }
    }

    /// Occurrences counted for `key`.
    #[inline]
    pub fn get(&self, key: K) -> u32 {
        self.slots[self.find(key)].count
    }

    /// Add one to `key`. A new key when the table already holds `cap` keys first makes
    /// room: the rarest keys are forgotten (see [`forget_threshold`]).
    #[inline]
    pub fn bump(&mut self, key: K, cap: usize) {
        let i = self.find(key);
        if self.slots[i].count != 0 {
            let c = &mut self.slots[i].count;
            *c = c.saturating_add(1);
            return;
        }
        if self.len >= cap {
            let mut classes = CountClasses::default();
            self.add_classes(&mut classes);
            self.forget_up_to(forget_threshold(&classes, self.len));
            return self.insert_new(key);
        }
        if self.one_more_overfills() {
            return self.insert_new(key);
        }
        self.slots[i] = Slot { key, count: 1 };
        self.len += 1;
    }

    /// Give `key` the value `value` (not 0, which marks an empty slot), adding it if
    /// absent and growing the slots as need be; never forgets. For tables of small
    /// numbers other than counts (a memo's answers, a vocabulary's ranks), which a lookup
    /// then finds in one slot, where a general hash map reads a control byte and a bucket
    /// apart, two cache misses on a table larger than the core's cache.
    pub fn set(&mut self, key: K, value: u32) {
        debug_assert_ne!(value, 0);
        let i = self.find(key);
        if self.slots[i].count != 0 {
            self.slots[i].count = value;
            return;
        }
        self.insert_new(key);
        let i = self.find(key);
        self.slots[i].count = value;
    }

    /// Forget every key, keeping the slots.
    pub fn clear(&mut self) {
        self.slots.fill(Slot::default());
        self.len = 0;
    }

    /// Whether one more key would fill the slots past three quarters.
    fn one_more_overfills(&self) -> bool {
        (self.len + 1) * 4 > self.slots.len() * 3
    }

    /// Insert a key known to be absent, with count 1, growing the slots if need be (the
    /// caller has kept the keys under its cap).
    fn insert_new(&mut self, key: K) {
        if self.one_more_overfills() {
            self.rebuild(self.slots.len() * 2, |_| true);
        }
        let i = self.find(key);
        self.slots[i] = Slot { key, count: 1 };
        self.len += 1;
    }

    /// Add this table's entries to `classes`.
    pub fn add_classes(&self, classes: &mut CountClasses) {
        for s in &self.slots {
            if s.count != 0 {
                classes.add(s.count);
            }
        }
    }

    /// Forget the keys counted `t` times or fewer.
    pub fn forget_up_to(&mut self, t: u32) {
        self.rebuild(self.slots.len(), |c| c > t);
        self.forgets += 1;
    }

    /// The same table in `slots` slots, holding the keys whose counts `keep` accepts.
    fn rebuild(&mut self, slots: usize, keep: impl Fn(u32) -> bool) {
        let old = std::mem::replace(self, Self::with_slots(slots));
        self.forgets = old.forgets;
        for s in old.slots {
            if s.count != 0 && keep(s.count) {
                let i = self.find(s.key);
                self.slots[i] = s;
                self.len += 1;
            }
        }
    }
}

/// How many entries have counts of each bit length (1 to 32): enough to choose what a
/// full table forgets without sorting its counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountClasses([usize; 33]);

impl Default for CountClasses {
    fn default() -> Self {
        CountClasses([0; 33])
    }
}

impl CountClasses {
    pub fn add(&mut self, count: u32) {
        self.0[(u32::BITS - count.leading_zeros()) as usize] += 1;
    }
}

/// The count at or below which a full table forgets its keys: 1 (the keys seen once, the
/// long tail of names and typos) when they are at least a quarter of the `len` entries,
/// else the least `2^b - 1` that frees a quarter. Freeing a quarter each time keeps the
/// rebuilds few (one per `cap / 4` new keys): forgetting only the keys seen once freed
/// nothing once every key left repeated, and then every new key cost a scan of the whole
/// table.
pub(crate) fn forget_threshold(classes: &CountClasses, len: usize) -> u32 {
    let need = len.div_ceil(4).max(1);
    let mut covered = 0;
    for (bits, &n) in classes.0.iter().enumerate().skip(1) {
        covered += n;
        if covered >= need {
            return u32::MAX >> (u32::BITS as usize - bits);
        }
    }
    u32::MAX
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn batches_are_the_items_in_order_none_empty_none_too_long() {
        for len in 0..=13 {
            let mut seen = Vec::new();
            let mut sizes = Vec::new();
            in_batches::<_, 4>(0..len, |b| {
                seen.extend_from_slice(b);
                sizes.push(b.len());
            });
            assert_eq!(seen, (0..len).collect::<Vec<_>>());
            assert!(
                sizes.iter().all(|&n| (1..=4).contains(&n)),
                "{len}: {sizes:?}"
            );
            assert_eq!(sizes.len(), (len as usize).div_ceil(4));
        }
    }

    /// The semantics the table replaces: a hash map bumped the same way.
    pub(crate) fn reference_bump<K: std::hash::Hash + Eq, S: std::hash::BuildHasher>(
        map: &mut HashMap<K, u32, S>,
        key: K,
        cap: usize,
    ) {
        if let Some(c) = map.get_mut(&key) {
            *c = c.saturating_add(1);
            return;
        }
        if map.len() >= cap {
            // Sort the counts: the least t among 1, 3, 7, ... with a quarter at or below it.
            let mut counts: Vec<u32> = map.values().copied().collect();
            counts.sort_unstable();
            let quarter = counts[map.len().div_ceil(4) - 1];
            let t = (1..=32u32)
                .map(|b| u32::MAX >> (32 - b))
                .find(|&t| t >= quarter)
                .unwrap_or(u32::MAX);
            map.retain(|_, c| *c > t);
        }
        map.insert(key, 1);
    }

    fn check<K: CountKey + std::hash::Hash + std::fmt::Debug>(make: impl Fn(u64) -> K) {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for cap in [1usize, 7, 100, 1000, 50_000] {
            let mut table = CountTable::<K>::default();
            let mut reference = HashMap::new();
            for step in 0..40_000u64 {
                // A skewed draw: a few keys often, many once (as words are).
                let r = next();
                let key = make(match r % 4 {
                    0 => r % 16,
                    1 => r % 500,
                    _ => next() % 100_000,
                });
                table.prefetch(key);
                table.bump(key, cap);
                reference_bump(&mut reference, key, cap);
                assert_eq!(table.len(), reference.len(), "cap {cap} step {step}");
            }
            for (k, c) in &reference {
                assert_eq!(table.get(*k), *c, "cap {cap} key {k:?}");
            }
            for probe in 0..2000 {
                let key = make(200_000 + probe);
                assert_eq!(table.get(key), 0);
            }
        }
    }

    #[test]
    fn counts_and_forgets_as_a_hash_map_does() {
        check(|x| x);
        check(|x| (x, x.wrapping_mul(3) ^ 0xFF));
        // Keys equal in all but their high bits, and the zero key.
        check(|x| x << 40);
        check(|x| (0, x));
    }

    /// Values set, overwritten and cleared read back as a hash map's do, across growth.
    #[test]
    fn set_keeps_values_as_a_hash_map_does() {
        let mut t = CountTable::<(u64, u64)>::default();
        let mut reference = HashMap::new();
        for round in 0..2u64 {
            for k in 0..5000u64 {
                let key = (k.wrapping_mul(0x9E37_79B9), round ^ (k >> 3));
                let value = (k % 7 + 1) as u32;
                t.set(key, value);
                reference.insert(key, value);
                if k % 3 == 0 {
                    t.set(key, value + 10);
                    reference.insert(key, value + 10);
                }
            }
            assert_eq!(t.len(), reference.len());
            for (k, v) in &reference {
                assert_eq!(t.get(*k), *v);
            }
            assert_eq!(t.get((u64::MAX, u64::MAX)), 0);
            t.clear();
            reference.clear();
            assert_eq!(t.len(), 0);
            assert_eq!(t.get((0, round)), 0);
        }
    }

    /// Once every key repeats, forgetting the keys seen once frees nothing: the table must
    /// still count each new key, and make room a quarter at a time, not once per key.
    #[test]
    fn a_table_of_repeated_keys_still_counts_new_ones() {
        let cap = 1000;
        let mut t = CountTable::<u64>::default();
        for round in 0..3 {
            for k in 0..cap as u64 {
                t.bump(k, cap);
                assert_eq!(t.get(k), round + 1);
            }
        }
        for k in 1_000_000..1_010_000u64 {
            t.bump(k, cap);
            assert_eq!(t.get(k), 1, "new key {k} not counted");
            assert!(t.len() <= cap);
        }
        // 10,000 new keys, at least 250 of room each time.
        assert!(t.forgets <= 41, "{} rebuilds", t.forgets);
        // The repeated keys were forgotten only as a quarter of the table at a time.
        assert!(t.forgets >= 10);
    }

    #[test]
    fn thresholds_free_a_quarter() {
        let classes = |counts: &[u32]| {
            let mut c = CountClasses::default();
            counts.iter().for_each(|&n| c.add(n));
            c
        };
        assert_eq!(forget_threshold(&classes(&[1, 1, 5, 9]), 4), 1);
        assert_eq!(forget_threshold(&classes(&[2, 3, 5, 9]), 4), 3);
        assert_eq!(forget_threshold(&classes(&[4, 9, 9, 9]), 4), 7);
        assert_eq!(forget_threshold(&classes(&[u32::MAX; 4]), 4), u32::MAX);
        assert_eq!(forget_threshold(&classes(&[]), 0), u32::MAX);
    }

    #[test]
    fn counts_saturate() {
        let mut t = CountTable::<u64>::default();
        t.bump(5, 10);
        let i = t.find(5);
        t.slots[i].count = u32::MAX;
        t.bump(5, 10);
        assert_eq!(t.get(5), u32::MAX);
    }
}
