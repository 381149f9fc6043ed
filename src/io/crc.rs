//! CRC-32 (IEEE 802.3, reflected polynomial `0xEDB88320`), the checksum of
//! zlib, gzip and PNG: Python's `zlib.crc32` gives the same value.
//!
//! The 256-entry table (1 KiB) is computed at compile time.

/// The table for one byte at a time, built by `const` evaluation.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// The CRC-32 of `bytes`.
/// A `const fn`, so that a parameter file embedded in a program is checked
/// by the compiler ([`embedded!`](crate::embedded)).
pub(crate) const fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    let mut i = 0;
    while i < bytes.len() {
        c = TABLE[((c ^ bytes[i] as u32) & 0xFF) as usize] ^ (c >> 8);
        i += 1;
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn matches_the_standard_check_values() {
        // The catalogue's check value for CRC-32/ISO-HDLC, and zlib.crc32 results.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    #[test]
    fn matches_the_bitwise_definition() {
        let bitwise = |bytes: &[u8]| {
            let mut c = !0u32;
            for &b in bytes {
                c ^= b as u32;
                for _ in 0..8 {
                    c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                }
            }
            !c
        };
        let data: [u8; 300] = core::array::from_fn(|i| (i * 7 + i / 3) as u8);
        for n in [0, 1, 2, 17, 255, 300] {
            assert_eq!(crc32(&data[..n]), bitwise(&data[..n]));
        }
    }
}
