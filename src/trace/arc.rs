//! The ARC paper's `.lis` traces (Megiddo and Modha, FAST 2003).
//!
//! Each line is `start_block n_blocks ignore req_no` and stands for `n_blocks` requests to
//! the consecutive 512-byte pages `start_block .. start_block + n_blocks`.
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::path::PathBuf;

use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_field};

/// The page size of the ARC traces.
pub const PAGE: u32 = 512;

/// Expands `.lis` lines into page requests.
pub struct Reader {
    lines: Lines,
    next_block: u64,
    remaining: u64,
    time: u64,
}

impl Reader {
    /// A reader over `input`, read from `path`.
    pub fn new(input: Input, path: PathBuf) -> Self {
        Reader {
            lines: Lines::new(input, path),
            next_block: 0,
            remaining: 0,
            time: 0,
        }
    }
}

impl TraceReader for Reader {
    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        while self.remaining == 0 {
            let Some(line) = self.lines.next_line()? else {
                return Ok(false);
            };
            let mut f = line.split_ascii_whitespace();
            let Some(first) = f.next() else { continue };
            let parsed = parse_field::<u64>(Some(first), "start_block")
                .and_then(|s| Ok((s, parse_field::<u64>(f.next(), "n_blocks")?)));
            let (start, n) = parsed.map_err(|m| self.lines.error(m))?;
            self.next_block = start;
            self.remaining = n;
        }
        *req = Request {
            time: self.time,
            id: self.next_block,
            size: PAGE,
            op: Op::Read,
            ttl: 0,
        };
        self.time += 1;
        self.next_block += 1;
        self.remaining -= 1;
        Ok(true)
    }
}
