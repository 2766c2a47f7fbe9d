//! Character n-gram model of the Latin-script languages we label most: en fr de es pt id
//! ms tl vi, plus Vietnamese written without diacritics ("vi-ascii").
//!
//! Each language is a 5-gram model over `^word$` (lower-cased letters with word-boundary
//! marks), interpolated Witten-Bell, stored ARPA-style: a log probability for every kept
//! n-gram and a back-off weight for every kept history. The tables are derived from
//! lingua-rs's Apache-2.0 language models by `data/build_model.py` (see `data/README.md`)
//! and embedded compressed (~2.6 MB); they are unpacked once per process.
//!
//! A text's score under a language is the sum of its words' log probabilities, each word
//! weighted (names count less, see `super::detect`). Comparing these scores is naive Bayes
//! with equal priors; callers add priors (document language, neighbouring lines).
//!
//! Scoring a word takes a table lookup per n-gram, mostly cache misses, so
//! `super::detect` keeps the scores of the words each thread met last.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::clean::counts::{prefetch, CountTable};

/// The packed model, written by `data/build_model.py`.
const PACKED: &[u8] = include_bytes!("data/latin.qlm");

/// Longest n-gram, counting the boundary marks.
const ORDER: usize = 5;
/// Start- and end-of-word marks; letters never take these values.
const BOW: char = '^';
const EOW: char = '$';
/// Most languages a model file may hold (scores live in fixed arrays).
pub const MAX_LANGS: usize = 16;

/// Scores per model language, in [`Model::codes`] order.
pub type Scores = [f32; MAX_LANGS];

/// The unpacked model.
pub struct Model {
    /// ISO 639-1 code per model language; the two Vietnamese variants both say "vi".
    codes: Vec<&'static str>,
    /// Log probability of a symbol the language never showed.
    unk: Vec<f32>,

    /// n-gram hash → (first entry, number of entries), [`pack`]ed. Suffix-closed: the
    /// n-gram without its first symbol of every key is a key too (with no entries where
    /// no language kept it), so a lookup that misses ends the search for longer n-grams.
    /// A flat table: a lookup reads one slot, which can be fetched ahead of it.
    index: CountTable<u64>,
    /// (language, −10·log p, −10·log back-off) per n-gram and language that kept it.
    entries: Vec<[u8; 3]>,
    /// Quantised value → log value.
    dequant: [f32; 256],
    /// Tells this model's scores from another's in caches.
    id: u64,
}

/// The process-wide model, or why it could not be read (only a corrupt build can fail).
pub fn shared() -> Result<&'static Model, &'static str> {
    static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| Model::unpack(PACKED))
        .as_ref()
        .map_err(String::as_str)
}

impl Model {
    /// Decode the zlib-compressed table (format in `data/build_model.py`).
    fn unpack(packed: &[u8]) -> Result<Model, String> {
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(packed)
            .read_to_end(&mut raw)
            .map_err(|e| format!("language model: {e}"))?;
        let mut r = Reader { buf: &raw, pos: 0 };
        let (codes, unk, n_keys) = read_header(&mut r)?;
        let n_langs = codes.len();
        // Each key takes at least three bytes: a count beyond that is a corrupt table, and
        // the buffers are sized by what the bytes can hold.
        let n_keys_max = n_keys.min(raw.len() / 3);
        // Two passes over the keys: read them all, then place them in the table. Placed as
        // they were read, each key's slot (random in a table far larger than the cache) was
        // one cache miss after another, three quarters of the unpacking; placed from a list,
        // the slot of the key a few places ahead is fetched while this one is placed.
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(n_keys_max);
        // The hashes of each key's proper suffixes, longest first, `suffix_ends[i]` ending
        // key `i`'s (keys have at most ORDER symbols).
        let mut suffixes: Vec<u64> = Vec::with_capacity(n_keys_max * (ORDER - 1));
        let mut suffix_ends: Vec<u32> = Vec::with_capacity(n_keys_max);
        let mut entries = Vec::with_capacity(n_keys_max * 3);
        read_keys(&mut r, n_keys, n_langs, &mut entries, |text, value| {
            keys.push((hash_chars(text.chars()), value));
            let mut rest = text.chars();
            rest.next();
            while rest.as_str().chars().next().is_some() {
                suffixes.push(hash_chars(rest.clone()));
                rest.next();
            }
            suffix_ends
                .push(u32::try_from(suffixes.len()).map_err(|_| "language model: too many keys")?);
            Ok(())
        })?;
        // A few suffixes are added to the keys (below).
        let mut index = CountTable::with_capacity(keys.len() + keys.len() / 64);
        const AHEAD: usize = 16;
        for (i, &(h, value)) in keys.iter().enumerate() {
            if let Some(&(ahead, _)) = keys.get(i + AHEAD) {
                index.prefetch(ahead);
            }
            index.set(h, value);
        }
        // Close the table under suffixes (a handful of Vietnamese n-grams lack theirs): a
        // suffix that is not a key gets an entry with no languages. A chain stops at the
        // first suffix present, whose own suffixes are there or added from its own chain.
        let empty = pack(entries.len() as u32, 0)?;
        let mut from = 0;
        for (i, &end) in suffix_ends.iter().enumerate() {
            // The chain of key `i + AHEAD` starts where key `i + AHEAD - 1`'s ends.
            if let Some(&ahead) = suffix_ends
                .get(i + AHEAD - 1)
                .and_then(|&e| suffixes.get(e as usize))
            {
                index.prefetch(ahead);
            }
            let chain = suffixes.get(from..end as usize).unwrap_or(&[]);
            from = end as usize;
            for &h in chain {
                if index.get(h) != 0 {
                    break;
                }
                index.set(h, empty);
            }
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(Model {
            codes,
            unk,
            index,
            entries,
            dequant: std::array::from_fn(|q| -(q as f32) / 10.0),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// ISO 639-1 code of each model language, in score order.
    pub fn codes(&self) -> &[&'static str] {
        &self.codes
    }

    /// Tells this model from another (a cache of its scores keys on it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Set `out[l]` to log P(`word`) under every model language `l`. `word` holds
    /// lower-case letters only.
    ///
    /// The table is far larger than the core's cache and nearly every lookup misses it:
    /// all the word's n-grams are hashed and their slots asked for first, then looked up,
    /// their entries asked for, and only then scored, so the misses overlap.
    pub fn word_logprob(&self, word: &[char], out: &mut Scores) {
        let n = self.codes.len();
        out[..n].fill(0.0);
        // Symbols ^ w1 .. wk $; the symbol at position i is predicted from the up to
        // ORDER-1 symbols before it.
        let len = word.len() + 2;
        let sym = |i: usize| -> char {
            if i == 0 {
                BOW
            } else if i == len - 1 {
                EOW
            } else {
                word[i - 1]
            }
        };
        // At position i: the hashes of the n-grams of length k+1 ending there, then
        // their table entries (None from the first missing length on).
        let (mut fixed_hashes, mut fixed_slots) = (
            [[0u64; ORDER]; FIXED_POSITIONS],
            [[None; ORDER]; FIXED_POSITIONS],
        );
        let (mut heap_hashes, mut heap_slots);
        let (hashes, slots): (&mut [[u64; ORDER]], &mut [Slots]) = if len <= FIXED_POSITIONS {
            (&mut fixed_hashes[..len], &mut fixed_slots[..len])
        } else {
            heap_hashes = vec![[0u64; ORDER]; len];
            heap_slots = vec![[None; ORDER]; len];
            (&mut heap_hashes, &mut heap_slots)
        };
        // raw[k]: the unfinished hash of the n-gram of length k+1 ending at the previous
        // position; appending a symbol extends it.
        let mut raw = [0u64; ORDER];
        for (i, at) in hashes.iter_mut().enumerate() {
            let c = sym(i);
            let mut next = [0u64; ORDER];
            next[0] = hash_step(HASH_SEED, c);
            for k in 1..=i.min(ORDER - 1) {
                next[k] = hash_step(raw[k - 1], c);
            }
            for k in 0..=i.min(ORDER - 1) {
                at[k] = finish(next[k]);
                self.index.prefetch(at[k]);
            }
            raw = next;
        }
        // Shortest first: the table is suffix-closed, so past the first missing n-gram
        // every longer one is missing too.
        for (i, (at, slot)) in hashes.iter().zip(slots.iter_mut()).enumerate() {
            for k in 0..=i.min(ORDER - 1) {
                match unpack_slot(self.index.get(at[k])) {
                    Some(found) => {
                        self.prefetch_entries(found);
                        slot[k] = Some(found);
                    }
                    None => break,
                }
            }
        }
        let mut done = [false; MAX_LANGS];
        let mut bow = [[0f32; MAX_LANGS]; ORDER];
        for i in 1..len {
            let max_k = i.min(ORDER - 1);
            // cur[k]: the entries of the n-gram of length k+1 ending at this position;
            // prev[k] the same for the previous position: the histories whose back-off
            // weights apply when a longer n-gram is missing.
            let (prev, cur) = (&slots[i - 1], &slots[i]);
            // Back-off weight of history sym(i-j .. i), j = 1..=max_k: the n-gram of
            // length j ending at i-1, i.e. prev[j-1]. Missing histories weigh nothing.
            for j in 1..=max_k {
                bow[j][..n].fill(0.0);
                for e in self.entries_of(prev[j - 1]) {
                    bow[j][usize::from(e[0])] = self.dequant[usize::from(e[2])];
                }
            }
            // Longest n-gram first: each language takes the first one it kept, plus the
            // back-off weights of the longer histories it passed.
            done[..n].fill(false);
            let mut pending = n;
            for k in (0..=max_k).rev() {
                for e in self.entries_of(cur[k]) {
                    let l = usize::from(e[0]);
                    if !done[l] {
                        done[l] = true;
                        pending -= 1;
                        let skipped: f32 = bow[k + 1..=max_k].iter().map(|b| b[l]).sum();
                        out[l] += self.dequant[usize::from(e[1])] + skipped;
                    }
                }
                if pending == 0 {
                    break;
                }
            }
            // A symbol a language never showed at all.
            for l in (0..n).filter(|&l| !done[l]) {
                let skipped: f32 = bow[1..=max_k].iter().map(|b| b[l]).sum();
                out[l] += self.unk[l] + skipped;
            }
        }
    }

    /// Ask the memory for the entries of a slot ahead of their reading.
    fn prefetch_entries(&self, (start, _): (u32, u8)) {
        if let Some(e) = self.entries.get(start as usize) {
            prefetch(e);
        }
    }

    fn entries_of(&self, slot: Slot) -> &[[u8; 3]] {
        match slot {
            Some((start, m)) => {
                let start = start as usize;
                self.entries
                    .get(start..start + usize::from(m))
                    .unwrap_or(&[])
            }
            None => &[],
        }
    }
}

/// The table's languages (codes and unseen-symbol log probabilities) and its key count.
fn read_header(r: &mut Reader<'_>) -> Result<(Vec<&'static str>, Vec<f32>, usize), String> {
    if r.take(4)? != b"QLM1" {
        return Err("language model: bad magic".into());
    }
    let n_langs = usize::from(r.u8()?);
    if n_langs == 0 || n_langs > MAX_LANGS {
        return Err(format!("language model: {n_langs} languages"));
    }
    let mut codes = Vec::with_capacity(n_langs);
    let mut unk = Vec::with_capacity(n_langs);
    for _ in 0..n_langs {
        let len = usize::from(r.u8()?);
        let name = std::str::from_utf8(r.take(len)?)
            .map_err(|_| "language model: bad language name".to_string())?;
        codes.push(static_code(name)?);
        unk.push(f32::from_le_bytes(r.array()?));
    }
    let n_keys = u32::from_le_bytes(r.array()?) as usize;
    Ok((codes, unk, n_keys))
}

/// Read `n_keys` keys of the table (format in `data/build_model.py`: each key shares a
/// prefix with the one before it), appending their entries to `entries` and giving `each`
/// the key's text and its [`pack`]ed slot value.
fn read_keys(
    r: &mut Reader<'_>,
    n_keys: usize,
    n_langs: usize,
    entries: &mut Vec<[u8; 3]>,
    mut each: impl FnMut(&str, u32) -> Result<(), String>,
) -> Result<(), String> {
    let mut key: Vec<u8> = Vec::with_capacity(32);
    for _ in 0..n_keys {
        let shared = usize::from(r.u8()?);
        let suffix = usize::from(r.u8()?);
        if shared > key.len() {
            return Err("language model: bad key prefix".into());
        }
        key.truncate(shared);
        key.extend_from_slice(r.take(suffix)?);
        let text = std::str::from_utf8(&key)
            .map_err(|_| "language model: key is not UTF-8".to_string())?;
        let m = r.u8()?;
        let start = entries.len() as u32;
        for _ in 0..m {
            let e: [u8; 3] = r.array()?;
            if usize::from(e[0]) >= n_langs {
                return Err("language model: bad language index".into());
            }
            entries.push(e);
        }
        each(text, pack(start, m)?)?;
    }
    Ok(())
}

/// Map a model language name to its ISO 639-1 code.
fn static_code(name: &str) -> Result<&'static str, String> {
    Ok(match name {
        "en" => "en",
        "fr" => "fr",
        "de" => "de",
        "es" => "es",
        "pt" => "pt",
        "id" => "id",
        "ms" => "ms",
        "tl" => "tl",
        "vi" | "vi-ascii" => "vi",
        other => return Err(format!("language model: unknown language {other:?}")),
    })
}

const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over code points.
fn hash_step(h: u64, c: char) -> u64 {
    (h ^ u64::from(u32::from(c))).wrapping_mul(0x0100_0000_01b3)
}

/// Spread the bits, since the table hashes keys by identity.
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

fn hash_chars(chars: impl Iterator<Item = char>) -> u64 {
    finish(chars.fold(HASH_SEED, hash_step))
}

/// The table entries of one n-gram: its first entry and how many there are.
type Slot = Option<(u32, u8)>;

/// The entries of the n-grams of lengths 1 to [`ORDER`] ending at one position.
type Slots = [Slot; ORDER];

/// Positions of the words scored without a heap buffer (up to 30 letters: nearly all).
const FIXED_POSITIONS: usize = 32;

// A slot's entry count must stay below `pack`'s multiplier, or `unpack_slot` would read it
// back wrong.
const _: () = assert!(MAX_LANGS < 32);

/// An index value: the first entry times 32 plus the number of entries (at most
/// [`MAX_LANGS`]), plus one (0 is an empty slot of the table).
fn pack(start: u32, m: u8) -> Result<u32, String> {
    start
        .checked_mul(32)
        .and_then(|v| v.checked_add(u32::from(m) + 1))
        .filter(|_| usize::from(m) <= MAX_LANGS)
        .ok_or_else(|| "language model: too many entries".to_string())
}

/// The (first entry, number of entries) a [`pack`]ed value holds; `None` for 0.
fn unpack_slot(v: u32) -> Slot {
    let v = v.checked_sub(1)?;
    Some((v / 32, (v % 32) as u8))
}

/// Bounds-checked reads from the unpacked table.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err("language model: truncated".into()),
        }
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn best(m: &Model, text: &str) -> &'static str {
        let mut s = [0f32; MAX_LANGS];
        let mut word = [0f32; MAX_LANGS];
        for w in text.split_whitespace() {
            let w: Vec<char> = w.chars().flat_map(char::to_lowercase).collect();
            m.word_logprob(&w, &mut word);
            for (a, b) in s.iter_mut().zip(word) {
                *a += b;
            }
        }
        let n = m.codes().len();
        let i = (0..n).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap_or(0);
        m.codes()[i]
    }

    #[test]
    fn model_unpacks_and_separates_languages() {
        let m = shared().unwrap();
        assert_eq!(m.codes().len(), 10);
        assert_eq!(best(m, "the house is on the hill"), "en");
        assert_eq!(best(m, "la maison est sur la colline"), "fr");
        assert_eq!(best(m, "das haus steht auf dem hügel"), "de");
        assert_eq!(best(m, "la casa está en la colina"), "es");
        assert_eq!(best(m, "a casa fica no morro"), "pt");
        assert_eq!(best(m, "ngôi nhà ở trên đồi"), "vi");
        assert_eq!(best(m, "ngoi nha o tren doi"), "vi");
        assert_eq!(best(m, "ang bahay ay nasa burol"), "tl");
    }

    /// The scoring as first written: every n-gram hashed from scratch and looked up at
    /// every length, no table closure relied on.
    fn reference_logprob(m: &Model, word: &[char]) -> Scores {
        let n = m.codes.len();
        let mut out = [0f32; MAX_LANGS];
        let len = word.len() + 2;
        let sym = |i: usize| match i {
            0 => BOW,
            i if i == len - 1 => EOW,
            i => word[i - 1],
        };
        let get = |chars: &[char]| unpack_slot(m.index.get(hash_chars(chars.iter().copied())));
        let mut prev: [Option<(u32, u8)>; ORDER] = [None; ORDER];
        prev[0] = get(&[BOW]);
        for i in 1..len {
            let max_k = i.min(ORDER - 1);
            let mut cur = [None; ORDER];
            for (k, slot) in cur.iter_mut().enumerate().take(max_k + 1) {
                let gram: Vec<char> = (i - k..=i).map(sym).collect();
                *slot = get(&gram);
            }
            let mut bow = [[0f32; MAX_LANGS]; ORDER];
            for j in 1..=max_k {
                for e in m.entries_of(prev[j - 1]) {
                    bow[j][usize::from(e[0])] = -f32::from(e[2]) / 10.0;
                }
            }
            let mut done = [false; MAX_LANGS];
            for k in (0..=max_k).rev() {
                for e in m.entries_of(cur[k]) {
                    let l = usize::from(e[0]);
                    if !done[l] {
                        done[l] = true;
                        let skipped: f32 = bow[k + 1..=max_k].iter().map(|b| b[l]).sum();
                        out[l] += -f32::from(e[1]) / 10.0 + skipped;
                    }
                }
            }
            for l in (0..n).filter(|&l| !done[l]) {
                let skipped: f32 = bow[1..=max_k].iter().map(|b| b[l]).sum();
                out[l] += m.unk[l] + skipped;
            }
            prev = cur;
        }
        out
    }

    /// The table placed from a list of keys holds what placing each key as it was read
    /// gave (then every suffix missing so far got an empty entry at once): the same keys
    /// with the same entries, the same empty suffixes, nothing else.
    #[test]
    fn unpacked_index_is_the_key_by_key_closure() {
        let m = shared().unwrap();
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(PACKED)
            .read_to_end(&mut raw)
            .unwrap();
        let mut r = Reader { buf: &raw, pos: 0 };
        let (codes, _, n_keys) = read_header(&mut r).unwrap();
        let mut entries = Vec::new();
        let mut reference: HashMap<u64, u32> = HashMap::new();
        read_keys(&mut r, n_keys, codes.len(), &mut entries, |text, value| {
            reference.insert(hash_chars(text.chars()), value);
            let mut rest = text.chars();
            rest.next();
            while rest.as_str().chars().next().is_some() {
                let h = hash_chars(rest.clone());
                if reference.contains_key(&h) {
                    break;
                }
                reference.insert(h, pack(0, 0).unwrap());
                rest.next();
            }
            Ok(())
        })
        .unwrap();
        assert!(n_keys > 100_000, "{n_keys} keys");
        assert!(reference.len() > n_keys, "some suffixes were added");
        assert_eq!(m.entries, entries);
        assert_eq!(m.index.len(), reference.len());
        for (&h, &want) in &reference {
            let (want, got) = (unpack_slot(want), unpack_slot(m.index.get(h)));
            match (want, got) {
                (Some((_, 0)), Some((_, 0))) => {}
                _ => assert_eq!(got, want, "slot of {h:x}"),
            }
        }
    }

    #[test]
    fn fast_scoring_matches_the_reference_exactly() {
        let m = shared().unwrap();
        let words = [
            "",
            "a",
            "the",
            "house",
            "nghiêng",
            "người",
            "khuyến",
            "ngoeo",
            "đường",
            "ẩm",
            "straße",
            "coração",
            "qqqq",
            "xzwv",
            "internationalisation",
            "ſ",
            "ǎǒǔ",
            "ｍ",
            "thương",
            "trường",
            "oằn",
            "khuỷu",
            // The n-grams "ađ$", "cð$", ... are kept but "đ$" is not: the filled-in gaps.
            "ađ",
            "tđ",
            "cð",
            "đđ",
            "ccđ",
            "đ",
        ];
        // Around the longest word scored without a heap buffer.
        let long: Vec<String> = [
            FIXED_POSITIONS - 3,
            FIXED_POSITIONS - 2,
            FIXED_POSITIONS - 1,
            61,
        ]
        .iter()
        .map(|&n| "nghiêngthương".chars().cycle().take(n).collect())
        .collect();
        for w in words.iter().copied().chain(long.iter().map(String::as_str)) {
            let chars: Vec<char> = w.chars().collect();
            let mut fast = [0f32; MAX_LANGS];
            m.word_logprob(&chars, &mut fast);
            let slow = reference_logprob(m, &chars);
            assert_eq!(
                fast.map(f32::to_bits),
                slow.map(f32::to_bits),
                "{w}: {fast:?} vs {slow:?}"
            );
        }
    }

    #[test]
    fn corrupt_tables_are_errors_not_panics() {
        assert!(Model::unpack(b"not zlib").is_err());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, b"QLM1\x01\x02en").unwrap();
        let truncated = z.finish().unwrap();
        assert!(Model::unpack(&truncated).is_err());
    }
}
