//! Delimited text traces with configurable columns, one record per line, split into one
//! reused buffer (no allocation per request).
//!
//! Columns are numbered from 1, as libCacheSim's `csv` reader numbers them. A field may
//! be quoted (`"a,b"`, with `""` for a quote inside; the `csv` crate's parser,
//! `csv_core`, unquotes it), but a record does not continue on the next line. A key that is not an unsigned integer is hashed (SipHash with fixed
//! keys, so runs repeat). Blank lines are skipped.
//!
//! A first line whose key is text when the second line's key is a number is taken for a
//! header: without [`CsvColumns::header`] it is a bad record, not a request.
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::path::PathBuf;

use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_uint};

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

/// A key as a `u64`: the number itself, or a fixed hash of its bytes; and whether it was
/// a number.
pub(crate) fn key_id(field: &[u8]) -> (u64, bool) {
    if let Some(n) = parse_uint(field) {
        return (n, true);
    }
    let mut h = std::hash::DefaultHasher::new();
    field.hash(&mut h);
    (h.finish(), false)
}

/// The fields of one line, unquoted by the `csv` crate's parser (`csv_core`) into one
/// reused buffer.
#[derive(Debug)]
pub(crate) struct Fields {
    parser: csv_core::Reader,
    delimiter: u8,
    /// The fields' bytes.
    bytes: Vec<u8>,
    /// Where each field starts and ends in `bytes`.
    spans: Vec<Range<usize>>,
}

/// The end of a line, fed to the parser after the line: a field still open after it is
/// in quotes.
const LINE_END: &[u8] = b"\n";

impl Fields {
    /// Fields separated by `delimiter`, quoted as RFC 4180 quotes them (`""` for a quote
    /// inside a quoted field).
    pub(crate) fn new(delimiter: u8) -> Self {
        let mut fields = Fields {
            parser: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            delimiter,
            bytes: Vec::new(),
            spans: Vec::with_capacity(16),
        };
        fields.restart();
        fields
    }

    /// Sets the parser back to the start of a record, past its first read: it strips a
    /// UTF-8 byte order mark from its first input only, and a line keeps its bytes.
    fn restart(&mut self) {
        self.parser.reset();
        // An empty line: read, skipped, the parser is where it was.
        let _ = self.parser.read_field(LINE_END, &mut [0]);
    }

    /// Splits `line` (without its line ending). A record does not continue on the next
    /// line: a quote the line does not close is an error, and so is text after a closing
    /// quote, which the parser would read leniently.
    pub(crate) fn split(&mut self, line: &[u8]) -> Result<(), String> {
        self.spans.clear();
        if line.contains(&b'"') {
            return self.split_quoted(line);
        }
        // Without quotes a field is what lies between delimiters, as the parser would
        // find a byte at a time, slower (docs/performance.md, "CSV traces").
        self.bytes.clear();
        self.bytes.extend_from_slice(line);
        let mut start = 0;
        for field in line.split(|&b| b == self.delimiter) {
            self.spans.push(start..start + field.len());
            start += field.len() + 1;
        }
        Ok(())
    }

    /// [`split`](Self::split) for a line with quotes, by the parser, field by field to
    /// check each quoted field's text.
    #[cold]
    fn split_quoted(&mut self, line: &[u8]) -> Result<(), String> {
        // Unquoting never lengthens a field; one more byte for the line end.
        self.bytes.clear();
        self.bytes.resize(line.len() + 1, 0);
        // Where the current field starts: in `line`, and in `bytes`.
        let (mut raw_start, mut start) = (0, 0);
        let (mut pos, mut out) = (0, 0);
        loop {
            let input = if pos < line.len() {
                &line[pos..]
            } else {
                LINE_END
            };
            let (result, nin, nout) = self.parser.read_field(input, &mut self.bytes[out..]);
            let at_end = pos >= line.len();
            pos += nin;
            out += nout;
            match result {
                csv_core::ReadFieldResult::Field { record_end } => {
                    let raw_end = if record_end { line.len() } else { pos - 1 };
                    self.spans.push(start..out);
                    if line.get(raw_start) == Some(&b'"')
                        && !well_quoted(&line[raw_start..raw_end], &self.bytes[start..out])
                    {
                        self.restart();
                        return Err(format!(
                            "field {} has text after its closing quote",
                            self.spans.len()
                        ));
                    }
                    if record_end {
                        return Ok(());
                    }
                    (raw_start, start) = (pos, out);
                }
                csv_core::ReadFieldResult::InputEmpty if at_end => {
                    self.restart();
                    return Err(format!(
                        "field {} opens a quote that the line does not close",
                        self.spans.len() + 1
                    ));
                }
                csv_core::ReadFieldResult::InputEmpty => {}
                // The buffer holds the whole line unquoted, and a line is not the end.
                csv_core::ReadFieldResult::OutputFull | csv_core::ReadFieldResult::End => {
                    unreachable!("csv_core: {result:?} within one line")
                }
            }
        }
    }

    /// How many fields.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Field `i`, from 0.
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        self.spans.get(i).map(|r| &self.bytes[r.clone()])
    }
}

/// Whether the quoted field `raw` (from its opening quote) is its unquoted `value` in
/// quotes and nothing more: it ends in the closing quote, and only the doubled quotes
/// inside add to its length (text after a closing quote would have no quote doubled).
fn well_quoted(raw: &[u8], value: &[u8]) -> bool {
    let quotes = value.iter().filter(|&&b| b == b'"').count();
    raw.len() >= 2 && raw.ends_with(b"\"") && raw.len() == value.len() + quotes + 2
}

/// Reads configurable CSV.
pub struct Reader {
    lines: Lines,
    fields: Fields,
    columns: CsvColumns,
    /// Records read, the header aside (a record's time without a time column).
    records: u64,
    /// Whether the header line is still to skip.
    header_due: bool,
    /// What the record after the first one gave, when reading it early decided whether
    /// the first was a header: the next call returns it.
    ahead: Option<Result<Option<Request>, TraceError>>,
}

/// One parsed record: the request and whether its key was a number.
type Record = (Request, bool);

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
        Ok(Reader {
            lines: Lines::new(input, path, expectation(columns)),
            fields: Fields::new(columns.delimiter),
            columns: columns.clone(),
            records: 0,
            header_due: columns.header,
            ahead: None,
        })
    }

    /// The next record, or `None` at the end.
    fn record(&mut self) -> Result<Option<Record>, TraceError> {
        loop {
            let Some(line) = self.lines.next_line()? else {
                return Ok(None);
            };
            if line.is_empty() {
                continue;
            }
            if std::mem::take(&mut self.header_due) {
                continue;
            }
            self.records += 1;
            let split = self.fields.split(line);
            split.map_err(|m| self.lines.error(m))?;
            return self.parse().map(Some).map_err(|m| self.lines.error(m));
        }
    }

    fn field(&self, column: usize, name: &str) -> Result<&[u8], String> {
        self.fields.get(column - 1).ok_or_else(|| {
            let n = self.fields.len();
            let s = if n == 1 { "" } else { "s" };
            format!("no column {column} ({name}): the line has {n} field{s}")
        })
    }

    fn number<T: TryFrom<u64>>(&self, column: usize, name: &str) -> Result<T, String> {
        let f = self.field(column, name)?;
        parse_uint(f)
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| {
                format!(
                    "column {column} ({name}) is `{}`, not an unsigned integer (or too large)",
                    String::from_utf8_lossy(f)
                )
            })
    }

    fn parse(&self) -> Result<Record, String> {
        let c = &self.columns;
        let key = self.field(c.key, "key")?;
        if key.trim_ascii().is_empty() {
            return Err(format!("column {} (key) is empty", c.key));
        }
        let (id, numeric) = key_id(key);
        let req = Request {
            time: match c.time {
                Some(t) => self.number(t, "time")?,
                None => self.records - 1,
            },
            id,
            size: match c.size {
                Some(s) => self.number(s, "size")?,
                None => 1,
            },
            op: Op::Read,
            ttl: 0,
        };
        Ok((req, numeric))
    }

    /// The first record has a text key: reads the second to see whether the first is a
    /// header (text above numbers), keeping what it gave for the next call.
    #[cold]
    fn header_check(&mut self) -> Result<(), TraceError> {
        let line = self.lines.number();
        let key = self.field(self.columns.key, "key").unwrap_or_default();
        let key = String::from_utf8_lossy(key).into_owned();
        let second = self.record();
        let header = matches!(second, Ok(Some((_, true))));
        self.ahead = Some(second.map(|r| r.map(|(req, _)| req)));
        if !header {
            return Ok(());
        }
        Err(self.lines.error_at(
            line,
            format!(
                "looks like a header: its key `{key}` (column {}) is text and the next \
                 line's is a number (replay: --csv-header says the trace has a header)",
                self.columns.key
            ),
        ))
    }
}

/// What a line holds, for error messages.
fn expectation(c: &CsvColumns) -> String {
    let mut s = format!(
        "`{}`-delimited fields, the key in column {}",
        c.delimiter as char, c.key
    );
    if let Some(t) = c.time {
        s += &format!(", the time in column {t}");
    }
    if let Some(z) = c.size {
        s += &format!(", the size in column {z}");
    }
    if c.time.is_some() || c.size.is_some() {
        s += " (unsigned integers)";
    }
    s
}

impl TraceReader for Reader {
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        if let Some(ahead) = self.ahead.take() {
            return ahead.map(|r| match r {
                Some(r) => {
                    *req = r;
                    true
                }
                None => false,
            });
        }
        let first = self.records == 0;
        let Some((r, numeric)) = self.record()? else {
            return Ok(false);
        };
        if first && !numeric {
            self.header_check()?;
        }
        *req = r;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Format, TraceSource};

    /// Every request of `text` read as CSV with `columns`, or the first error's text.
    fn read(text: &str, columns: CsvColumns) -> Vec<Result<Request, String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let src = TraceSource {
            path,
            format: Format::Csv,
            csv: columns,
        };
        let mut r = src.open().unwrap();
        let mut out = Vec::new();
        loop {
            let mut q = Request::default();
            match r.read(&mut q) {
                Ok(true) => out.push(Ok(q)),
                Ok(false) => return out,
                Err(e) => out.push(Err(e.to_string())),
            }
            if out.len() > 10 {
                return out;
            }
        }
    }

    fn sized() -> CsvColumns {
        CsvColumns {
            size: Some(2),
            ..CsvColumns::default()
        }
    }

    #[test]
    fn quoted_fields_blank_lines_and_crlf() {
        let got = read("\"a,b\",1\r\n\r\n\"x\"\"y\",2\n7,3", sized());
        let want = [(key_id(b"a,b").0, 1), (key_id(b"x\"y").0, 2), (7, 3)];
        let got: Vec<(u64, u32)> = got
            .into_iter()
            .map(|r| r.map(|q| (q.id, q.size)).unwrap())
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_broken_quote_is_a_bad_record_and_the_next_line_reads() {
        let got = read("\"open,1\n\"a\"b,2\n5,3\n", sized());
        let e0 = got[0].as_ref().unwrap_err();
        assert!(e0.contains("line 1: field 1 opens a quote"), "{e0}");
        let e1 = got[1].as_ref().unwrap_err();
        assert!(
            e1.contains("line 2: field 1 has text after its closing quote"),
            "{e1}"
        );
        assert_eq!(got[2].as_ref().unwrap().id, 5);
    }

    /// Only text above numbers is a header: text keys throughout are keys, and a first
    /// text key before a bad line or the end is a request too.
    #[test]
    fn the_header_check_reads_ahead_without_losing_a_record() {
        let ids = |text| -> Vec<Result<u64, String>> {
            read(text, CsvColumns::default())
                .into_iter()
                .map(|r| r.map(|q| q.id))
                .collect()
        };
        assert_eq!(
            ids("alpha\nbeta\n"),
            [Ok(key_id(b"alpha").0), Ok(key_id(b"beta").0)]
        );
        assert_eq!(ids("alpha\n"), [Ok(key_id(b"alpha").0)]);
        let got = ids("alpha\n\"x\n3\n");
        assert_eq!(got[0], Ok(key_id(b"alpha").0));
        assert!(got[1].as_ref().unwrap_err().contains("line 2"), "{got:?}");
        assert_eq!(got[2], Ok(3));
        let got = ids("id\n3\n4\n");
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .contains("line 1: looks like a header")
        );
        assert_eq!(got[1..], [Ok(3), Ok(4)]);
        // With the header declared, the first non-blank line is skipped whatever it is.
        let header = CsvColumns {
            header: true,
            ..CsvColumns::default()
        };
        let got: Vec<u64> = read("\nid\n3\n", header)
            .into_iter()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(got, [3]);
    }

    #[test]
    fn missing_columns_and_empty_keys_are_bad_records() {
        let got = read("1\n,2\n", sized());
        let e0 = got[0].as_ref().unwrap_err();
        assert!(
            e0.contains("line 1: no column 2 (size): the line has 1 field"),
            "{e0}"
        );
        assert!(
            e0.contains("expected `,`-delimited fields, the key in column 1, the size in column 2"),
            "{e0}"
        );
        let e1 = got[1].as_ref().unwrap_err();
        assert!(e1.contains("line 2: column 1 (key) is empty"), "{e1}");
    }
    /// A line without quotes is split at its delimiters without the parser: the fields
    /// must be those the parser finds, on random non-empty lines (a blank line is skipped
    /// before splitting) of digits, letters, blanks, tabs, empty fields and delimiters at
    /// either end.
    #[test]
    fn lines_without_quotes_split_as_the_parser_splits_them() {
        let alphabet = b"0123456789ab ,\t;";
        let mut x = 7u64;
        for delimiter in [b',', b'\t', b';'] {
            let (mut fast, mut parsed) = (Fields::new(delimiter), Fields::new(delimiter));
            for _ in 0..2_000 {
                x = crate::base::rng::mix64(x);
                let line: Vec<u8> = (0..1 + x % 24)
                    .map(|i| alphabet[((x >> (2 * i)) % alphabet.len() as u64) as usize])
                    .collect();
                fast.split(&line).unwrap();
                parsed.spans.clear();
                parsed.split_quoted(&line).unwrap();
                let fields = |f: &Fields| -> Vec<Vec<u8>> {
                    (0..f.len()).map(|i| f.get(i).unwrap().to_vec()).collect()
                };
                assert_eq!(
                    fields(&fast),
                    fields(&parsed),
                    "{:?}",
                    String::from_utf8_lossy(&line)
                );
            }
        }
    }

    /// Quoted fields the parser reads leniently are bad records, named by field; well
    /// quoted ones, empty or with doubled quotes, before a delimiter or the end, read.
    #[test]
    fn quoted_fields_are_checked_field_by_field() {
        let mut f = Fields::new(b',');
        let fields = |f: &Fields| -> Vec<String> {
            (0..f.len())
                .map(|i| String::from_utf8_lossy(f.get(i).unwrap()).into_owned())
                .collect()
        };
        f.split(b"a,\"b\",").unwrap();
        assert_eq!(fields(&f), ["a", "b", ""]);
        f.split(b"\"\",\"x\"\"\",\"\"\"\"").unwrap();
        assert_eq!(fields(&f), ["", "x\"", "\""]);
        f.split(b"1,\"a\"b\"").unwrap_err();
        let e = f.split(b"1,\"a\"b\",2").unwrap_err();
        assert_eq!(e, "field 2 has text after its closing quote");
        let e = f.split(b"1,2,\"a\"\"").unwrap_err();
        assert_eq!(e, "field 3 opens a quote that the line does not close");
        // The parser starts afresh after an error.
        f.split(b"\"c\",4").unwrap();
        assert_eq!(fields(&f), ["c", "4"]);
        // A byte order mark is a line's bytes, here as in lines without quotes.
        for line in [&b"\xef\xbb\xbf\"d\",5"[..], b"\xef\xbb\xbfd,5"] {
            let mut f = Fields::new(b',');
            f.split(line).unwrap();
            assert_eq!(f.get(0).unwrap(), &line[..line.len() - 2]);
        }
    }
}
