//! Twitter's production cache traces (Yang, Yue and Rashmi, "A large scale analysis of
//! hundreds of in-memory cache clusters at Twitter", OSDI 2020): CSV lines of
//! `timestamp, anonymized key, key size, value size, client id, operation, TTL`.
//!
//! As libCacheSim's `twr` reader: the object size is key size + value size; `get` and
//! `gets` read; `set`, `add`, `replace`, `cas`, `append`, `prepend`, `incr` and `decr`
//! write; `delete` removes. Timestamps and TTLs are in seconds; a TTL of 0 means none.
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::path::PathBuf;

use super::csv::{Fields, key_id};
use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_uint};

/// What a line holds, for error messages.
const EXPECT: &str = "`timestamp,key,key_size,value_size,client_id,op,ttl` per line";

/// Reads Twitter cache-trace CSV.
pub struct Reader {
    lines: Lines,
    fields: Fields,
}

impl Reader {
    /// A reader over `input`, read from `path`.
    pub fn new(input: Input, path: PathBuf) -> Self {
        Reader {
            lines: Lines::new(input, path, EXPECT),
            fields: Fields::new(b','),
        }
    }
}

/// Field `i` as an unsigned integer, named `name` in the error.
fn number(f: &Fields, i: usize, name: &str) -> Result<u64, String> {
    let f = f.get(i).unwrap_or_default();
    parse_uint(f).ok_or_else(|| {
        format!(
            "{name} is `{}`, not an unsigned integer (or too large)",
            String::from_utf8_lossy(f)
        )
    })
}

/// A line's request, from its fields.
fn parse(f: &Fields) -> Result<Request, String> {
    if f.len() < 7 {
        return Err(format!("{} fields, not 7", f.len()));
    }
    let name = f.get(5).unwrap_or_default();
    let op =
        op(name).ok_or_else(|| format!("unknown operation `{}`", String::from_utf8_lossy(name)))?;
    let key = f.get(1).unwrap_or_default();
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    let size = number(f, 2, "key size")?.saturating_add(number(f, 3, "value size")?);
    Ok(Request {
        time: number(f, 0, "timestamp")?,
        id: key_id(key).0,
        size: size.min(u32::MAX as u64) as u32,
        op,
        ttl: number(f, 6, "ttl")?,
    })
}

/// The cache operation a Twitter op name stands for.
fn op(name: &[u8]) -> Option<Op> {
    Some(match name {
        b"get" | b"gets" => Op::Read,
        b"set" | b"add" | b"replace" | b"cas" | b"append" | b"prepend" | b"incr" | b"decr" => {
            Op::Write
        }
        b"delete" => Op::Delete,
        _ => return None,
    })
}

impl TraceReader for Reader {
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        let fields = &mut self.fields;
        let r = self.lines.next_parsed(|line| {
            if line.is_empty() {
                return Ok(None);
            }
            fields.split(line)?;
            parse(fields).map(Some)
        })?;
        Ok(r.map(|r| *req = r).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Format, TraceSource};

    #[test]
    fn ops_sizes_and_ttls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "0,keyA,10,90,1,get,0\n1,keyA,10,20,1,set,60\n2,keyB,5,5,2,delete,0\n3,keyA,1,1,1,flush,0\n",
        )
        .unwrap();
        let src = TraceSource {
            path,
            format: Format::Twitter,
            csv: Default::default(),
        };
        let mut r = src.open().unwrap();
        let mut q = Request::default();
        assert!(r.read(&mut q).unwrap());
        assert_eq!((q.time, q.size, q.op, q.ttl), (0, 100, Op::Read, 0));
        let a = q.id;
        assert!(r.read(&mut q).unwrap());
        assert_eq!((q.id, q.size, q.op, q.ttl), (a, 30, Op::Write, 60));
        assert!(r.read(&mut q).unwrap());
        assert_eq!(q.op, Op::Delete);
        assert_ne!(q.id, a);
        let err = r.read(&mut q).unwrap_err().to_string();
        assert!(err.contains("line 4: unknown operation `flush`"), "{err}");
    }
}
