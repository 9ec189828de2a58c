//! The Token Status List's model (SPEC §3.10, draft-ietf-oauth-status-list): where an
//! access token's bit lives, how a domain's lists are cut into chunks for the store, and
//! how a list's bytes are written into its `lst`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::{Compress, Compression, FlushCompress, Status};

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

/// The zlib header (RFC 1950) of DEFLATE at the highest level, which the draft
/// recommends: CM 8, CINFO 7, FLEVEL 3.
const ZLIB_HEADER: [u8; 2] = [0x78, 0xDA];

/// One part of a list compressed on its own: raw DEFLATE (RFC 1951) at the highest
/// level, ending byte-aligned with a full flush (nothing refers back across it), or,
/// for a list's `last` part, with the final block. Segments of a list's parts in order
/// are one valid DEFLATE stream, so a list is compressed again only where it changed.
pub fn deflate_segment(part: &[u8], last: bool) -> Vec<u8> {
    let mut compressor = Compress::new(Compression::best(), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Full
    };
    // Room for the worst case (stored blocks), so one call usually does it all; a call
    // that filled the output may have more to write, so it is called again with more.
    let mut out = Vec::with_capacity(part.len() + part.len() / 16 + 64);
    loop {
        let consumed = usize::try_from(compressor.total_in()).map_or(part.len(), |n| n.min(part.len()));
        let status = compressor.compress_vec(&part[consumed..], &mut out, flush);
        let all_in = usize::try_from(compressor.total_in()).is_ok_and(|n| n == part.len());
        let done = match status {
            Ok(Status::StreamEnd) => true,
            Ok(_) => !last && all_in && out.len() < out.capacity(),
            // Only a defect could fail here; the list's decoders then say so.
            Err(_) => true,
        };
        if done {
            return out;
        }
        out.reserve(part.len() / 2 + 64);
    }
}

/// Adler-32 (RFC 1950 §9) of a list's bytes: the zlib stream's checksum.
pub fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5,552 bytes is the most that cannot overflow `b` before reducing (zlib's NMAX).
    for block in bytes.chunks(5552) {
        for byte in block {
            a += u32::from(*byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// The list's `lst`: base64url (no padding) of the zlib stream made of its parts'
/// segments ([`deflate_segment`], in order) and the checksum of all its bytes.
pub fn lst_from_segments<'s>(segments: impl IntoIterator<Item = &'s [u8]>, checksum: u32) -> String {
    let mut stream = ZLIB_HEADER.to_vec();
    for segment in segments {
        stream.extend_from_slice(segment);
    }
    stream.extend_from_slice(&checksum.to_be_bytes());
    URL_SAFE_NO_PAD.encode(stream)
}

/// `lst` of any bytes, in parts of [`CHUNK_BYTES`] as a list's chunks are.
pub fn encode_lst(bytes: &[u8]) -> String {
    let parts: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES).collect();
    let segments: Vec<Vec<u8>> = parts
        .iter()
        .enumerate()
        .map(|(n, part)| deflate_segment(part, n + 1 == parts.len()))
        .collect();
    lst_from_segments(segments.iter().map(Vec::as_slice), adler32(bytes))
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
    fn a_slot_is_a_chunk_and_a_place_in_it() {
        let slot = StatusSlot {
            list: 1,
            idx: 2 * CHUNK_BITS + 5,
        };
        assert_eq!((slot.chunk(), slot.offset()), (2, 5));
    }

    #[test]
    fn segments_make_one_stream_and_a_change_recompresses_one_part() {
        let mut list = vec![0u8; 3 * CHUNK_BYTES];
        for idx in [1, 40_000, 70_000, 98_303] {
            set_bit(&mut list, idx);
        }
        let lst = encode_lst(&list);
        assert_eq!(decode_lst(&lst), list);
        // The same stream from parts compressed one by one, as the renderer caches them.
        let parts: Vec<&[u8]> = list.chunks(CHUNK_BYTES).collect();
        let segments: Vec<Vec<u8>> = parts
            .iter()
            .enumerate()
            .map(|(n, p)| deflate_segment(p, n == 2))
            .collect();
        assert_eq!(
            lst_from_segments(segments.iter().map(Vec::as_slice), adler32(&list)),
            lst
        );
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
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
