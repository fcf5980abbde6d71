//! libCacheSim's `oracleGeneral` binary format, and a Zipf trace generator that writes it.
//!
//! Each record is 24 bytes, little-endian: `u32` timestamp, `u64` object id, `u32` size,
//! `i64` logical time of the id's next request (-1 for never).
//!
//! A reader and a writer: it knows its records, not what replays them.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rand_distr::Distribution;

use super::{Input, Op, Position, Request, TraceError, TraceReader};

/// Bytes per record.
pub const RECORD: usize = 24;

/// Next-access values below this bound are request numbers; -1 and `i64::MAX` mean
/// "never" (as libCacheSim reads them). No trace has 2^48 requests, and text or random
/// bytes read as a record exceed the bound in all but 1 case in 2^16.
const NEXT_ACCESS_BOUND: i64 = 1 << 48;

/// Reads `oracleGeneral` records.
pub struct Reader {
    input: Input,
    path: PathBuf,
    /// Records consumed so far.
    record: u64,
}

impl Reader {
    /// A reader over `input`, read from `path`.
    pub fn new(input: Input, path: PathBuf) -> Self {
        Reader {
            input,
            path,
            record: 0,
        }
    }

    fn io(&self, source: std::io::Error) -> TraceError {
        TraceError::Io {
            path: self.path.clone(),
            error: source,
        }
    }

    /// The error for the record just consumed, whose next-access field is `next`.
    #[cold]
    fn bad_next_access(&self, next: i64) -> TraceError {
        TraceError::Parse {
            path: self.path.clone(),
            at: Position::Record {
                number: self.record,
                offset: (self.record - 1) * RECORD as u64,
            },
            message: format!(
                "next access is {next}; expected -1 or {} (never again) or a request number \
                 below 2^48 (24-byte records: u32 time, u64 id, u32 size, i64 next access; \
                 is this an oracleGeneral file?)",
                i64::MAX
            ),
        }
    }
}

impl TraceReader for Reader {
    /// Decodes whole records straight from the reader's buffer (1 MiB reads), leaving a
    /// record split across two buffer fills to [`read`](TraceReader::read). Stops before a
    /// bad record, which the next call reports.
    fn read_batch(&mut self, out: &mut [Request]) -> Result<usize, TraceError> {
        if out.is_empty() {
            return Ok(0);
        }
        let avail = match self.input.fill_buf() {
            Ok(a) => a,
            Err(source) => return Err(self.io(source)),
        };
        let mut n = 0;
        let mut bad = None;
        for (req, rec) in out.iter_mut().zip(avail.chunks_exact(RECORD)) {
            let rec: &[u8; RECORD] = rec.try_into().expect("24 bytes");
            let next = next_access(rec);
            if !valid(next) {
                bad = Some(next);
                break;
            }
            *req = decode(rec);
            n += 1;
        }
        if n == 0 {
            if let Some(next) = bad {
                self.input.consume(RECORD);
                self.record += 1;
                return Err(self.bad_next_access(next));
            }
            // End of input, or a record split across buffer fills.
            return Ok(usize::from(self.read(&mut out[0])?));
        }
        self.input.consume(n * RECORD);
        self.record += n as u64;
        Ok(n)
    }

    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        let mut buf = [0u8; RECORD];
        // Fast path: straight out of the reader's buffer.
        let whole = match self.input.fill_buf() {
            Ok(avail) if avail.len() >= RECORD => {
                buf.copy_from_slice(&avail[..RECORD]);
                self.input.consume(RECORD);
                true
            }
            _ => false,
        };
        if !whole {
            let mut got = 0;
            while got < RECORD {
                match self.input.read(&mut buf[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(source) => return Err(self.io(source)),
                }
            }
            if got == 0 {
                return Ok(false);
            }
            if got < RECORD {
                return Err(TraceError::Torn {
                    path: self.path.clone(),
                    offset: self.record * RECORD as u64,
                    bytes: got as u64,
                    record: RECORD,
                });
            }
        }
        self.record += 1;
        let next = next_access(&buf);
        if !valid(next) {
            return Err(self.bad_next_access(next));
        }
        *req = decode(&buf);
        Ok(true)
    }
}

#[inline(always)]
fn next_access(buf: &[u8; RECORD]) -> i64 {
    i64::from_le_bytes(buf[16..24].try_into().expect("8 bytes"))
}

#[inline(always)]
fn valid(next: i64) -> bool {
    (-1..NEXT_ACCESS_BOUND).contains(&next) || next == i64::MAX
}

#[inline]
fn decode(buf: &[u8; RECORD]) -> Request {
    let u32_at = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().expect("4 bytes"));
    Request {
        time: u32_at(0) as u64,
        id: u64::from_le_bytes(buf[4..12].try_into().expect("8 bytes")),
        size: u32_at(12),
        op: Op::Read,
        ttl: 0,
    }
}

/// Writes an `oracleGeneral` trace of `requests` requests over `objects` objects whose
/// popularity follows Zipf(`alpha`), one request per time unit, sizes 1..=4096 bytes fixed
/// per object, next-access fields filled in (a backward pass over the ids, held in memory).
/// Seeded: the same arguments write the same bytes.
pub fn generate_zipf_oracle(
    path: &Path,
    requests: u64,
    objects: u64,
    alpha: f64,
    seed: u64,
) -> Result<(), TraceError> {
    let io = |source| TraceError::Io {
        path: path.to_owned(),
        error: source,
    };
    let zipf = rand_distr::Zipf::new(objects as f64, alpha)
        .map_err(|e| TraceError::Options(format!("bad Zipf parameters: {e}")))?;
    let mut rng = crate::base::rng::stream(seed, crate::base::rng::Stream::Workload);
    // Rank r maps to a scattered id, so popular objects are not adjacent.
    let ids: Vec<u64> = (0..requests)
        .map(|_| crate::base::rng::mix64(zipf.sample(&mut rng) as u64))
        .collect();
    let mut next = vec![-1i64; ids.len()];
    let mut seen = rustc_hash::FxHashMap::<u64, i64>::default();
    for (i, &id) in ids.iter().enumerate().rev() {
        if let Some(n) = seen.insert(id, i as i64) {
            next[i] = n;
        }
    }
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(io)?);
    for (i, &id) in ids.iter().enumerate() {
        let size = (crate::base::rng::mix64(id ^ 0x5bd1_e995) % 4096 + 1) as u32;
        out.write_all(&(i as u32).to_le_bytes()).map_err(io)?;
        out.write_all(&id.to_le_bytes()).map_err(io)?;
        out.write_all(&size.to_le_bytes()).map_err(io)?;
        out.write_all(&next[i].to_le_bytes()).map_err(io)?;
    }
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Format, TraceSource};

    #[test]
    fn generated_trace_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.bin");
        generate_zipf_oracle(&path, 1000, 100, 1.0, 3).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 24 * 1000);
        let src = TraceSource {
            path: path.clone(),
            format: Format::OracleGeneral,
            csv: Default::default(),
        };
        let mut r = src.open().unwrap();
        let mut req = Request::default();
        let mut n = 0;
        let mut ids = std::collections::HashSet::new();
        while r.read(&mut req).unwrap() {
            assert_eq!(req.time, n);
            assert!((1..=4096).contains(&req.size));
            ids.insert(req.id);
            n += 1;
        }
        assert_eq!(n, 1000);
        assert!(ids.len() <= 100 && ids.len() > 30, "{}", ids.len());
        // Same seed, same bytes.
        let again = dir.path().join("z2.bin");
        generate_zipf_oracle(&again, 1000, 100, 1.0, 3).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&again).unwrap()
        );
    }

    /// A torn record is said at opening for a plain file, and at its end for a
    /// compressed one, with the offset where it starts.
    #[test]
    fn a_torn_record_is_an_error_naming_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("t.bin");
        std::fs::write(&plain, [0u8; 30]).unwrap();
        let src = |path: &Path| TraceSource {
            path: path.to_owned(),
            format: Format::OracleGeneral,
            csv: Default::default(),
        };
        let err = src(&plain).open().err().unwrap().to_string();
        assert!(
            err.contains("6 bytes at byte offset 24 are not a whole 24-byte record"),
            "{err}"
        );
        let zst = dir.path().join("t.bin.zst");
        std::fs::write(&zst, zstd::encode_all(&[0u8; 30][..], 3).unwrap()).unwrap();
        let mut r = src(&zst).open().unwrap();
        let mut req = Request::default();
        assert!(r.read(&mut req).unwrap());
        let err = r.read(&mut req).unwrap_err().to_string();
        assert!(err.contains("6 bytes at byte offset 24"), "{err}");
    }

    /// A next-access field no oracleGeneral writer makes is a bad record, named by its
    /// number and offset; the records around it read.
    #[test]
    fn a_bad_next_access_names_the_record_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.bin");
        let record = |id: u64, next: i64| {
            let mut r = vec![0u8; 4];
            r.extend(id.to_le_bytes());
            r.extend(1u32.to_le_bytes());
            r.extend(next.to_le_bytes());
            r
        };
        let mut bytes = Vec::new();
        for (id, next) in [(1, -1), (2, i64::MAX), (3, 1 << 48), (4, 7), (5, -2)] {
            bytes.extend(record(id, next));
        }
        std::fs::write(&path, bytes).unwrap();
        let src = TraceSource {
            path,
            format: Format::OracleGeneral,
            csv: Default::default(),
        };
        let mut r = src.open().unwrap();
        let mut block = [Request::default(); 8];
        assert_eq!(r.read_batch(&mut block).unwrap(), 2);
        let err = r.read_batch(&mut block).unwrap_err().to_string();
        assert!(
            err.contains("record 3 (byte offset 48): next access is 281474976710656"),
            "{err}"
        );
        let mut r = src.open_skipping(2).unwrap();
        assert_eq!(r.read_batch(&mut block).unwrap(), 3);
        assert_eq!(
            block[..3].iter().map(|q| q.id).collect::<Vec<_>>(),
            [1, 2, 4]
        );
        assert_eq!(r.read_batch(&mut block).unwrap(), 0);
        assert_eq!(r.skipped().count, 2);
    }
}
