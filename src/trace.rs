//! Trace input: streaming readers for the trace formats of the caching literature.
//!
//! Every reader yields [`Request`]s one at a time from a buffered, possibly compressed
//! stream (`.gz` and `.zst` are recognised by extension), so a trace of any length
//! replays in constant memory. Ids stay as the trace spells them (`u64`); the replay maps
//! them to dense keys.
//!
//! | format | one record | module |
//! |---|---|---|
//! | `csv` | a line, columns chosen by [`CsvColumns`] | [`csv`](mod@self::csv) |
//! | `oracle_general` | libCacheSim binary: u32 time, u64 id, u32 size, i64 next access | [`oracle`] |
//! | `arc_lis` | a line `start n ignore req_no`: n consecutive 512-byte pages | [`arc`] |
//! | `lirs` | a line with one id; lines with `*` skipped | [`lirs`] |
//! | `twitter` | a line: timestamp, key, key size, value size, client, op, TTL | [`twitter`] |
//! | `webcachesim` | a line `time id size` | [`webcachesim`] |
//!
//! Garbage is an error, never requests: a record that does not parse is a
//! [`TraceError::Parse`] naming the file, the record ([`Position`]: the line of a text
//! format, the record and byte offset of a binary one) and what the format expects; a
//! text line holding a control byte (a binary file read as text) or longer than
//! [`MAX_LINE`] is one. A trace without requests is [`TraceError::Empty`]; a binary
//! trace that ends inside a record is [`TraceError::Torn`]. A reader opened with a
//! budget ([`TraceSource::open_skipping`]) skips that many bad records and counts them
//! ([`Skipped`]).
//!
//! It knows trace files and their ids, not caches, replays or runs: replay and the workload
//! read traces through it.

pub mod arc;
pub mod csv;
pub mod ids;
pub mod lirs;
pub mod oracle;
pub mod twitter;
pub mod webcachesim;

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use self::csv::CsvColumns;
pub use oracle::generate_zipf_oracle;

/// What a request does to the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Op {
    /// A read: a hit, or a miss that fills the cache.
    #[default]
    Read,
    /// A write (set, add, replace, cas, ...): stores the object, hit or not.
    Write,
    /// A delete: removes the object; not counted as a request.
    Delete,
}

/// One request of a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The trace's timestamp (its own unit; seconds for `twitter`).
    pub time: u64,
    /// The object id as the trace has it.
    pub id: u64,
    /// The object's size in bytes.
    pub size: u32,
    /// What the request does.
    pub op: Op,
    /// Time to live in the trace's time unit, 0 for none.
    pub ttl: u64,
}

/// Where a record is in its trace: a line of a text format, or a record of a binary one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The 1-based line of a text format.
    Line(u64),
    /// The 1-based record of a binary format and the byte offset where it starts (in
    /// the decompressed stream, for a `.gz` or `.zst` file).
    Record {
        /// The record's number, from 1.
        number: u64,
        /// Its first byte's offset, from 0.
        offset: u64,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Record { number, offset } => {
                write!(f, "record {number} (byte offset {offset})")
            }
        }
    }
}

/// A problem reading a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("cannot read trace {path}: {error}")]
    Io {
        /// The trace file.
        path: PathBuf,
        /// The underlying error (in the message, so not a `source`: it would print twice).
        error: io::Error,
    },
    /// A record does not follow the format: a bad record, which a reader opened with a
    /// budget ([`TraceSource::open_skipping`]) may skip.
    #[error("{path}: {at}: {message}")]
    Parse {
        /// The trace file.
        path: PathBuf,
        /// Where the record is.
        at: Position,
        /// What is wrong, and what the format expects.
        message: String,
    },
    /// A binary trace ends inside a record: the file is truncated, or not of this format.
    #[error(
        "{path}: the trace ends inside a record: {bytes} bytes at byte offset {offset} are \
         not a whole {record}-byte record (a truncated file, or not this format)"
    )]
    Torn {
        /// The trace file.
        path: PathBuf,
        /// Where the torn record starts (in the decompressed stream).
        offset: u64,
        /// The bytes it has.
        bytes: u64,
        /// The format's record size.
        record: usize,
    },
    /// The trace holds no request.
    #[error("{path}: the trace has no requests{}", empty_detail(*.skipped))]
    Empty {
        /// The trace file.
        path: PathBuf,
        /// Bad records skipped on the way: every record was bad.
        skipped: u64,
    },
    /// One more bad record than the reader's budget allows it to skip.
    #[error("{error} (one bad record more than the {budget} that may be skipped)")]
    TooManyBad {
        /// The budget.
        budget: u64,
        /// The bad record over the budget.
        error: Box<TraceError>,
    },
    /// The format name or its options are wrong.
    #[error("{0}")]
    Options(String),
}

fn empty_detail(skipped: u64) -> String {
    match skipped {
        0 => String::new(),
        n => format!(" (all {n} of its records were bad and skipped)"),
    }
}

impl TraceError {
    /// Whether this is one bad record (a [`Parse`](TraceError::Parse) error), the kind a
    /// budget skips, as opposed to an unreadable, torn or empty file.
    pub fn is_bad_record(&self) -> bool {
        matches!(self, TraceError::Parse { .. })
    }
}

/// Bad records a reader skipped within its budget.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// How many.
    pub count: u64,
    /// The first one's error, naming the file, the record and what was wrong.
    pub first: Option<String>,
}

/// The trace formats `tiersim replay --format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with configurable columns.
    Csv,
    /// libCacheSim's `oracleGeneral` binary.
    OracleGeneral,
    /// The ARC paper's `.lis` traces.
    ArcLis,
    /// The LIRS paper's traces.
    Lirs,
    /// Twitter's cache-trace CSV.
    Twitter,
    /// webcachesim's `time id size` text.
    Webcachesim,
}

impl Format {
    /// Every format name.
    pub const NAMES: &'static [&'static str] = &[
        "csv",
        "oracle_general",
        "arc_lis",
        "lirs",
        "twitter",
        "webcachesim",
    ];

    /// The name `--format` uses.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::OracleGeneral => "oracle_general",
            Format::ArcLis => "arc_lis",
            Format::Lirs => "lirs",
            Format::Twitter => "twitter",
            Format::Webcachesim => "webcachesim",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = TraceError;
    fn from_str(s: &str) -> Result<Self, TraceError> {
        Ok(match s {
            "csv" => Format::Csv,
            "oracle_general" | "oracleGeneral" => Format::OracleGeneral,
            "arc_lis" | "arc" => Format::ArcLis,
            "lirs" => Format::Lirs,
            "twitter" => Format::Twitter,
            "webcachesim" => Format::Webcachesim,
            _ => {
                return Err(TraceError::Options(format!(
                    "unknown trace format `{s}`; expected one of: {}",
                    Format::NAMES.join(", ")
                )));
            }
        })
    }
}

/// A trace to replay: where it is and how to read it.
#[derive(Clone, Debug)]
pub struct TraceSource {
    /// The file; `.gz` and `.zst` are decompressed on the fly.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Column mapping, for `csv`.
    pub csv: CsvColumns,
}

/// A stream of requests.
///
/// A bad record is a [`TraceError::Parse`] that consumes it: the next call reads on from
/// the record after it. The readers [`TraceSource`] opens fill whole blocks, skip bad
/// records within their budget ([`TraceSource::open_skipping`]), and end a trace without
/// requests with [`TraceError::Empty`].
pub trait TraceReader: Send {
    /// Reads the next request into `req`; `Ok(false)` at the end of the trace.
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError>;

    /// Reads up to `out.len()` requests into `out`; returns how many, 0 at the end.
    ///
    /// Replay reads in blocks: one virtual call per block instead of per request, and a
    /// format can decode a block straight out of its buffer (`oracle_general` does). A
    /// bad record ends a block early: the requests before it are returned, the error
    /// comes from the next call. The default reads one request a call; the reader
    /// [`TraceSource`] opens around it fills the block.
    fn read_batch(&mut self, out: &mut [Request]) -> Result<usize, TraceError> {
        match out.first_mut() {
            Some(req) => Ok(usize::from(self.read(req)?)),
            None => Ok(0),
        }
    }

    /// The bad records skipped so far.
    fn skipped(&self) -> Skipped {
        Skipped::default()
    }
}

impl TraceSource {
    /// An upper bound on the trace's requests known without reading it: the record count
    /// of an uncompressed `oracle_general` file (24 bytes a record), else `None`. Sizes
    /// the replay's id table ahead, so it need not grow while the trace streams.
    pub fn records_hint(&self) -> Option<u64> {
        if self.format != Format::OracleGeneral || self.compressed() {
            return None;
        }
        std::fs::metadata(&self.path)
            .ok()
            .map(|m| m.len() / oracle::RECORD as u64)
    }

    /// Opens the trace for one pass; a bad record is an error.
    pub fn open(&self) -> Result<Box<dyn TraceReader>, TraceError> {
        self.open_skipping(0)
    }

    /// Opens the trace for one pass that skips up to `budget` bad records (real-world
    /// logs have a few); one more is [`TraceError::TooManyBad`].
    /// [`TraceReader::skipped`] counts them.
    pub fn open_skipping(&self, budget: u64) -> Result<Box<dyn TraceReader>, TraceError> {
        let file = File::open(&self.path).map_err(|source| self.io(source))?;
        self.check_length(&file)?;
        self.reader(decompress(Box::new(file), &self.path)?, budget)
    }

    /// Opens the trace for one more pass through `file`, an already open handle on it,
    /// reading from its start with positioned reads: the pass cannot fail for a file
    /// renamed or deleted since it was opened, and passes over one handle do not share a
    /// file offset. A bad record is an error.
    pub fn reopen(&self, file: &std::sync::Arc<File>) -> Result<Box<dyn TraceReader>, TraceError> {
        self.check_length(file)?;
        let raw = PositionedReader {
            file: std::sync::Arc::clone(file),
            pos: 0,
        };
        self.reader(decompress(Box::new(raw), &self.path)?, 0)
    }

    fn io(&self, source: io::Error) -> TraceError {
        TraceError::Io {
            path: self.path.clone(),
            error: source,
        }
    }

    fn compressed(&self) -> bool {
        matches!(
            self.path.extension().and_then(|e| e.to_str()),
            Some("gz" | "zst")
        )
    }

    /// An uncompressed binary trace whose length is not a whole number of records is
    /// torn: said before any work starts (a compressed one says so at its end).
    fn check_length(&self, file: &File) -> Result<(), TraceError> {
        if self.format != Format::OracleGeneral || self.compressed() {
            return Ok(());
        }
        let len = file.metadata().map_err(|source| self.io(source))?.len();
        let rest = len % oracle::RECORD as u64;
        if rest == 0 {
            return Ok(());
        }
        Err(TraceError::Torn {
            path: self.path.clone(),
            offset: len - rest,
            bytes: rest,
            record: oracle::RECORD,
        })
    }

    fn reader(&self, input: Input, budget: u64) -> Result<Box<dyn TraceReader>, TraceError> {
        fn checked<R: TraceReader + 'static>(
            inner: R,
            path: &Path,
            budget: u64,
        ) -> Box<dyn TraceReader> {
            Box::new(Checked {
                inner,
                path: path.to_owned(),
                budget,
                skipped: Skipped::default(),
                requests: 0,
                pending: None,
            })
        }
        let path = self.path.clone();
        let p = &self.path;
        Ok(match self.format {
            Format::Csv => checked(csv::Reader::new(input, path, &self.csv)?, p, budget),
            Format::OracleGeneral => checked(oracle::Reader::new(input, path), p, budget),
            Format::ArcLis => checked(arc::Reader::new(input, path), p, budget),
            Format::Lirs => checked(lirs::Reader::new(input, path), p, budget),
            Format::Twitter => checked(twitter::Reader::new(input, path), p, budget),
            Format::Webcachesim => checked(webcachesim::Reader::new(input, path), p, budget),
        })
    }
}

/// A format's reader with what every format shares: it fills whole blocks, skips bad
/// records within its budget, and says when a trace has no requests.
struct Checked<R> {
    inner: R,
    path: PathBuf,
    budget: u64,
    skipped: Skipped,
    /// Requests read so far.
    requests: u64,
    /// An error met after some requests of a block, for the next call.
    pending: Option<TraceError>,
}

impl<R> Checked<R> {
    /// Skips `e` if it is a bad record within the budget, else gives it back to raise.
    #[cold]
    fn skip(&mut self, e: TraceError) -> Result<(), TraceError> {
        if !e.is_bad_record() {
            return Err(e);
        }
        if self.skipped.count >= self.budget {
            return Err(match self.budget {
                0 => e,
                budget => TraceError::TooManyBad {
                    budget,
                    error: Box::new(e),
                },
            });
        }
        self.skipped.count += 1;
        if self.skipped.first.is_none() {
            self.skipped.first = Some(e.to_string());
        }
        Ok(())
    }
}

impl<R: TraceReader> TraceReader for Checked<R> {
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        Ok(self.read_batch(std::slice::from_mut(req))? == 1)
    }

    #[inline]
    fn read_batch(&mut self, out: &mut [Request]) -> Result<usize, TraceError> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let mut n = 0;
        while n < out.len() {
            match self.inner.read_batch(&mut out[n..]) {
                Ok(0) if self.requests == 0 => {
                    return Err(TraceError::Empty {
                        path: self.path.clone(),
                        skipped: self.skipped.count,
                    });
                }
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    self.requests += k as u64;
                }
                Err(e) => {
                    if let Err(e) = self.skip(e) {
                        if n == 0 {
                            return Err(e);
                        }
                        self.pending = Some(e);
                        break;
                    }
                }
            }
        }
        Ok(n)
    }

    fn skipped(&self) -> Skipped {
        self.skipped.clone()
    }
}

/// The buffered input every reader reads from.
pub type Input = Box<dyn BufRead + Send>;

const BUFFER: usize = 1 << 20;

/// Opens `path`, decompressing `.gz` and `.zst` by extension.
pub fn open_decompressed(path: &Path) -> Result<Input, TraceError> {
    let file = File::open(path).map_err(|source| TraceError::Io {
        path: path.to_owned(),
        error: source,
    })?;
    decompress(Box::new(file), path)
}

/// Reads a shared file handle from its own position (`pread`), for [`TraceSource::reopen`].
struct PositionedReader {
    file: std::sync::Arc<File>,
    pos: u64,
}

impl Read for PositionedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Wraps `file`, read from `path`, in a decompressor chosen by the extension and a
/// 1 MiB buffer.
fn decompress(file: Box<dyn Read + Send>, path: &Path) -> Result<Input, TraceError> {
    let io = |source| TraceError::Io {
        path: path.to_owned(),
        error: source,
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let raw: Box<dyn Read + Send> = match ext {
        "gz" => Box::new(Decoded {
            inner: flate2::read::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, file)),
            what: "gzip",
        }),
        "zst" => Box::new(Decoded {
            inner: zstd::Decoder::new(file).map_err(io)?,
            what: "zstd",
        }),
        _ => Box::new(file),
    };
    Ok(Box::new(BufReader::with_capacity(BUFFER, raw)))
}

/// A decompressor whose errors say that the compressed data is at fault.
struct Decoded<R> {
    inner: R,
    what: &'static str,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} data is corrupt or truncated ({e})", self.what),
            )
        })
    }
}

/// The longest line a text trace may have. Bounds the memory a file without line breaks
/// (a binary file read as text) takes; real traces' lines are below 1 KiB.
pub const MAX_LINE: usize = 64 * 1024;

/// Reads text lines into a reused buffer, counting them, for the line-based formats. A
/// line that is not text (a control byte, or longer than [`MAX_LINE`]) is a bad record.
pub(crate) struct Lines {
    input: Input,
    path: PathBuf,
    /// What a line of the format holds, for error messages.
    expect: Cow<'static, str>,
    line: Vec<u8>,
    number: u64,
}

/// A byte that text lines do not hold (tab is a delimiter; line endings are stripped).
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

impl Lines {
    /// Lines of `input`, read from `path`; `expect` says what a line holds.
    pub(crate) fn new(input: Input, path: PathBuf, expect: impl Into<Cow<'static, str>>) -> Self {
        Lines {
            input,
            path,
            expect: expect.into(),
            line: Vec::with_capacity(256),
            number: 0,
        }
    }

    /// The next line without its line ending, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<&[u8]>, TraceError> {
        self.line.clear();
        let n = (&mut self.input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut self.line)
            .map_err(|source| self.io(source))?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        } else if self.line.len() > MAX_LINE {
            self.skip_rest_of_line()?;
            return Err(self.error(format!(
                "is longer than {MAX_LINE} bytes (is this a binary file?)"
            )));
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        // A branch-free pass over the line first (it vectorizes); the position only for
        // the error.
        let control = self.line.iter().fold(false, |any, &b| any | is_control(b));
        if let Some(i) = control
            .then(|| self.line.iter().position(|&b| is_control(b)))
            .flatten()
        {
            return Err(self.error(format!(
                "is not text: byte 0x{:02x} at column {} (is this a binary file?)",
                self.line[i],
                i + 1
            )));
        }
        Ok(Some(&self.line))
    }

    /// What `parse` makes of the next line that holds a record (it returns `None` for
    /// one that holds none: skipped), or `None` at the end; its error names the line.
    pub(crate) fn next_parsed<T>(
        &mut self,
        mut parse: impl FnMut(&[u8]) -> Result<Option<T>, String>,
    ) -> Result<Option<T>, TraceError> {
        loop {
            let Some(line) = self.next_line()? else {
                return Ok(None);
            };
            if let Some(record) = parse(line).map_err(|m| self.error(m))? {
                return Ok(Some(record));
            }
        }
    }

    /// The number of the line last read, from 1.
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    fn io(&self, source: io::Error) -> TraceError {
        TraceError::Io {
            path: self.path.clone(),
            error: source,
        }
    }

    /// Consumes the input up to and including the next line break.
    #[cold]
    fn skip_rest_of_line(&mut self) -> Result<(), TraceError> {
        loop {
            let buf = self.input.fill_buf().map_err(|source| TraceError::Io {
                path: self.path.clone(),
                error: source,
            })?;
            if buf.is_empty() {
                return Ok(());
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.input.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    self.input.consume(n);
                }
            }
        }
    }

    /// An error about the current line: `message`, then what the format expects.
    pub(crate) fn error(&self, message: impl fmt::Display) -> TraceError {
        self.error_at(self.number, message)
    }

    /// An error about line `line`: `message`, then what the format expects.
    pub(crate) fn error_at(&self, line: u64, message: impl fmt::Display) -> TraceError {
        TraceError::Parse {
            path: self.path.clone(),
            at: Position::Line(line),
            message: format!("{message}; expected {}", self.expect),
        }
    }
}

/// An unsigned integer in ASCII digits, with surrounding whitespace and a leading `+`
/// allowed (as `str::parse` reads it); `None` if it is not one or exceeds `u64`.
#[inline]
pub(crate) fn parse_uint(field: &[u8]) -> Option<u64> {
    let f = field.trim_ascii();
    let digits = f.strip_prefix(b"+").unwrap_or(f);
    if digits.is_empty() {
        return None;
    }
    let mut n = 0u64;
    if digits.len() < 20 {
        // Below 10^19: cannot overflow, so no checked arithmetic per digit.
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            n = n * 10 + u64::from(d);
        }
        return Some(n);
    }
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Parses an unsigned number field, naming the field in the error.
pub(crate) fn parse_field<T: TryFrom<u64>>(field: Option<&[u8]>, name: &str) -> Result<T, String> {
    let f = field.ok_or_else(|| format!("field `{name}` is missing"))?;
    parse_uint(f)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "field `{name}` is `{}`, not an unsigned integer (or too large)",
                String::from_utf8_lossy(f)
            )
        })
}

/// The whitespace-separated fields of a line.
pub(crate) fn words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_uint_reads_what_str_parse_reads() {
        for s in [
            "0",
            "7",
            " 42 ",
            "+5",
            "1000000000000000000",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "",
            "+",
            "-1",
            "1x",
            "1 2",
            "00000000000000000000001",
        ] {
            assert_eq!(
                parse_uint(s.as_bytes()),
                s.trim().parse::<u64>().ok(),
                "{s:?}"
            );
        }
    }

    /// A bad record ends a block; the records before it come first, the error next, and
    /// within a budget the block goes on past it. One more than the budget is an error
    /// that says so; an empty trace is one too.
    #[test]
    fn budgets_blocks_and_empty_traces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.lirs");
        std::fs::write(&path, "1\n2\nx\n3\ny\n4\n").unwrap();
        let src = TraceSource {
            path: path.clone(),
            format: Format::Lirs,
            csv: CsvColumns::default(),
        };
        let mut block = [Request::default(); 8];
        let mut r = src.open().unwrap();
        assert_eq!(r.read_batch(&mut block).unwrap(), 2);
        let e = r.read_batch(&mut block).unwrap_err();
        assert!(
            e.is_bad_record() && e.to_string().contains("t.lirs: line 3"),
            "{e}"
        );
        let mut r = src.open_skipping(1).unwrap();
        assert_eq!(r.read_batch(&mut block).unwrap(), 3);
        let e = r.read_batch(&mut block).unwrap_err().to_string();
        assert!(
            e.contains("line 5") && e.contains("one bad record more than the 1"),
            "{e}"
        );
        let mut r = src.open_skipping(2).unwrap();
        assert_eq!(r.read_batch(&mut block).unwrap(), 4);
        assert_eq!(r.read_batch(&mut block).unwrap(), 0);
        let skipped = r.skipped();
        assert_eq!(skipped.count, 2);
        assert!(skipped.first.unwrap().contains("line 3"));
        std::fs::write(&path, "x\n").unwrap();
        let e = src
            .open_skipping(5)
            .unwrap()
            .read_batch(&mut block)
            .unwrap_err();
        assert!(
            matches!(e, TraceError::Empty { skipped: 1, .. }),
            "{e}: every record bad is no requests"
        );
    }
}
