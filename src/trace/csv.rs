//! Delimited text traces with configurable columns, parsed by the `csv` crate into one
//! reused record (no allocation per request).
//!
//! Columns are numbered from 1, as libCacheSim's `csv` reader numbers them. A key that is
//! not an unsigned integer is hashed (SipHash with fixed keys, so runs repeat).
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use super::{Input, Op, Request, TraceError, TraceReader};

/// Which columns hold what, and how the file is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvColumns {
    /// 1-based column of the timestamp; none: the record number.
    pub time: Option<usize>,
    /// 1-based column of the object id.
    pub key: usize,
    /// 1-based column of the size in bytes; none: every object is 1 byte.
    pub size: Option<usize>,
    /// Whether the first line is a header.
    pub header: bool,
    /// The field delimiter.
    pub delimiter: u8,
}

impl Default for CsvColumns {
    fn default() -> Self {
        CsvColumns {
            time: None,
            key: 1,
            size: None,
            header: false,
            delimiter: b',',
        }
    }
}

/// A key as a `u64`: the number itself, or a fixed hash of its bytes.
pub(crate) fn key_id(field: &[u8]) -> u64 {
    if let Some(n) = std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        return n;
    }
    let mut h = std::hash::DefaultHasher::new();
    field.hash(&mut h);
    h.finish()
}

/// Reads configurable CSV.
pub struct Reader {
    csv: csv::Reader<Input>,
    record: csv::ByteRecord,
    columns: CsvColumns,
    path: PathBuf,
    number: u64,
}

impl Reader {
    /// A reader over `input`, read from `path`, with `columns`.
    pub fn new(input: Input, path: PathBuf, columns: &CsvColumns) -> Result<Self, TraceError> {
        for (name, c) in [
            ("time", columns.time),
            ("key", Some(columns.key)),
            ("size", columns.size),
        ] {
            if c == Some(0) {
                return Err(TraceError::Options(format!(
                    "csv {name} column is 0; columns are numbered from 1"
                )));
            }
        }
        let csv = csv::ReaderBuilder::new()
            .has_headers(columns.header)
            .delimiter(columns.delimiter)
            .flexible(true)
            .from_reader(input);
        Ok(Reader {
            csv,
            record: csv::ByteRecord::new(),
            columns: columns.clone(),
            path,
            number: 0,
        })
    }

    fn error(&self, message: String) -> TraceError {
        TraceError::Parse {
            path: self.path.clone(),
            record: self.number,
            message,
        }
    }

    fn field(&self, column: usize, name: &str) -> Result<&[u8], TraceError> {
        self.record
            .get(column - 1)
            .ok_or_else(|| self.error(format!("no column {column} ({name})")))
    }

    fn number<T: std::str::FromStr>(&self, column: usize, name: &str) -> Result<T, TraceError> {
        let f = self.field(column, name)?;
        std::str::from_utf8(f)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| {
                self.error(format!(
                    "column {column} ({name}) is `{}`, not a valid number",
                    String::from_utf8_lossy(f)
                ))
            })
    }
}

impl TraceReader for Reader {
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        let more = self
            .csv
            .read_byte_record(&mut self.record)
            .map_err(|e| self.error(e.to_string()))?;
        if !more {
            return Ok(false);
        }
        self.number += 1;
        let c = &self.columns;
        *req = Request {
            time: match c.time {
                Some(t) => self.number(t, "time")?,
                None => self.number - 1,
            },
            id: key_id(self.field(c.key, "key")?),
            size: match c.size {
                Some(s) => self.number(s, "size")?,
                None => 1,
            },
            op: Op::Read,
            ttl: 0,
        };
        Ok(true)
    }
}
