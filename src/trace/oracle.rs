//! libCacheSim's `oracleGeneral` binary format, and a Zipf trace generator that writes it.
//!
//! Each record is 24 bytes, little-endian: `u32` timestamp, `u64` object id, `u32` size,
//! `i64` logical time of the id's next request (-1 for never).
//!
//! A reader and a writer: it knows its records, not what replays them.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rand_distr::Distribution;

use super::{Input, Op, Request, TraceError, TraceReader};

/// Bytes per record.
pub const RECORD: usize = 24;

/// Reads `oracleGeneral` records.
pub struct Reader {
    input: Input,
    path: PathBuf,
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
}

impl TraceReader for Reader {
    /// Decodes whole records straight from the reader's buffer (1 MiB reads), leaving a
    /// record split across two buffer fills to [`read`](TraceReader::read).
    fn read_batch(&mut self, out: &mut [Request]) -> Result<usize, TraceError> {
        if out.is_empty() {
            return Ok(0);
        }
        let avail = match self.input.fill_buf() {
            Ok(a) => a,
            Err(source) => {
                return Err(TraceError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let n = (avail.len() / RECORD).min(out.len());
        if n == 0 {
            // End of input, or a record split across buffer fills.
            return Ok(usize::from(self.read(&mut out[0])?));
        }
        for (req, rec) in out.iter_mut().zip(avail.chunks_exact(RECORD)) {
            *req = decode(rec.try_into().expect("24 bytes"));
        }
        self.input.consume(n * RECORD);
        self.record += n as u64;
        Ok(n)
    }

    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        // Fast path: parse straight out of the reader's buffer.
        if let Ok(avail) = self.input.fill_buf()
            && avail.len() >= RECORD
        {
            let r: [u8; RECORD] = avail[..RECORD].try_into().expect("24 bytes");
            self.input.consume(RECORD);
            self.record += 1;
            *req = decode(&r);
            return Ok(true);
        }
        let mut buf = [0u8; RECORD];
        let mut got = 0;
        while got < RECORD {
            match self.input.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(TraceError::Io {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
        if got == 0 {
            return Ok(false);
        }
        self.record += 1;
        if got < RECORD {
            return Err(TraceError::Parse {
                path: self.path.clone(),
                record: self.record,
                message: format!("truncated: {got} of {RECORD} bytes"),
            });
        }
        *req = decode(&buf);
        Ok(true)
    }
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
        source,
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

    #[test]
    fn truncated_record_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.bin");
        std::fs::write(&path, [0u8; 30]).unwrap();
        let src = TraceSource {
            path,
            format: Format::OracleGeneral,
            csv: Default::default(),
        };
        let mut r = src.open().unwrap();
        let mut req = Request::default();
        assert!(r.read(&mut req).unwrap());
        let err = r.read(&mut req).unwrap_err().to_string();
        assert!(err.contains("record 2: truncated"), "{err}");
    }
}
