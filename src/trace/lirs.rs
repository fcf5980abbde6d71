//! The LIRS paper's traces (Jiang and Zhang, SIGMETRICS 2002): one block id per line;
//! lines containing `*` (markers between phases) and blank lines are skipped.
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::path::PathBuf;

use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_field};

/// What a line holds, for error messages.
const EXPECT: &str = "one block id per line, an unsigned integer (or a `*` phase marker)";

/// Reads one id per line.
pub struct Reader {
    lines: Lines,
    time: u64,
}

impl Reader {
    /// A reader over `input`, read from `path`.
    pub fn new(input: Input, path: PathBuf) -> Self {
        Reader {
            lines: Lines::new(input, path, EXPECT),
            time: 0,
        }
    }
}

impl TraceReader for Reader {
    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        let id = self.lines.next_parsed(|line| {
            let line = line.trim_ascii();
            if line.is_empty() || line.contains(&b'*') {
                return Ok(None);
            }
            parse_field::<u64>(Some(line), "id").map(Some)
        })?;
        let Some(id) = id else {
            return Ok(false);
        };
        *req = Request {
            time: self.time,
            id,
            size: 1,
            op: Op::Read,
            ttl: 0,
        };
        self.time += 1;
        Ok(true)
    }
}
