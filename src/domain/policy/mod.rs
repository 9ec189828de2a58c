//! Revocation policies (SPEC §3.12): a domain's CEL expression, compiled once when it
//! is stored (syntax, identifiers and limits checked, the position of a mistake given
//! as `line:column`), evaluated before a client revocation against the variables of
//! [`Activation`], its result read as a [`Decision`]. Pure: no I/O.
//!
//! Evaluation never fails: an evaluation error, a result of the wrong shape, a cost
//! limit hit or a panic inside the CEL interpreter is a [`Decision`] that allows the
//! revocation as asked and says what went wrong.

mod activation;
mod budget;
mod check;
mod decision;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};

use cel::common::ast::IdedExpr;
use cel::common::types::DYN_TYPE;
use cel::{Context, Env, Value};

pub use activation::{Activation, ClientFacts, RequestFacts, TokenFacts};
pub use budget::Limits;
pub use check::VARIABLES;
pub use decision::Decision;

/// The longest expression accepted, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 4096;
/// How deeply an expression may nest (calls, operators, brackets, macros), in levels
/// of its syntax tree: the interpreter recurses as deep, on whichever thread
/// evaluates it (a request's, with an ordinary 2 MiB stack; unoptimized builds take
/// tens of KiB per level).
const MAX_DEPTH: u16 = 24;
/// The stack of the thread that compiles: the parser recurses deeper than the
/// expression nests, and farther still on input it refuses.
const COMPILER_STACK_BYTES: usize = 64 << 20;

/// The standard library, and the budget's charge (`budget.rs`), shared by every
/// evaluation.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    if let Err(error) = env.add_overload(budget::CHARGE, "revokd_charge_dyn", vec![DYN_TYPE], budget::charge) {
        // Only if cel itself declared the name; evaluations then fail safe.
        tracing::error!(%error, "the policy cost limit could not be installed");
    }
    Arc::new(env)
});

/// Why an expression was refused, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the expression is invalid at {line}:{column}: {message}")]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl CompileError {
    /// At the node `id` of a parsed expression.
    fn at(info: &cel::common::ast::SourceInfo, id: u64, message: String) -> Self {
        let (line, column) = info
            .offset_for(id)
            .map(|(start, _)| line_column(&info.source, start as usize))
            .unwrap_or((1, 1));
        Self { line, column, message }
    }
}

/// The 1-based line and column of byte `offset` of `source`.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A compiled policy: checked, with its comprehensions metered. Cheap to share.
#[derive(Debug)]
pub struct Policy {
    /// `Err` for a stored policy that no longer compiles (a newer CEL parser refusing
    /// it): it fails safe at every evaluation.
    expr: Result<IdedExpr, CompileError>,
}

impl Policy {
    /// Parses and checks `source`, on a thread of its own with a deep stack (a
    /// compilation is rare: an upload, or a policy's first use in this process).
    pub fn compile(source: &str) -> Result<Self, CompileError> {
        let owned = source.to_owned();
        std::thread::Builder::new()
            .name("policy-compiler".into())
            .stack_size(COMPILER_STACK_BYTES)
            .spawn(move || Self::compile_here(&owned))
            .map_err(|e| CompileError {
                line: 1,
                column: 1,
                message: format!("the compiler could not start: {e}"),
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(CompileError {
                    line: 1,
                    column: 1,
                    message: "the expression cannot be parsed".into(),
                })
            })
    }

    fn compile_here(source: &str) -> Result<Self, CompileError> {
        let chars = source.chars().count();
        if chars > MAX_EXPRESSION_CHARS {
            return Err(CompileError {
                line: 1,
                column: 1,
                message: format!("the expression is {chars} characters long; at most {MAX_EXPRESSION_CHARS}"),
            });
        }
        if source.trim().is_empty() {
            return Err(CompileError {
                line: 1,
                column: 1,
                message: "the expression is empty".into(),
            });
        }
        // The parser has panicked on input it did not expect: that is a syntax error too.
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            ENV.parser()
                .max_recursion_depth(MAX_DEPTH)
                .parse_with_source_info(source)
        }))
        .map_err(|_| CompileError {
            line: 1,
            column: 1,
            message: "the expression cannot be parsed".into(),
        })?;
        let (mut expr, info) = parsed.map_err(|errors| {
            let first = errors.errors.first();
            let (line, column) = first.map_or((1, 1), |e| {
                (
                    usize::try_from(e.pos.0).unwrap_or(1).max(1),
                    usize::try_from(e.pos.1).unwrap_or(1).max(1),
                )
            });
            CompileError {
                line,
                column,
                message: first.map_or_else(|| "syntax error".into(), |e| e.msg.clone()),
            }
        })?;
        check::prepare(&mut expr, &info, usize::from(MAX_DEPTH))?;
        Ok(Self { expr: Ok(expr) })
    }

    /// A stored policy that does not compile: every evaluation fails safe with `error`.
    pub fn unusable(error: CompileError) -> Self {
        Self { expr: Err(error) }
    }

    /// Evaluates the policy against `activation` within `limits`.
    pub fn evaluate(&self, activation: &Activation, limits: Limits) -> Decision {
        let expr = match &self.expr {
            Ok(expr) => expr,
            Err(error) => return Decision::failed(format!("the stored policy does not compile: {error}")),
        };
        // The interpreter panics on what it does not expect (its own invariants, chrono's
        // overflows): that fails safe like any other error.
        let outcome = budget::within(limits, || {
            catch_unwind(AssertUnwindSafe(|| {
                let mut context = Context::with_env(ENV.clone());
                for (name, value) in activation.variables() {
                    context.add_variable_from_value(name, value);
                }
                Value::resolve(expr, &context)
            }))
        });
        match outcome {
            Err(limit) => Decision::failed(limit),
            Ok(Err(_panic)) => Decision::failed("the policy could not be evaluated"),
            Ok(Ok(Err(error))) => Decision::failed(error.to_string()),
            Ok(Ok(Ok(value))) => Decision::from_result(&value),
        }
    }
}

#[cfg(test)]
mod tests;
