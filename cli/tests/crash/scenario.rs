//! One scenario's two passes of kills (at each hook point, at random moments) and its figures.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::kill::{KillAt, Outcome, Rng};

/// Random kills per scenario unless `TWOSTEP_CRASH_KILLS` says otherwise.
const DEFAULT_RANDOM_KILLS: u64 = 12;

/// The longest delay after a write began for the kills aimed inside it.
const IN_WRITE: Duration = Duration::from_millis(3);

/// Which kill a check follows.
#[derive(Debug, Clone)]
pub enum Pass {
    /// The first, uninterrupted run.
    Baseline,
    /// Killed while paused at this hook point.
    Point(String),
    /// Killed at a random moment of the run (or it finished first).
    Random,
    /// Killed shortly after a write began.
    InWrite,
}

/// What a scenario does, from its state before the operation: `reset` restores that state
/// (or does nothing when the scenario carries its state from one run to the next), `run`
/// runs the operation and kills it, `check` opens the data dir, asserts everything and names
/// what it found ("old vault", "new passcode", ...). `codes`: the exit codes of an uninterrupted
/// run.
pub struct Plan<'a> {
    pub codes: &'a [i32],
    pub reset: &'a mut dyn FnMut(),
    pub run: &'a mut dyn FnMut(&KillAt) -> Outcome,
    pub check: &'a mut dyn FnMut(&Pass) -> &'static str,
}

/// A scenario's name and figures.
#[derive(Debug)]
pub struct Tally {
    name: &'static str,
}

impl Tally {
    pub fn new(name: &'static str) -> Self {
        Self { name }
    }

    /// Both passes; prints the figures; asserts that the kills landed.
    pub fn run(&self, plan: &mut Plan<'_>) {
        let seed = seed();
        let mut rng = Rng::new(seed ^ self.name.len() as u64);
        let random_kills = std::env::var("TWOSTEP_CRASH_KILLS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_RANDOM_KILLS);
        let mut found: BTreeMap<&'static str, u32> = BTreeMap::new();
        let started = Instant::now();

        (plan.reset)();
        let t0 = Instant::now();
        let points = match (plan.run)(&KillAt::Never) {
            Outcome::Finished { code, points, output } => {
                assert!(plan.codes.contains(&code), "{}: exit {code}: {output}", self.name);
                points
            }
            Outcome::Killed => unreachable!("the baseline is never killed"),
        };
        let duration = t0.elapsed();
        assert!(
            !points.is_empty(),
            "{}: no hook points announced: is the binary built with twostep-core's test-hooks \
             feature (cargo test builds it so)?",
            self.name
        );
        *found.entry((plan.check)(&Pass::Baseline)).or_default() += 1;

        // A run may pass a point fewer times than the baseline did (a clock offset that did not
        // move enough to be stored again): those count as missed.
        let mut at_points = 0;
        for point in &points {
            (plan.reset)();
            match (plan.run)(&KillAt::Point(point.clone())) {
                Outcome::Killed => at_points += 1,
                finished => self.succeeded(plan, &finished),
            }
            *found.entry((plan.check)(&Pass::Point(point.clone()))).or_default() += 1;
        }
        assert!(at_points * 2 >= points.len(), "{}: most points are reached again", self.name);

        let writes: Vec<&String> =
            points.iter().filter(|p| p.starts_with("state.before_write#")).collect();
        let (mut uniform, mut in_write, mut finished) = (0, 0, 0);
        for i in 0..random_kills {
            (plan.reset)();
            let (pass, at) = if i % 2 == 0 || writes.is_empty() {
                (Pass::Random, KillAt::After(rng.duration(duration.mul_f64(1.2))))
            } else {
                let point = writes[rng.below(writes.len() as u64) as usize].clone();
                (Pass::InWrite, KillAt::AfterPoint(point, rng.duration(IN_WRITE)))
            };
            match ((plan.run)(&at), &pass) {
                (Outcome::Killed, Pass::InWrite) => in_write += 1,
                (Outcome::Killed, _) => uniform += 1,
                (outcome, _) => {
                    self.succeeded(plan, &outcome);
                    finished += 1;
                }
            }
            *found.entry((plan.check)(&pass)).or_default() += 1;
        }
        let found: Vec<String> = found.iter().map(|(what, n)| format!("{what} {n}")).collect();
        println!(
            "crash-device | {} | {} kills at the {} hook points | {} random kills of {} \
             ({} at random moments, {} inside a write; {} runs finished first) | after the \
             kills: {} | run {:?}, uninterrupted {:?} | seed {seed}",
            self.name,
            at_points,
            points.len(),
            uniform + in_write,
            random_kills,
            uniform,
            in_write,
            finished,
            found.join(", "),
            started.elapsed(),
            duration,
        );
        assert!(
            (uniform + in_write) * 3 >= random_kills,
            "{}: too few random kills landed ({} of {random_kills})",
            self.name,
            uniform + in_write
        );
    }
}

impl Tally {
    /// A run that was not killed must have done its operation: a failure would leave the
    /// state unchanged and make the checks after it vacuous.
    fn succeeded(&self, plan: &Plan<'_>, outcome: &Outcome) {
        if let Outcome::Finished { code, output, .. } = outcome {
            assert!(plan.codes.contains(code), "{}: a run ended {code}: {output}", self.name);
        }
    }
}

/// `TWOSTEP_CRASH_SEED`, or one from the clock (printed with the figures).
fn seed() -> u64 {
    std::env::var("TWOSTEP_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    })
}
