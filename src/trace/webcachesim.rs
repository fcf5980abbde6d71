//! webcachesim's text traces (Berger, Sitaraman and Harchol-Balter, NSDI 2017):
//! whitespace-separated `time id size` per line.
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::path::PathBuf;

use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_field};

/// Reads `time id size` lines.
pub struct Reader {
    lines: Lines,
}

impl Reader {
    /// A reader over `input`, read from `path`.
    pub fn new(input: Input, path: PathBuf) -> Self {
        Reader {
            lines: Lines::new(input, path),
        }
    }
}

impl TraceReader for Reader {
    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        self.lines.read(req, |line| {
            let mut f = line.split_ascii_whitespace();
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
        })
    }
}
