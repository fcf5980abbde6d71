//! The LIRS paper's traces (Jiang and Zhang, SIGMETRICS 2002): one block id per line;
//! lines containing `*` (markers between phases) and blank lines are skipped.
//!
//! A reader, as every format's: it knows its records, not what replays them.

use std::path::PathBuf;

use super::{Input, Lines, Op, Request, TraceError, TraceReader, parse_field};

/// Reads one id per line.
pub struct Reader {
    lines: Lines,
    time: u64,
}

impl Reader {
    /// A reader over `input`, read from `path`.
    pub fn new(input: Input, path: PathBuf) -> Self {
        Reader {
            lines: Lines::new(input, path),
            time: 0,
        }
    }
}

impl TraceReader for Reader {
    #[inline]
    fn read(&mut self, req: &mut Request) -> Result<bool, TraceError> {
        self.lines.read(req, |line| {
            let line = line.trim();
            if line.is_empty() || line.contains('*') {
                return Ok(None);
            }
            let id = parse_field::<u64>(Some(line), "id")?;
            let time = self.time;
            self.time += 1;
            Ok(Some(Request {
                time,
                id,
                size: 1,
                op: Op::Read,
                ttl: 0,
            }))
        })
    }
}
