//! The Token Status List's model (SPEC §3.10, draft-ietf-oauth-status-list): where an
//! access token's bit lives, how a domain's lists are cut into chunks for the store, and
//! how a list's bytes are written into its `lst`.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::write::ZlibEncoder;

/// Indices in one list (SPEC: 2^20); when a list is full, issuance opens the next.
pub const LIST_SIZE: i64 = 1 << 20;

/// Indices per stored chunk: 4 KiB of bits, so a revocation rewrites one small row per
/// chunk it touches.
pub const CHUNK_BITS: i64 = 32_768;
pub const CHUNK_BYTES: usize = (CHUNK_BITS / 8) as usize;

/// Indices an instance reserves at a time. A divisor of [`CHUNK_BITS`], so a range lies
/// in one chunk, which is created with the first range that reaches it.
pub const RANGE_SIZE: i64 = 1024;

/// The bits per token: one, VALID (0) or INVALID (1).
pub const BITS: u8 = 1;

/// Where an access token's bit lives: list `list` of its domain, index `idx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusSlot {
    pub list: i64,
    pub idx: i64,
}

impl StatusSlot {
    pub fn chunk(self) -> i64 {
        self.idx / CHUNK_BITS
    }

    /// The bit's place within its chunk.
    pub fn offset(self) -> i64 {
        self.idx % CHUNK_BITS
    }
}

/// The URI of a domain's list (SPEC §3.10): `{issuer}/status-lists/{list}`.
pub fn list_uri(issuer: &str, list: i64) -> String {
    format!("{issuer}/status-lists/{list}")
}

/// A list id from a request path: 1–64 characters of `[A-Za-z0-9_-]` (SPEC), and revokd's
/// own are decimal list numbers; anything else names no list.
pub fn parse_list_id(id: &str) -> Option<i64> {
    let well_formed =
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !well_formed || !id.bytes().all(|b| b.is_ascii_digit()) || id.starts_with('0') {
        return None;
    }
    id.parse().ok().filter(|list| *list >= 1)
}

/// Sets bit `offset` of `bits`: bit `n` is bit `n % 8`, least significant first, of byte
/// `n / 8` (the draft's order). Offsets past the end are ignored.
pub fn set_bit(bits: &mut [u8], offset: usize) {
    if let Some(byte) = bits.get_mut(offset / 8) {
        *byte |= 1 << (offset % 8);
    }
}

/// Whether bit `offset` of `bits` is set, in the order of [`set_bit`].
pub fn bit(bits: &[u8], offset: usize) -> bool {
    bits.get(offset / 8).is_some_and(|byte| byte & (1 << (offset % 8)) != 0)
}

/// A whole list's bytes from its stored chunks, `(chunk number, bits)`: every index of
/// the list, those of chunks not yet created being VALID.
pub fn assemble(chunks: impl IntoIterator<Item = (i64, Vec<u8>)>) -> Vec<u8> {
    let mut list = vec![0u8; (LIST_SIZE / 8) as usize];
    for (chunk, bits) in chunks {
        let Ok(chunk) = usize::try_from(chunk) else { continue };
        let start = chunk * CHUNK_BYTES;
        if let Some(place) = list.get_mut(start..start + CHUNK_BYTES.min(bits.len())) {
            place.copy_from_slice(&bits[..place.len()]);
        }
    }
    list
}

/// The list's `lst`: base64url (no padding) of the bytes compressed with zlib (RFC 1950).
pub fn encode_lst(bytes: &[u8]) -> String {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 64 + 64), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    let compressed = encoder.finish().unwrap_or_default();
    URL_SAFE_NO_PAD.encode(compressed)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::ZlibDecoder;

    use super::*;

    fn decode_lst(lst: &str) -> Vec<u8> {
        let compressed = URL_SAFE_NO_PAD.decode(lst).unwrap();
        let mut bytes = Vec::new();
        ZlibDecoder::new(compressed.as_slice()).read_to_end(&mut bytes).unwrap();
        bytes
    }

    /// draft-ietf-oauth-status-list-21 §4.1, the example with `bits: 1`: index 0, 3, 4,
    /// 5, 7, 8, 9, 13 and 15 INVALID.
    #[test]
    fn the_drafts_example_list() {
        let mut bytes = [0u8; 2];
        for idx in [0, 3, 4, 5, 7, 8, 9, 13, 15] {
            set_bit(&mut bytes, idx);
        }
        assert_eq!(bytes, [0xB9, 0xA3]);
        assert_eq!(decode_lst("eNrbuRgAAhcBXQ"), vec![0xB9, 0xA3]);
        assert_eq!(encode_lst(&bytes), "eNrbuRgAAhcBXQ");
        assert!(bit(&bytes, 0) && !bit(&bytes, 1) && bit(&bytes, 15) && !bit(&bytes, 14));
    }

    #[test]
    fn a_list_is_every_index_with_its_chunks_in_place() {
        let mut chunk = vec![0u8; CHUNK_BYTES];
        set_bit(&mut chunk, 5);
        let list = assemble([(2, chunk)]);
        assert_eq!(list.len(), (LIST_SIZE / 8) as usize);
        let slot = StatusSlot {
            list: 1,
            idx: 2 * CHUNK_BITS + 5,
        };
        assert_eq!((slot.chunk(), slot.offset()), (2, 5));
        assert!(bit(&list, slot.idx as usize));
        assert_eq!(list.iter().map(|b| b.count_ones()).sum::<u32>(), 1);
        assert_eq!(decode_lst(&encode_lst(&list)), list);
    }

    #[test]
    fn list_ids_are_revokds_own_numbers() {
        assert_eq!(parse_list_id("1"), Some(1));
        assert_eq!(parse_list_id("42"), Some(42));
        for refused in [
            "",
            "0",
            "01",
            "-1",
            "a",
            "1a",
            "x_y",
            &"1".repeat(65),
            "99999999999999999999",
        ] {
            assert_eq!(parse_list_id(refused), None, "{refused}");
        }
    }

    #[test]
    fn ranges_lie_in_one_chunk() {
        assert_eq!(CHUNK_BITS % RANGE_SIZE, 0);
        assert_eq!(LIST_SIZE % CHUNK_BITS, 0);
    }
}
