//! webcachesim's text traces (Berger, Sitaraman and Harchol-Balter, NSDI 2017):
//! whitespace-separated `time id size` per line (further columns, which later versions
//! add, are ignored).
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::path::PathBuf;

use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_field, words};

/// What a line holds, for error messages.
const EXPECT: &str = "`time id size` per line, unsigned integers separated by whitespace";

/// Reads `time id size` lines.
pub struct Reader {
    lines: Lines,
}

impl Reader {
    /// A reader over `input`, read from `path`.
    pub fn new(input: Input, path: PathBuf) -> Self {
        Reader {
            lines: Lines::new(input, path, EXPECT),
        }
    }
}

/// A line's request, or `None` for a blank line.
fn parse(line: &[u8]) -> Result<Option<Request>, String> {
    let mut f = words(line);
    let Some(time) = f.next() else {
        return Ok(None);
    };
    Ok(Some(Request {
        time: parse_field(Some(time), "time")?,
        id: parse_field(f.next(), "id")?,
        size: parse_field(f.next(), "size")?,
        op: Op::Read,
        ttl: 0,
    }))
}

impl TraceReader for Reader {
    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        Ok(self.lines.next_parsed(parse)?.map(|r| *req = r).is_some())
    }
}
