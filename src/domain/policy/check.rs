//! What happens to a parsed policy before it is kept: every identifier must be one of
//! the variables (SPEC §3.12), a comprehension's own, or a type name, so a typo is a
//! `400` at upload rather than an error at every revocation; and every comprehension's
//! range is wrapped in the budget's charge (`budget.rs`).

use cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr, SourceInfo};

use super::CompileError;
use super::budget::CHARGE;

/// The variables a policy sees.
pub const VARIABLES: [&str; 4] = ["client", "token", "request", "now"];

/// Identifiers CEL itself gives meaning to: the type names (`type(x) == string`).
const TYPE_NAMES: [&str; 13] = [
    "bool",
    "bytes",
    "double",
    "duration",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "timestamp",
    "type",
    "uint",
];

/// Checks the identifiers and the depth of `expr` and wraps its comprehensions' ranges.
pub(super) fn prepare(expr: &mut IdedExpr, info: &SourceInfo, max_depth: usize) -> Result<(), CompileError> {
    let mut walker = Walker {
        info,
        scope: Vec::new(),
        next_id: max_id(expr) + 1,
        depth: 0,
        max_depth,
    };
    walker.walk(expr)
}

struct Walker<'a> {
    info: &'a SourceInfo,
    /// The comprehension variables in scope.
    scope: Vec<String>,
    next_id: u64,
    depth: usize,
    max_depth: usize,
}

impl Walker<'_> {
    fn walk(&mut self, expr: &mut IdedExpr) -> Result<(), CompileError> {
        if self.depth >= self.max_depth {
            return Err(CompileError::at(
                self.info,
                expr.id,
                format!("the expression nests deeper than {} levels", self.max_depth),
            ));
        }
        self.depth += 1;
        let result = self.walk_node(expr);
        self.depth -= 1;
        result
    }

    fn walk_node(&mut self, expr: &mut IdedExpr) -> Result<(), CompileError> {
        let (info, id) = (self.info, expr.id);
        match &mut expr.expr {
            Expr::Ident(name) => {
                let known = VARIABLES.contains(&name.as_str())
                    || TYPE_NAMES.contains(&name.as_str())
                    || self.scope.iter().any(|v| v == name);
                if !known {
                    return Err(CompileError::at(
                        info,
                        id,
                        format!("undeclared reference to '{name}' (the variables are client, token, request and now)"),
                    ));
                }
            }
            Expr::Call(call) => {
                if let Some(target) = call.target.as_deref_mut() {
                    self.walk(target)?;
                }
                for arg in &mut call.args {
                    self.walk(arg)?;
                }
            }
            Expr::Comprehension(comprehension) => {
                self.walk(&mut comprehension.iter_range)?;
                self.walk(&mut comprehension.accu_init)?;
                let before = self.scope.len();
                self.scope.push(comprehension.iter_var.clone());
                self.scope.extend(comprehension.iter_var2.clone());
                self.scope.push(comprehension.accu_var.clone());
                for part in [
                    &mut comprehension.loop_cond,
                    &mut comprehension.loop_step,
                    &mut comprehension.result,
                ] {
                    self.walk(part)?;
                }
                self.scope.truncate(before);
                let range = std::mem::take(&mut comprehension.iter_range);
                comprehension.iter_range = IdedExpr {
                    id: self.next_id,
                    expr: Expr::Call(CallExpr {
                        func_name: CHARGE.to_owned(),
                        target: None,
                        args: vec![range],
                    }),
                };
                self.next_id += 1;
            }
            Expr::List(list) => {
                for element in &mut list.elements {
                    self.walk(element)?;
                }
            }
            Expr::Map(map) => {
                for entry in &mut map.entries {
                    match &mut entry.expr {
                        EntryExpr::MapEntry(entry) => {
                            self.walk(&mut entry.key)?;
                            self.walk(&mut entry.value)?;
                        }
                        EntryExpr::StructField(field) => self.walk(&mut field.value)?,
                    }
                }
            }
            Expr::Select(select) => self.walk(&mut select.operand)?,
            Expr::Struct(strct) => {
                return Err(CompileError::at(
                    info,
                    id,
                    format!("unknown message type '{}'", strct.type_name),
                ));
            }
            Expr::Literal(_) => {}
            Expr::Unspecified => return Err(CompileError::at(info, id, "incomplete expression".into())),
        }
        Ok(())
    }
}

/// The largest node id in `expr`, so the nodes added get fresh ones.
fn max_id(expr: &IdedExpr) -> u64 {
    let children: Vec<&IdedExpr> = match &expr.expr {
        Expr::Call(call) => call.target.as_deref().into_iter().chain(&call.args).collect(),
        Expr::Comprehension(c) => vec![&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result],
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => map
            .entries
            .iter()
            .flat_map(|entry| match &entry.expr {
                EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
                EntryExpr::StructField(field) => vec![&field.value],
            })
            .collect(),
        Expr::Select(select) => vec![&*select.operand],
        Expr::Struct(_) | Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    };
    let entry_ids = match &expr.expr {
        Expr::Map(map) => map.entries.iter().map(|entry| entry.id).max().unwrap_or(0),
        _ => 0,
    };
    children.into_iter().map(max_id).fold(expr.id.max(entry_ids), u64::max)
}
