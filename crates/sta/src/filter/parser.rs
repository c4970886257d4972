//! A precedence-climbing parser for `$filter` with OData 4.0 precedence (lowest first):
//! `or` < `and` < `eq ne gt ge lt le` < `add sub` < `mul div mod` < `not`, unary `-` < primary.

use super::ast::{BinaryOp, Expr, Function, Literal};
use super::lexer::{Token, lex};
use crate::error::StaError;
use crate::limits::QueryLimits;

/// Nesting limit so that a hostile `((((…` cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub(super) fn err(message: impl Into<String>) -> StaError {
    StaError::query("$filter", message)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    depth: usize,
    /// Nodes built so far, against `limits.max_filter_nodes`.
    nodes: usize,
    limits: QueryLimits,
}

/// Parses a `$filter` value (already percent-decoded) under the default [`QueryLimits`].
pub fn parse_filter(input: &str) -> Result<Expr, StaError> {
    parse_filter_with(input, &QueryLimits::default())
}

/// Parses a `$filter` value, refusing it as soon as it goes over one of `limits`.
pub fn parse_filter_with(input: &str, limits: &QueryLimits) -> Result<Expr, StaError> {
    let tokens = lex(input, limits)?;
    if tokens.is_empty() {
        return Err(err("empty expression"));
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
        nodes: 0,
        limits: *limits,
    };
    let expr = p.expr(0)?;
    if let Some((at, tok)) = p.tokens.get(p.pos) {
        return Err(err(format!(
            "unexpected {} at position {at}",
            describe(tok)
        )));
    }
    // `a or b or c …` is built by a loop, not by recursion, so the parser's nesting limit does
    // not see it; but the SQL compiler recurses once per level. Measured without recursion.
    if tree_depth(&expr) > MAX_TREE_DEPTH {
        return Err(err(format!(
            "the expression is more than {MAX_TREE_DEPTH} operators deep; use in-lists or fewer terms"
        )));
    }
    Ok(expr)
}

/// Deepest chain of operators the compiler may recurse through (each level costs a few stack
/// frames on a 2 MiB worker stack).
const MAX_TREE_DEPTH: usize = 256;

/// Depth of the tree, walked with an explicit stack.
fn tree_depth(root: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(root, 1usize)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        match e {
            Expr::Binary(_, a, b) => {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            Expr::Not(a) | Expr::Negate(a) => stack.push((a, d + 1)),
            Expr::Call(_, args) => stack.extend(args.iter().map(|a| (a, d + 1))),
            Expr::Literal(_) | Expr::Property(_) => {}
        }
    }
    deepest
}

fn describe(t: &Token) -> String {
    match t {
        Token::Ident(s) => format!("'{s}'"),
        Token::Str(s) => format!("string '{s}'"),
        Token::Int(i) => format!("number {i}"),
        Token::Float(f) => format!("number {f}"),
        Token::DateTime(_) | Token::Date(_) => "date/time".into(),
        Token::Geography(_) => "geography literal".into(),
        Token::LParen => "'('".into(),
        Token::RParen => "')'".into(),
        Token::Comma => "','".into(),
        Token::Slash => "'/'".into(),
        Token::Minus => "'-'".into(),
    }
}

fn binary_op(word: &str) -> Option<(BinaryOp, u8)> {
    use BinaryOp::*;
    Some(match word {
        "or" => (Or, 1),
        "and" => (And, 2),
        "eq" => (Eq, 3),
        "ne" => (Ne, 3),
        "gt" => (Gt, 3),
        "ge" => (Ge, 3),
        "lt" => (Lt, 3),
        "le" => (Le, 3),
        "add" => (Add, 4),
        "sub" => (Sub, 4),
        "mul" => (Mul, 5),
        "div" => (Div, 5),
        "mod" => (Mod, 5),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map(|(p, _)| *p)
            .unwrap_or(usize::MAX)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), StaError> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(err(format!("expected {what}, found {}", describe(&t)))),
            None => Err(err(format!("expected {what}, found end of expression"))),
        }
    }

    /// Counts one node of the tree; a `$filter` of 1,000 `or` terms stops here, not in SQLite.
    fn node(&mut self) -> Result<(), StaError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_filter_nodes {
            return Err(err(format!(
                "the expression has more than {} nodes (limit max_filter_nodes in [sta])",
                self.limits.max_filter_nodes
            )));
        }
        Ok(())
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, StaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("expression nested too deeply"));
        }
        let mut left = self.unary()?;
        while let Some(Token::Ident(word)) = self.peek() {
            let Some((op, prec)) = binary_op(word) else {
                return Err(err(format!(
                    "expected an operator, found '{word}' at position {}",
                    self.position()
                )));
            };
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            self.node()?;
            // Comparisons do not chain (`a eq b eq c` is invalid OData); arithmetic and logic are
            // left-associative.
            let right = self.expr(prec + 1)?;
            if op.is_comparison()
                && let Some(Token::Ident(w)) = self.peek()
                && matches!(binary_op(w), Some((_, 3)))
            {
                return Err(err("comparison operators cannot be chained"));
            }
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, StaError> {
        self.node()?;
        match self.peek() {
            Some(Token::Ident(w)) if w == "not" => {
                self.pos += 1;
                let inner = self.unary_operand()?;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(Token::Minus) => {
                self.pos += 1;
                let inner = self.unary_operand()?;
                Ok(match inner {
                    Expr::Literal(Literal::Int(i)) => Expr::Literal(Literal::Int(-i)),
                    Expr::Literal(Literal::Float(f)) => Expr::Literal(Literal::Float(-f)),
                    other => Expr::Negate(Box::new(other)),
                })
            }
            _ => self.primary(),
        }
    }

    fn unary_operand(&mut self) -> Result<Expr, StaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("expression nested too deeply"));
        }
        let e = self.unary();
        self.depth -= 1;
        e
    }

    fn primary(&mut self) -> Result<Expr, StaError> {
        let at = self.position();
        let Some(tok) = self.next() else {
            return Err(err("unexpected end of expression"));
        };
        Ok(match tok {
            Token::LParen => {
                let inner = self.expr(0)?;
                self.expect(Token::RParen, "')'")?;
                inner
            }
            Token::Str(s) => Expr::Literal(Literal::String(s)),
            Token::Int(i) => Expr::Literal(Literal::Int(i)),
            Token::Float(f) => Expr::Literal(Literal::Float(f)),
            Token::DateTime(t) => Expr::Literal(Literal::DateTime(t)),
            Token::Date(d) => Expr::Literal(Literal::Date(d)),
            Token::Geography(g) => Expr::Literal(Literal::Geography(g)),
            Token::Ident(word) => self.identifier(word, at)?,
            other => {
                return Err(err(format!(
                    "unexpected {} at position {at}",
                    describe(&other)
                )));
            }
        })
    }

    fn identifier(&mut self, word: String, at: usize) -> Result<Expr, StaError> {
        match word.as_str() {
            "true" => return Ok(Expr::Literal(Literal::Bool(true))),
            "false" => return Ok(Expr::Literal(Literal::Bool(false))),
            "null" => return Ok(Expr::Literal(Literal::Null)),
            _ => {}
        }
        if binary_op(&word).is_some() || word == "not" {
            return Err(err(format!(
                "operator '{word}' at position {at} is missing its left operand"
            )));
        }
        if self.peek() == Some(&Token::LParen) {
            let (function, arities) = Function::lookup(&word)
                .ok_or_else(|| err(format!("unknown function '{word}' at position {at}")))?;
            self.pos += 1;
            let mut args = Vec::new();
            if self.peek() != Some(&Token::RParen) {
                loop {
                    args.push(self.expr(0)?);
                    match self.next() {
                        Some(Token::Comma) => continue,
                        Some(Token::RParen) => break,
                        Some(t) => {
                            return Err(err(format!(
                                "expected ',' or ')' in {word}(), found {}",
                                describe(&t)
                            )));
                        }
                        None => return Err(err(format!("unclosed argument list of {word}()"))),
                    }
                }
            } else {
                self.pos += 1;
            }
            if !arities.contains(&args.len()) {
                return Err(err(format!(
                    "{word}() takes {} argument(s), got {}",
                    arities
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    args.len()
                )));
            }
            return Ok(Expr::Call(function, args));
        }
        let mut path = vec![word];
        while self.peek() == Some(&Token::Slash) {
            self.pos += 1;
            match self.next() {
                Some(Token::Ident(seg)) => path.push(seg),
                Some(t) => {
                    return Err(err(format!(
                        "expected a property name after '/', found {}",
                        describe(&t)
                    )));
                }
                None => return Err(err("expected a property name after '/'")),
            }
        }
        // Navigation segments are capitalised entity names (`Datastream`, `Thing`); the first
        // lower-case segment is a property, after which segments are JSON keys.
        let steps = path
            .iter()
            .take_while(|seg| seg.starts_with(|c: char| c.is_ascii_uppercase()))
            .count();
        if steps > self.limits.max_filter_nav_depth {
            return Err(err(format!(
                "'{}' navigates {steps} steps, more than {} (limit max_filter_nav_depth in [sta])",
                path.join("/"),
                self.limits.max_filter_nav_depth
            )));
        }
        Ok(Expr::Property(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinaryOp::*;

    fn prop(p: &str) -> Box<Expr> {
        Box::new(Expr::Property(p.split('/').map(String::from).collect()))
    }
    fn int(i: i64) -> Box<Expr> {
        Box::new(Expr::Literal(Literal::Int(i)))
    }
    fn s(v: &str) -> Box<Expr> {
        Box::new(Expr::Literal(Literal::String(v.into())))
    }

    #[test]
    fn precedence_and_shapes() {
        let cases: Vec<(&str, Expr)> = vec![
            ("result gt 5", Expr::Binary(Gt, prop("result"), int(5))),
            (
                "a eq 1 or b eq 2 and c eq 3",
                Expr::Binary(
                    Or,
                    Box::new(Expr::Binary(Eq, prop("a"), int(1))),
                    Box::new(Expr::Binary(
                        And,
                        Box::new(Expr::Binary(Eq, prop("b"), int(2))),
                        Box::new(Expr::Binary(Eq, prop("c"), int(3))),
                    )),
                ),
            ),
            (
                "result add 2 mul 3 eq 11",
                Expr::Binary(
                    Eq,
                    Box::new(Expr::Binary(
                        Add,
                        prop("result"),
                        Box::new(Expr::Binary(Mul, int(2), int(3))),
                    )),
                    int(11),
                ),
            ),
            (
                "result sub 1 sub 1 eq 0",
                Expr::Binary(
                    Eq,
                    Box::new(Expr::Binary(
                        Sub,
                        Box::new(Expr::Binary(Sub, prop("result"), int(1))),
                        int(1),
                    )),
                    int(0),
                ),
            ),
            (
                "not (name eq 'x')",
                Expr::Not(Box::new(Expr::Binary(Eq, prop("name"), s("x")))),
            ),
            ("name eq 'it''s'", Expr::Binary(Eq, prop("name"), s("it's"))),
            (
                "Datastream/Thing/name eq 'L01'",
                Expr::Binary(Eq, prop("Datastream/Thing/name"), s("L01")),
            ),
            (
                "result ge -2.5",
                Expr::Binary(
                    Ge,
                    prop("result"),
                    Box::new(Expr::Literal(Literal::Float(-2.5))),
                ),
            ),
            (
                "phenomenonTime gt 2026-03-15T09:30:00Z",
                Expr::Binary(
                    Gt,
                    prop("phenomenonTime"),
                    Box::new(Expr::Literal(Literal::DateTime(1_773_567_000_000_000))),
                ),
            ),
            (
                "phenomenonTime lt 2026-03-15T17:30:00 08:00",
                Expr::Binary(
                    Lt,
                    prop("phenomenonTime"),
                    Box::new(Expr::Literal(Literal::DateTime(1_773_567_000_000_000))),
                ),
            ),
            (
                "phenomenonTime lt 2026-03-15T17:30:00+08:00",
                Expr::Binary(
                    Lt,
                    prop("phenomenonTime"),
                    Box::new(Expr::Literal(Literal::DateTime(1_773_567_000_000_000))),
                ),
            ),
            (
                "substring(name, 1, 2) eq 'ab'",
                Expr::Binary(
                    Eq,
                    Box::new(Expr::Call(
                        Function::Substring,
                        vec![*prop("name"), *int(1), *int(2)],
                    )),
                    s("ab"),
                ),
            ),
            (
                "st_within(location, geography'POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))')",
                Expr::Call(
                    Function::StWithin,
                    vec![
                        *prop("location"),
                        Expr::Literal(Literal::Geography(
                            "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))".into(),
                        )),
                    ],
                ),
            ),
            (
                "now() gt mindatetime()",
                Expr::Binary(
                    Gt,
                    Box::new(Expr::Call(Function::Now, vec![])),
                    Box::new(Expr::Call(Function::MinDateTime, vec![])),
                ),
            ),
            (
                "properties/depth eq null",
                Expr::Binary(
                    Eq,
                    prop("properties/depth"),
                    Box::new(Expr::Literal(Literal::Null)),
                ),
            ),
            (
                "date(phenomenonTime) eq 2026-03-15",
                Expr::Binary(
                    Eq,
                    Box::new(Expr::Call(Function::Date, vec![*prop("phenomenonTime")])),
                    Box::new(Expr::Literal(Literal::Date("2026-03-15".into()))),
                ),
            ),
            (
                "result mod 2 eq 1",
                Expr::Binary(
                    Eq,
                    Box::new(Expr::Binary(Mod, prop("result"), int(2))),
                    int(1),
                ),
            ),
            (
                "- result lt 3",
                Expr::Binary(Lt, Box::new(Expr::Negate(prop("result"))), int(3)),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_filter(input).unwrap_or_else(|e| panic!("{input}: {e}")),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn malformed_input_names_the_problem() {
        let cases = [
            ("", "empty"),
            ("name eq", "end of expression"),
            ("name eq 'x", "unterminated string"),
            ("(name eq 'x'", "expected ')'"),
            ("name eq 'x')", "unexpected ')'"),
            ("name foo 'x'", "expected an operator"),
            ("frobnicate(name) eq 1", "unknown function 'frobnicate'"),
            ("substring(name) eq 'a'", "takes 2 or 3 argument"),
            ("eq 1", "missing its left operand"),
            ("a eq 1 eq 2", "cannot be chained"),
            ("result gt 1e999", "bad number"),
            ("phenomenonTime gt 2026-13-45T00:00:00Z", "bad date/time"),
            ("st_within(location, geography'POINT (1)')", "bad geography"),
            ("name eq #", "unexpected character"),
            ("Datastream/ 'x' eq 1", "property name after '/'"),
        ];
        for (input, fragment) in cases {
            match parse_filter(input) {
                Err(e) => assert!(e.to_string().contains(fragment), "{input}: {e}"),
                Ok(x) => panic!("{input} parsed as {x:?}"),
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let input = format!("{}a eq 1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_filter(&input).is_err());
        let input = format!("{}true", "not ".repeat(10_000));
        assert!(parse_filter(&input).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_strings_never_panic(s in ".{0,80}") {
            let _ = parse_filter(&s);
        }

        #[test]
        fn random_token_soup_never_panics(parts in proptest::collection::vec(
            proptest::sample::select(vec!["(", ")", "eq", "and", "or", "not", "-", "1", "2.5", "'x'",
                "name", "/", "Datastream", ",", "substring", "geo.distance", "2026-01-01T00:00:00Z", "null"]), 0..30)) {
            let _ = parse_filter(&parts.join(" "));
        }
    }
}
