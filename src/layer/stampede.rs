//! Stampede defences: what a cache layer does when many reads want a key that it lacks,
//! or is about to lose.
//!
//! A layer's `stampede = { mode = "...", ... }` table deserializes into [`StampedeSpec`]
//! and resolves into [`Stampede`]. This module owns the spec and its validation; the
//! run-time state (the fetches in flight, `xfetch`'s measured recompute times) and the
//! decisions below live with the engine (its `defence` module), which this module does
//! not know.
//!
//! | mode | on a miss | on a hit |
//! |---|---|---|
//! | `none` | go inward (the herd) | serve |
//! | `coalesce` | the first goes inward, the others wait for its response | serve |
//! | `lock` | the first takes a lock and goes inward; the others poll every `poll_ms` until the copy appears, the lock is free (then they take it) or `wait_timeout_ms` passes (then they go inward) | serve |
//! | `stale_while_revalidate` | an expired copy within `window_s` of its expiry is served, and one background fetch per key refreshes it | serve |
//! | `refresh_ahead` | go inward | serve; within `window_s` of expiry, one background fetch per key refreshes it |
//! | `stale_if_error` | go inward, keeping an expired copy readable; if the request fails further in (a layer or the database down without fallback, see [`crate::scenario::fault`]), a copy that expired less than `window_s` ago answers it (`stale_on_error`) | serve |
//! | `xfetch` | go inward | serve; at time-to-expiry τ, with probability e^(−τ/(β·δ)) a background fetch refreshes it (δ: the key's last fetch time at this layer; every such read starts one, no lock) |
//!
//! A flight is led by the request that started it. When the leader's response travels
//! back out through the layer, the flight ends (the lock is released, the waiters are
//! answered, δ is measured), whether or not the policy stores the copy. Other responses
//! for the key (a late `xfetch` recomputation, an outer layer's refresh) do not end it:
//! they would measure δ from someone else's start.
//!
//! `window_s` defaults to a fifth of the layer's `ttl_s` (required without one), so every
//! mode runs on its defaults and a sweep over `mode` needs no per-mode keys; a key of
//! another mode is refused.
//!
//! `none` costs nothing: a run without a defence keeps no state for one.

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;

/// A layer's `stampede` table, as written. It reads through [`RawStampede`], so a key
/// of another mode is refused by name, saying which modes take it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "mode",
    rename_all = "snake_case",
    deny_unknown_fields,
    try_from = "RawStampede"
)]
pub enum StampedeSpec {
    /// Every concurrent miss goes inward.
    #[default]
    None,
    /// Single flight: later misses wait for the first one's fetch.
    Coalesce {},
    /// A lock per key: the first miss takes it; the others poll.
    Lock {
        /// How long a lock holds if its holder never answers, ms.
        #[serde(default = "default_lock_ttl_ms")]
        lock_ttl_ms: f64,
        /// Time between a waiter's polls, ms.
        #[serde(default = "default_poll_ms")]
        poll_ms: f64,
        /// A waiter gives up waiting after this long and goes inward, ms.
        #[serde(default = "default_wait_timeout_ms")]
        wait_timeout_ms: f64,
    },
    /// Serve an expired copy for `window_s` after its expiry, refreshing it behind.
    StaleWhileRevalidate {
        /// Seconds after expiry during which the expired copy is served; a fifth of the layer's `ttl_s` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_s: Option<f64>,
    },
    /// Serve a copy expired less than `window_s` ago when the path inward fails.
    StaleIfError {
        /// Seconds after expiry during which the expired copy may answer a failure; a fifth of the layer's `ttl_s` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_s: Option<f64>,
    },
    /// Refresh in the background when a copy is read within `window_s` of its expiry.
    RefreshAhead {
        /// Seconds before expiry from which a read triggers a refresh; a fifth of the layer's `ttl_s` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_s: Option<f64>,
    },
    /// Probabilistic early recomputation (Vattani, Chierichetti, Lowenstein 2015).
    Xfetch {
        /// β: larger refreshes earlier.
        #[serde(default = "default_beta")]
        beta: f64,
    },
}

/// The `stampede` table with every mode's keys, each optional: what the file holds
/// before the mode decides which keys apply.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStampede {
    mode: Mode,
    lock_ttl_ms: Option<f64>,
    poll_ms: Option<f64>,
    wait_timeout_ms: Option<f64>,
    window_s: Option<f64>,
    beta: Option<f64>,
}

/// The modes, as the file names them.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    None,
    Coalesce,
    Lock,
    StaleWhileRevalidate,
    StaleIfError,
    RefreshAhead,
    Xfetch,
}

impl TryFrom<RawStampede> for StampedeSpec {
    type Error = String;

    fn try_from(r: RawStampede) -> Result<Self, String> {
        let spec = match r.mode {
            Mode::None => StampedeSpec::None,
            Mode::Coalesce => StampedeSpec::Coalesce {},
            Mode::Lock => StampedeSpec::Lock {
                lock_ttl_ms: r.lock_ttl_ms.unwrap_or_else(default_lock_ttl_ms),
                poll_ms: r.poll_ms.unwrap_or_else(default_poll_ms),
                wait_timeout_ms: r.wait_timeout_ms.unwrap_or_else(default_wait_timeout_ms),
            },
            Mode::StaleWhileRevalidate => StampedeSpec::StaleWhileRevalidate {
                window_s: r.window_s,
            },
            Mode::StaleIfError => StampedeSpec::StaleIfError {
                window_s: r.window_s,
            },
            Mode::RefreshAhead => StampedeSpec::RefreshAhead {
                window_s: r.window_s,
            },
            Mode::Xfetch => StampedeSpec::Xfetch {
                beta: r.beta.unwrap_or_else(default_beta),
            },
        };
        let mode = spec.mode();
        let window = "stale_while_revalidate, stale_if_error and refresh_ahead";
        for (key, set, modes) in [
            ("lock_ttl_ms", r.lock_ttl_ms.is_some(), "lock"),
            ("poll_ms", r.poll_ms.is_some(), "lock"),
            ("wait_timeout_ms", r.wait_timeout_ms.is_some(), "lock"),
            ("window_s", r.window_s.is_some(), window),
            ("beta", r.beta.is_some(), "xfetch"),
        ] {
            if set && !modes.contains(mode) {
                return Err(format!(
                    "`{key}` is set, but mode `{mode}` does not use it (only {modes} do{}); \
                     remove it, or pick one of those modes",
                    if modes == "lock" || modes == "xfetch" {
                        "es"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok(spec)
    }
}

/// The most polls of one `lock` waiter, `wait_timeout_ms / poll_ms`: polling a
/// thousand times a second for ten seconds is already more than any client does.
pub const MAX_POLLS_PER_WAIT: f64 = 10_000.0;

fn default_lock_ttl_ms() -> f64 {
    1000.0
}
fn default_poll_ms() -> f64 {
    10.0
}
fn default_wait_timeout_ms() -> f64 {
    500.0
}
fn default_beta() -> f64 {
    1.0
}

/// A validated defence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stampede {
    /// No defence.
    None,
    /// Single flight.
    Coalesce,
    /// Lock and poll.
    Lock {
        /// Lock lifetime.
        lock_ttl: SimTime,
        /// Poll interval.
        poll: SimTime,
        /// Give-up time.
        wait_timeout: SimTime,
    },
    /// Serve stale, revalidate behind.
    StaleWhileRevalidate {
        /// Grace after expiry.
        window: SimTime,
    },
    /// Serve stale when the path inward fails.
    StaleIfError {
        /// Grace after expiry.
        window: SimTime,
    },
    /// Refresh before expiry.
    RefreshAhead {
        /// Lead before expiry.
        window: SimTime,
    },
    /// Probabilistic early refresh.
    Xfetch {
        /// β.
        beta: f64,
    },
}

/// `window_s`, when absent, is the layer's `ttl_s` divided by this.
pub const DEFAULT_WINDOW_TTL_DIVISOR: f64 = 5.0;

impl StampedeSpec {
    /// Checks the parameters, given the layer's `ttl_s` (validated) for the default
    /// `window_s`; errors name the key under `stampede`.
    pub fn resolve(&self, ttl_s: Option<f64>) -> Result<Stampede, Invalid> {
        let mode = self.mode();
        let window = |w: Option<f64>| match (w, ttl_s) {
            (Some(w), _) => Ok(w),
            (None, Some(t)) => Ok(t / DEFAULT_WINDOW_TTL_DIVISOR),
            (None, None) => Err(Invalid::new(
                "window_s",
                format!(
                    "is missing; mode `{mode}` needs a window in seconds, which defaults to \
                     a fifth of the layer's ttl_s, and this layer has no ttl_s"
                ),
            )),
        };
        let positive = |key: &str, v: f64, unit: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(Invalid::new(
                    key,
                    format!("is {v}; must be a finite number of {unit} > 0"),
                ))
            }
        };
        let ms = |key: &str, v: f64| {
            positive(key, v, "milliseconds").map(|v| SimTime::from_secs_f64(v / 1e3))
        };
        let secs = |key: &str, v: f64| positive(key, v, "seconds").map(SimTime::from_secs_f64);
        Ok(match *self {
            StampedeSpec::None => Stampede::None,
            StampedeSpec::Coalesce {} => Stampede::Coalesce,
            StampedeSpec::Lock {
                lock_ttl_ms,
                poll_ms,
                wait_timeout_ms,
            } => {
                let lock = Stampede::Lock {
                    lock_ttl: ms("lock_ttl_ms", lock_ttl_ms)?,
                    poll: ms("poll_ms", poll_ms)?,
                    wait_timeout: ms("wait_timeout_ms", wait_timeout_ms)?,
                };
                // Each poll is an event: a waiter's polls are bounded, and one at the
                // clock's resolution (0 ns) would poll forever at one instant.
                let least = (wait_timeout_ms / MAX_POLLS_PER_WAIT).max(1e-6);
                if poll_ms < least {
                    return Err(Invalid::new(
                        "poll_ms",
                        format!(
                            "is {poll_ms}; must be at least {least} ms: at least 1 ns (the \
                             simulated clock's resolution), and at most {MAX_POLLS_PER_WAIT} \
                             polls in a wait of wait_timeout_ms ({wait_timeout_ms} ms)"
                        ),
                    ));
                }
                lock
            }
            StampedeSpec::StaleWhileRevalidate { window_s } => Stampede::StaleWhileRevalidate {
                window: secs("window_s", window(window_s)?)?,
            },
            StampedeSpec::StaleIfError { window_s } => Stampede::StaleIfError {
                window: secs("window_s", window(window_s)?)?,
            },
            StampedeSpec::RefreshAhead { window_s } => Stampede::RefreshAhead {
                window: secs("window_s", window(window_s)?)?,
            },
            StampedeSpec::Xfetch { beta } => Stampede::Xfetch {
                beta: positive("beta", beta, "units")?,
            },
        })
    }

    /// Every mode's name, as the file spells it, in the order the README lists them.
    pub const MODES: [&'static str; 7] = [
        "none",
        "coalesce",
        "lock",
        "stale_while_revalidate",
        "stale_if_error",
        "refresh_ahead",
        "xfetch",
    ];

    /// The mode's name, as the file spells it.
    pub fn mode(&self) -> &'static str {
        match self {
            StampedeSpec::None => "none",
            StampedeSpec::Coalesce {} => "coalesce",
            StampedeSpec::Lock { .. } => "lock",
            StampedeSpec::StaleWhileRevalidate { .. } => "stale_while_revalidate",
            StampedeSpec::StaleIfError { .. } => "stale_if_error",
            StampedeSpec::RefreshAhead { .. } => "refresh_ahead",
            StampedeSpec::Xfetch { .. } => "xfetch",
        }
    }

    /// Whether this is `none`.
    pub fn is_none(&self) -> bool {
        *self == StampedeSpec::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `MODES` is the list the parser accepts, each name read back by `mode`.
    #[test]
    fn every_mode_name_parses_to_its_mode() {
        for name in StampedeSpec::MODES {
            let s: StampedeSpec = toml::from_str(&format!("mode = \"{name}\"")).unwrap();
            assert_eq!(s.mode(), name);
        }
    }

    #[test]
    fn specs_parse_with_defaults_and_reject_bad_values() {
        let s: StampedeSpec = toml::from_str(r#"mode = "xfetch""#).unwrap();
        assert_eq!(s.resolve(None).unwrap(), Stampede::Xfetch { beta: 1.0 });
        let s: StampedeSpec = toml::from_str(r#"mode = "lock""#).unwrap();
        assert!(matches!(s.resolve(None).unwrap(), Stampede::Lock { .. }));
        for (table, key, modes) in [
            (
                "mode = \"coalesce\"\nwindow_s = 1",
                "window_s",
                "refresh_ahead do)",
            ),
            (
                "mode = \"none\"\nwindow_s = 1",
                "window_s",
                "refresh_ahead do)",
            ),
            (
                "mode = \"xfetch\"\npoll_ms = 1",
                "poll_ms",
                "only lock does)",
            ),
            ("mode = \"lock\"\nbeta = 1", "beta", "only xfetch does)"),
        ] {
            let e = toml::from_str::<StampedeSpec>(table)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("`{key}` is set, but mode")) && e.contains(modes),
                "{e}"
            );
        }
        let typo = toml::from_str::<StampedeSpec>("mode = \"lock\"\npoll = 1").unwrap_err();
        assert!(typo.to_string().contains("unknown field `poll`"), "{typo}");
        let s = StampedeSpec::StaleWhileRevalidate {
            window_s: Some(-1.0),
        };
        assert_eq!(s.resolve(None).unwrap_err().key.to_string(), "window_s");
    }

    #[test]
    fn a_window_defaults_to_a_fifth_of_the_ttl() {
        let s: StampedeSpec = toml::from_str(r#"mode = "refresh_ahead""#).unwrap();
        assert_eq!(
            s.resolve(Some(0.1)).unwrap(),
            Stampede::RefreshAhead {
                window: SimTime::from_secs_f64(0.02)
            }
        );
        let e = s.resolve(None).unwrap_err();
        assert_eq!(e.key.to_string(), "window_s");
        assert!(e.message.contains("ttl_s"), "{}", e.message);
    }
}
