//! Trace input: streaming readers for the trace formats of the caching literature.
//!
//! Every reader yields [`Request`]s one at a time from a buffered, possibly compressed
//! stream (`.gz` and `.zst` are recognised by extension), so a trace of any length
//! replays in constant memory. Ids stay as the trace spells them (`u64`); the replay maps
//! them to dense keys.
//!
//! | format | one record | module |
//! |---|---|---|
//! | `csv` | columns chosen by [`CsvColumns`] | [`csv`](mod@self::csv) |
//! | `oracle_general` | libCacheSim binary: u32 time, u64 id, u32 size, i64 next access | [`oracle`] |
//! | `arc_lis` | `start n ignore req_no`: n consecutive 512-byte pages | [`arc`] |
//! | `lirs` | one id per line; lines with `*` skipped | [`lirs`] |
//! | `twitter` | timestamp, key, key size, value size, client, op, TTL | [`twitter`] |
//! | `webcachesim` | `time id size` | [`webcachesim`] |
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

/// A problem reading a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("cannot read trace {path}: {source}")]
    Io {
        /// The trace file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A record does not follow the format.
    #[error("{path}: record {record}: {message}")]
    Parse {
        /// The trace file.
        path: PathBuf,
        /// The 1-based record (line, or binary record) number.
        record: u64,
        /// What is wrong.
        message: String,
    },
    /// The format name or its options are wrong.
    #[error("{0}")]
    Options(String),
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
pub trait TraceReader: Send {
    /// Reads the next request into `req`; `Ok(false)` at the end of the trace.
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError>;

    /// Reads up to `out.len()` requests into `out`; returns how many, 0 at the end.
    ///
    /// Replay reads in blocks: one virtual call per block instead of per request, and a
    /// format can decode a block straight out of its buffer (`oracle_general` does).
    fn read_batch(&mut self, out: &mut [Request]) -> Result<usize, TraceError> {
        let mut n = 0;
        while n < out.len() && self.read(&mut out[n])? {
            n += 1;
        }
        Ok(n)
    }
}

impl TraceSource {
    /// An upper bound on the trace's requests known without reading it: the record count
    /// of an uncompressed `oracle_general` file (24 bytes a record), else `None`. Sizes
    /// the replay's id table ahead, so it need not grow while the trace streams.
    pub fn records_hint(&self) -> Option<u64> {
        let ext = self.path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if self.format != Format::OracleGeneral || ext == "gz" || ext == "zst" {
            return None;
        }
        std::fs::metadata(&self.path)
            .ok()
            .map(|m| m.len() / oracle::RECORD as u64)
    }

    /// Opens the trace for one pass.
    pub fn open(&self) -> Result<Box<dyn TraceReader>, TraceError> {
        self.reader(open_decompressed(&self.path)?)
    }

    /// Opens the trace for one more pass through `file`, an already open handle on it,
    /// reading from its start with positioned reads: the pass cannot fail for a file
    /// renamed or deleted since it was opened, and passes over one handle do not share a
    /// file offset.
    pub fn reopen(&self, file: &std::sync::Arc<File>) -> Result<Box<dyn TraceReader>, TraceError> {
        let raw = PositionedReader {
            file: std::sync::Arc::clone(file),
            pos: 0,
        };
        self.reader(decompress(Box::new(raw), &self.path)?)
    }

    fn reader(&self, input: Input) -> Result<Box<dyn TraceReader>, TraceError> {
        let path = self.path.clone();
        Ok(match self.format {
            Format::Csv => Box::new(csv::Reader::new(input, path, &self.csv)?),
            Format::OracleGeneral => Box::new(oracle::Reader::new(input, path)),
            Format::ArcLis => Box::new(arc::Reader::new(input, path)),
            Format::Lirs => Box::new(lirs::Reader::new(input, path)),
            Format::Twitter => Box::new(twitter::Reader::new(input, path)),
            Format::Webcachesim => Box::new(webcachesim::Reader::new(input, path)),
        })
    }
}

/// The buffered input every reader reads from.
pub type Input = Box<dyn BufRead + Send>;

const BUFFER: usize = 1 << 20;

/// Opens `path`, decompressing `.gz` and `.zst` by extension.
pub fn open_decompressed(path: &Path) -> Result<Input, TraceError> {
    let file = File::open(path).map_err(|source| TraceError::Io {
        path: path.to_owned(),
        source,
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
        source,
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let raw: Box<dyn Read + Send> = match ext {
        "gz" => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            BUFFER, file,
        ))),
        "zst" => Box::new(zstd::Decoder::new(file).map_err(io)?),
        _ => Box::new(file),
    };
    Ok(Box::new(BufReader::with_capacity(BUFFER, raw)))
}

/// Reads text lines into a reused buffer, counting them, for the line-based formats.
pub(crate) struct Lines {
    input: Input,
    path: PathBuf,
    line: String,
    number: u64,
}

impl Lines {
    pub(crate) fn new(input: Input, path: PathBuf) -> Self {
        Lines {
            input,
            path,
            line: String::with_capacity(256),
            number: 0,
        }
    }

    /// The next line without its line ending, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<&str>, TraceError> {
        self.line.clear();
        let n = self
            .input
            .read_line(&mut self.line)
            .map_err(|source| TraceError::Io {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        Ok(Some(self.line.trim_end_matches(['\n', '\r'])))
    }

    /// Reads lines until `parse` makes a request of one, into `req`, passing over the lines
    /// it returns `Ok(None)` for (blank lines, markers): `Ok(false)` at the end, and what
    /// `parse` says is wrong as an error at its line.
    #[inline]
    pub(crate) fn read(
        &mut self,
        req: &mut Request,
        mut parse: impl FnMut(&str) -> Result<Option<Request>, String>,
    ) -> Result<bool, TraceError> {
        loop {
            let Some(line) = self.next_line()? else {
                return Ok(false);
            };
            match parse(line) {
                Ok(Some(parsed)) => {
                    *req = parsed;
                    return Ok(true);
                }
                Ok(None) => {}
                Err(message) => return Err(self.error(message)),
            }
        }
    }

    /// An error about the current line.
    pub(crate) fn error(&self, message: impl Into<String>) -> TraceError {
        TraceError::Parse {
            path: self.path.clone(),
            record: self.number,
            message: message.into(),
        }
    }
}

/// Parses a number field, naming the field in the error.
pub(crate) fn parse_field<T: std::str::FromStr>(
    field: Option<&str>,
    name: &str,
) -> Result<T, String> {
    let f = field.ok_or_else(|| format!("missing field `{name}`"))?;
    f.trim()
        .parse()
        .map_err(|_| format!("field `{name}` is `{f}`, not a valid number"))
}
