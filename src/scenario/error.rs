//! What can be wrong with a scenario, said so that a user can fix it.
//!
//! It knows messages and places in the file, not the rules that were broken.

use std::path::PathBuf;

/// Why a scenario could not be loaded. A variant that wraps a cause names it as its
/// [`source`](std::error::Error::source), not in its message, so `{:#}` prints it once.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file's extension names no format tiersim reads.
    #[error("{path}: unknown scenario format; use a file ending in .toml or .json")]
    Format {
        /// The file.
        path: PathBuf,
    },
    /// The text is not valid TOML or JSON.
    #[error("{origin}: {message}")]
    Syntax {
        /// The file, or the built-in scenario's name.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key is unknown or missing, has the wrong type, or its value breaks a rule.
    #[error("{origin}{location}: key `{key}`: {message}")]
    Invalid {
        /// The file, or the built-in scenario's name.
        origin: String,
        /// `:line:column` in a TOML file, ` (from --set)` for an override, or empty.
        location: String,
        /// The dotted key, layers named by their `name`.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A `--set` argument is malformed or addresses nothing.
    #[error("--set {assignment}: {message}")]
    Override {
        /// The argument as given.
        assignment: String,
        /// What is wrong.
        message: String,
    },
}
