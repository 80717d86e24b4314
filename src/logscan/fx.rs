//! Hot-path hashing: FxHash for the per-message table (queue ids are already well mixed) and
//! queue ids packed into a `u128`.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::hash::Hasher;

#[derive(Default, Clone, Copy)]
pub(super) struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
}

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// A Postfix queue id (short hex or long base-62 form, at most 20 characters) as a number.
pub(super) fn pack_qid(q: &str) -> Option<u128> {
    if q.len() > 20 {
        return None;
    }
    let mut n: u128 = 0;
    for b in q.bytes() {
        let v = match b {
            b'0'..=b'9' => b - b'0' + 1,
            b'A'..=b'Z' => b - b'A' + 11,
            b'a'..=b'z' => b - b'a' + 37,
            _ => return None,
        };
        n = (n << 6) | u128::from(v);
    }
    Some(n)
}
