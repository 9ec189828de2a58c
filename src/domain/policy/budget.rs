//! The cost limit of one evaluation. CEL has no loops, but its macros (`all`,
//! `exists`, `map`, `filter`, …) iterate, and nested ones multiply: cel-rust counts
//! nothing. So every comprehension's range goes through [`CHARGE`], which charges
//! the range's size against the evaluation's budget of iterations and checks its
//! deadline before one iteration runs; past either, the evaluation fails (and the
//! fail-safe rule applies). The budget is per thread: an evaluation runs on one
//! thread from start to end, and nothing else evaluates there meanwhile.

use std::cell::Cell;
use std::time::{Duration, Instant};

use cel::ExecutionError;
use cel::common::value::CowVal;

/// The function every comprehension's range is wrapped in. `@` cannot start an
/// identifier in CEL source, so no policy can call or shadow it.
pub(super) const CHARGE: &str = "@revokd_charge";

/// How much one evaluation may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Comprehension iterations, nested ones included.
    pub iterations: u64,
    /// Wall-clock time, checked whenever a comprehension starts.
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            iterations: 10_000,
            time: Duration::from_millis(20),
        }
    }
}

#[derive(Clone, Copy)]
struct Budget {
    left: u64,
    deadline: Instant,
    exceeded: bool,
}

thread_local! {
    static BUDGET: Cell<Option<Budget>> = const { Cell::new(None) };
}

/// Runs `evaluate` under `limits`; `Err` when they were exceeded, whatever it
/// answered (an error inside `a || b` may be absorbed by CEL's logic, the limit not).
pub(super) fn within<T>(limits: Limits, evaluate: impl FnOnce() -> T) -> Result<T, String> {
    let budget = Budget {
        left: limits.iterations,
        deadline: Instant::now() + limits.time,
        exceeded: false,
    };
    let previous = BUDGET.with(|cell| cell.replace(Some(budget)));
    let answer = evaluate();
    let spent = BUDGET.with(|cell| cell.replace(previous));
    match spent {
        Some(budget) if budget.exceeded => Err(format!(
            "cost limit exceeded: more than {} iterations or {} ms",
            limits.iterations,
            limits.time.as_millis()
        )),
        _ => Ok(answer),
    }
}

/// `@revokd_charge(range)`: charges `size(range)` iterations and answers the range.
pub(super) fn charge<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let Some(range) = args.pop() else {
        return Err(ExecutionError::invalid_argument_count(1, 0));
    };
    let size = range
        .as_sizer()
        .map(|sizer| u64::try_from(*sizer.size().inner()).unwrap_or(0))
        .unwrap_or(0);
    let within_budget = BUDGET.with(|cell| {
        let Some(mut budget) = cell.get() else { return true };
        let ok = !budget.exceeded && size <= budget.left && Instant::now() < budget.deadline;
        budget.left = budget.left.saturating_sub(size);
        budget.exceeded |= !ok;
        cell.set(Some(budget));
        ok
    });
    if within_budget {
        Ok(range)
    } else {
        Err(ExecutionError::function_error(
            "cost",
            "the policy's cost limit is exceeded",
        ))
    }
}
