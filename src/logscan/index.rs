//! The literal index: which signatures' literals occur in a line, found 4 bytes at a time
//! through a bit filter and verified byte for byte.

use super::fx::FxMap;
use super::quickmatch::same_bytes;

/// Which of a set of literals occur in a text: a Rabin-Karp style multi-literal search.
/// Each literal is indexed by one 4-byte window of it (its "anchor", chosen to be rare in
/// logs: the window least frequent in a sample of log text, here the catalogue's example
/// lines; "from" or "mail" would be met on every other line and each time cost a compare
/// of every literal it anchors); the text is scanned 4 bytes at a time against an 8 KiB
/// bit filter that stays in L1 cache, and only filter hits are looked up (a flat table, no hashing beyond the
/// filter's) and compared byte for byte. About twice as fast on log lines as an overlapping
/// Aho-Corasick DFA over the same literals, and exact: every occurrence of a literal
/// contains its anchor, and every hit is compared byte for byte.
#[derive(Clone, Debug)]
pub struct LiteralIndex {
    /// All literals, back to back; `spans[i]` is literal `i`'s range.
    pub(super) bytes: Vec<u8>,
    pub(super) spans: Vec<(u32, u32)>,
    pub(super) bloom: Box<[u64; BLOOM_WORDS]>,
    /// The anchors grouped by bucket (the filter slot's high bits): bucket `b` holds
    /// `anchors[heads[b]..heads[b + 1]]`.
    pub(super) heads: Box<[u16; BUCKETS + 1]>,
    pub(super) anchors: Vec<Anchor>,
    /// Literals shorter than an anchor: searched for directly.
    pub(super) short: Vec<u16>,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Anchor {
    pub(super) window: u32,
    pub(super) literal: u16,
    /// Where the anchor starts in the literal.
    pub(super) offset: u16,
}

pub(super) const BLOOM_BITS: u32 = 16;
pub(super) const BLOOM_WORDS: usize = 1 << (BLOOM_BITS - 6);
pub(super) const BUCKET_BITS: u32 = 12;
pub(super) const BUCKETS: usize = 1 << BUCKET_BITS;

#[inline(always)]
pub(super) fn bloom_slot(w: u32) -> usize {
    (w.wrapping_mul(0x9E37_79B1) >> (32 - BLOOM_BITS)) as usize
}

#[inline(always)]
pub(super) fn anchor_bucket(slot: usize) -> usize {
    slot >> (BLOOM_BITS - BUCKET_BITS)
}

impl LiteralIndex {
    /// The index of `literals`, their anchors chosen by their frequency in `sample`.
    pub fn new<'a, 's>(literals: impl IntoIterator<Item = &'a str>, sample: impl IntoIterator<Item = &'s str>) -> LiteralIndex {
        let literals: Vec<&str> = literals.into_iter().collect();
        // How often each window of a literal occurs in the sample (only those are counted).
        let mut seen: FxMap<u32, u32> = FxMap::default();
        for w in literals.iter().flat_map(|l| l.as_bytes().windows(4)) {
            seen.insert(u32::from_le_bytes([w[0], w[1], w[2], w[3]]), 0);
        }
        for text in sample {
            for w in text.as_bytes().windows(4) {
                if let Some(n) = seen.get_mut(&u32::from_le_bytes([w[0], w[1], w[2], w[3]])) {
                    *n += 1;
                }
            }
        }
        let mut bytes = Vec::new();
        let mut spans = Vec::new();
        let mut bloom = Box::new([0u64; BLOOM_WORDS]);
        let mut anchors = Vec::new();
        let mut short = Vec::new();
        for (i, l) in literals.iter().enumerate() {
            let b = l.as_bytes();
            spans.push((bytes.len() as u32, (bytes.len() + b.len()) as u32));
            bytes.extend_from_slice(b);
            if b.len() < 4 {
                short.push(i as u16);
                continue;
            }
            // The window least seen in the sample; among those (or with no sample), the one
            // with the fewest very common log bytes (space, lowercase vowels...).
            let common = |c: u8| matches!(c, b' ' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'=' | b':');
            let window_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
            let rarity = |o: usize| (seen.get(&window_at(o)).copied().unwrap_or(0), b[o..o + 4].iter().filter(|&&c| common(c)).count());
            let off = (0..=b.len() - 4).min_by_key(|&o| rarity(o)).unwrap_or(0);
            let window = window_at(off);
            let slot = bloom_slot(window);
            bloom[slot >> 6] |= 1 << (slot & 63);
            anchors.push((anchor_bucket(slot), Anchor { window, literal: i as u16, offset: off as u16 }));
        }
        anchors.sort_by_key(|(bucket, a)| (*bucket, a.literal));
        let mut heads = Box::new([0u16; BUCKETS + 1]);
        for (bucket, _) in &anchors {
            heads[bucket + 1] += 1;
        }
        for b in 0..BUCKETS {
            heads[b + 1] += heads[b];
        }
        let anchors = anchors.into_iter().map(|(_, a)| a).collect();
        LiteralIndex { bytes, spans, bloom, heads, anchors, short }
    }

    #[inline(always)]
    pub(super) fn literal(&self, i: usize) -> &[u8] {
        let (a, b) = self.spans[i];
        &self.bytes[a as usize..b as usize]
    }

    /// Calls `f` with the index of every literal that occurs in `hay` (possibly more than
    /// once per literal).
    #[inline]
    pub fn for_each(&self, hay: &[u8], mut f: impl FnMut(usize)) {
        for &i in &self.short {
            if memchr::memmem::find(hay, self.literal(i as usize)).is_some() {
                f(i as usize);
            }
        }
        let bloom = &*self.bloom;
        for (p, w) in hay.windows(4).enumerate() {
            let w = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            let slot = bloom_slot(w);
            if bloom[slot >> 6] & (1 << (slot & 63)) == 0 {
                continue;
            }
            self.hit(hay, p, w, slot, &mut f);
        }
    }

    /// One filter hit: the literals anchored at `p` whose window is `w`, compared in full.
    #[inline(always)]
    pub(super) fn hit(&self, hay: &[u8], p: usize, w: u32, slot: usize, f: &mut impl FnMut(usize)) {
        let b = anchor_bucket(slot);
        let (from, to) = (self.heads[b] as usize, self.heads[b + 1] as usize);
        for a in self.anchors.get(from..to).unwrap_or_default() {
            let off = a.offset as usize;
            if a.window == w && p >= off {
                let lit = self.literal(a.literal as usize);
                if hay.get(p - off..p - off + lit.len()).is_some_and(|h| same_bytes(h, lit)) {
                    f(a.literal as usize);
                }
            }
        }
    }
}
