//! Delimited text traces with configurable columns, parsed by the `csv` crate into one
//! reused record (no allocation per request).
//!
//! Columns are numbered from 1, as libCacheSim's `csv` reader numbers them. A key that is
//! not an unsigned integer is hashed (SipHash with fixed keys, so runs repeat).
//!
//! It also holds what the CSV-based formats (`csv`, `twitter`) share: the record reader
//! `Records` and the key parser `key_id`. A reader, as every format's: it knows its
//! records, not what replays them.

use std::fmt::Display;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::str::FromStr;

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

/// `field` as a number, if it is one (surrounding blanks allowed).
// Five calls a Twitter record: left out of line, they cost its replay 4%.
#[inline]
fn parse_bytes<T: FromStr>(field: &[u8]) -> Option<T> {
    std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// A key as a `u64`: the number itself, or a fixed hash of its bytes.
pub(crate) fn key_id(field: &[u8]) -> u64 {
    if let Some(n) = parse_bytes(field) {
        return n;
    }
    let mut h = std::hash::DefaultHasher::new();
    field.hash(&mut h);
    h.finish()
}

/// CSV records read into one reused record, counted, for the CSV-based formats.
pub(crate) struct Records {
    csv: csv::Reader<Input>,
    record: csv::ByteRecord,
    path: PathBuf,
    number: u64,
}

impl Records {
    /// Records of `input`, read from `path`, laid out as `layout` says; a record may have
    /// any number of fields.
    pub(crate) fn new(input: Input, path: PathBuf, layout: &mut csv::ReaderBuilder) -> Self {
        Records {
            csv: layout.flexible(true).from_reader(input),
            record: csv::ByteRecord::new(),
            path,
            number: 0,
        }
    }

    /// Reads the next record; `Ok(false)` at the end.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<bool, TraceError> {
        let more = self
            .csv
            .read_byte_record(&mut self.record)
            .map_err(|e| self.error(e.to_string()))?;
        self.number += u64::from(more);
        Ok(more)
    }

    /// The 1-based number of the current record.
    #[inline]
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// How many fields the current record has.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.record.len()
    }

    /// The current record's field `i`, counted from 0.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        self.record.get(i)
    }

    /// An error about the current record.
    pub(crate) fn error(&self, message: String) -> TraceError {
        TraceError::Parse {
            path: self.path.clone(),
            record: self.number,
            message,
        }
    }

    /// `field` as a number, or an error that names it as `what`.
    #[inline]
    pub(crate) fn parse<T: FromStr>(
        &self,
        field: &[u8],
        what: impl Display,
    ) -> Result<T, TraceError> {
        parse_bytes(field).ok_or_else(|| {
            self.error(format!(
                "{what} is `{}`, not a valid number",
                String::from_utf8_lossy(field)
            ))
        })
    }
}

/// Reads configurable CSV.
pub struct Reader {
    records: Records,
    columns: CsvColumns,
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
        let mut layout = csv::ReaderBuilder::new();
        layout
            .has_headers(columns.header)
            .delimiter(columns.delimiter);
        Ok(Reader {
            records: Records::new(input, path, &mut layout),
            columns: columns.clone(),
        })
    }

    fn field(&self, column: usize, name: &str) -> Result<&[u8], TraceError> {
        self.records
            .get(column - 1)
            .ok_or_else(|| self.records.error(format!("no column {column} ({name})")))
    }

    fn number<T: FromStr>(&self, column: usize, name: &str) -> Result<T, TraceError> {
        let f = self.field(column, name)?;
        self.records
            .parse(f, format_args!("column {column} ({name})"))
    }
}

impl TraceReader for Reader {
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        if !self.records.next()? {
            return Ok(false);
        }
        let c = &self.columns;
        *req = Request {
            time: match c.time {
                Some(t) => self.number(t, "time")?,
                None => self.records.number() - 1,
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
