//! The ARC paper's `.lis` traces (Megiddo and Modha, FAST 2003).
//!
//! Each line is `start_block n_blocks ignore req_no` and stands for `n_blocks` requests to
//! the consecutive 512-byte pages `start_block .. start_block + n_blocks`.
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::path::PathBuf;

use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_field, words};

/// The page size of the ARC traces.
pub const PAGE: u32 = 512;

/// The most pages one line may stand for (512 MiB). The papers' traces ask for at most
/// 512; the bound keeps a garbage line from expanding into an endless replay.
pub const MAX_PAGES: u64 = 1 << 20;

/// What a line holds, for error messages.
const EXPECT: &str = "`start_block n_blocks ignore req_no` per line, four unsigned integers \
                      separated by whitespace";

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
            lines: Lines::new(input, path, EXPECT),
            next_block: 0,
            remaining: 0,
            time: 0,
        }
    }
}

/// A line's first page and page count.
fn parse(line: &[u8]) -> Result<Option<(u64, u64)>, String> {
    let mut f = words(line);
    let Some(first) = f.next() else {
        return Ok(None);
    };
    let start: u64 = parse_field(Some(first), "start_block")?;
    let n: u64 = parse_field(f.next(), "n_blocks")?;
    parse_field::<u64>(f.next(), "ignore")?;
    parse_field::<u64>(f.next(), "req_no")?;
    if !(1..=MAX_PAGES).contains(&n) {
        return Err(format!(
            "n_blocks is {n}; a line asks for 1 to {MAX_PAGES} pages"
        ));
    }
    if start.checked_add(n).is_none() {
        return Err(format!(
            "start_block {start} + n_blocks {n} passes the last block number"
        ));
    }
    Ok(Some((start, n)))
}

impl TraceReader for Reader {
    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        if self.remaining == 0 {
            let Some((start, n)) = self.lines.next_parsed(parse)? else {
                return Ok(false);
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_four_integers_for_1_to_max_pages_pages() {
        assert_eq!(parse(b"10 3 0 7"), Ok(Some((10, 3))));
        assert_eq!(parse(b"   "), Ok(None));
        for (line, phrase) in [
            ("10 3", "field `ignore` is missing"),
            ("10 3 0 x", "field `req_no` is `x`"),
            ("10 0 0 0", "n_blocks is 0"),
            (
                "10 1048577 0 0",
                "n_blocks is 1048577; a line asks for 1 to 1048576",
            ),
            ("18446744073709551615 2 0 0", "passes the last block number"),
        ] {
            let e = parse(line.as_bytes()).unwrap_err();
            assert!(e.contains(phrase), "{line}: {e}");
        }
    }
}
