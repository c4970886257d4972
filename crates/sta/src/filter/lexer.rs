//! The `$filter` lexer: tokens, string and number/date literals, geometry literals (bounded by
//! `max_geometry_vertices` before they are parsed).

use super::parser::err;
use crate::error::StaError;
use crate::limits::QueryLimits;
use crate::time::parse_instant;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    DateTime(i64),
    Date(String),
    Geography(String),
    LParen,
    RParen,
    Comma,
    Slash,
    Minus,
}

pub(super) fn lex(input: &str, limits: &QueryLimits) -> Result<Vec<(usize, Token)>, StaError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '(' => out.push((start, Token::LParen)),
            ')' => out.push((start, Token::RParen)),
            ',' => out.push((start, Token::Comma)),
            '/' => out.push((start, Token::Slash)),
            '-' => out.push((start, Token::Minus)),
            '\'' => {
                let (s, next) = lex_string(&chars, i)?;
                out.push((start, Token::Str(s)));
                i = next;
                continue;
            }
            c if c.is_ascii_digit() => {
                let mut j = i;
                while j < chars.len()
                    && (chars[j].is_ascii_alphanumeric()
                        || matches!(chars[j], '.' | ':' | '-' | '+'))
                {
                    // A '-' or '+' only continues a date/time literal, never a number: `3-1` is not
                    // OData, but `2026-01-01T00:00:00+08:00` is.
                    if matches!(chars[j], '-' | '+' | ':') && !looks_temporal(&chars[i..j]) {
                        break;
                    }
                    j += 1;
                }
                let mut text: String = chars[i..j].iter().collect();
                // `+08:00` arrives as ` 08:00` when a client did not percent-encode the '+' of a
                // UTC offset (form decoding turns '+' into a space): take it back.
                if text.contains('T')
                    && !text.ends_with('Z')
                    && text.get(10..).is_some_and(|t| !t.contains(['+', '-']))
                {
                    let rest: String = chars[j..chars.len().min(j + 6)].iter().collect();
                    let r = rest.as_bytes();
                    if r.len() == 6
                        && r[0] == b' '
                        && r[1].is_ascii_digit()
                        && r[2].is_ascii_digit()
                        && r[3] == b':'
                        && r[4].is_ascii_digit()
                        && r[5].is_ascii_digit()
                    {
                        text.push('+');
                        text.push_str(&rest[1..]);
                        j += 6;
                    }
                }
                out.push((start, number_or_time(&text)?));
                i = j;
                continue;
            }
            c if c.is_alphabetic() || c == '_' || c == '$' || c == '@' => {
                let mut j = i;
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '.' | '$' | '@'))
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                if (word == "geography" || word == "geometry") && chars.get(j) == Some(&'\'') {
                    let (wkt_text, next) = lex_string(&chars, j)?;
                    // Spatial predicates cost (vertices × vertices of each location): bound the
                    // literal before anything parses or evaluates it. Vertices are separated by ','.
                    let vertices = wkt_text.matches(',').count() + 1;
                    if vertices > limits.max_geometry_vertices {
                        return Err(err(format!(
                            "the {word} literal has {vertices} vertices, more than {} (limit max_geometry_vertices in [sta])",
                            limits.max_geometry_vertices
                        )));
                    }
                    crate::geo::parse_wkt(&wkt_text)
                        .map_err(|e| err(format!("bad {word} literal: {e}")))?;
                    out.push((start, Token::Geography(wkt_text)));
                    i = next;
                    continue;
                }
                out.push((start, Token::Ident(word)));
                i = j;
                continue;
            }
            other => {
                return Err(err(format!(
                    "unexpected character '{other}' at position {start}"
                )));
            }
        }
        i += 1;
    }
    Ok(out)
}

fn looks_temporal(prefix: &[char]) -> bool {
    // Four digits then '-' starts a date; anything longer that already has a '-' continues one.
    prefix.len() >= 4
        && prefix[..4].iter().all(|c| c.is_ascii_digit())
        && (prefix.len() == 4 || prefix.contains(&'-'))
}

fn lex_string(chars: &[char], open: usize) -> Result<(String, usize), StaError> {
    let mut s = String::new();
    let mut j = open + 1;
    loop {
        match chars.get(j) {
            None => {
                return Err(err(format!(
                    "unterminated string starting at position {open}"
                )));
            }
            Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                s.push('\'');
                j += 2;
            }
            Some('\'') => return Ok((s, j + 1)),
            Some(c) => {
                s.push(*c);
                j += 1;
            }
        }
    }
}

fn number_or_time(text: &str) -> Result<Token, StaError> {
    if text.contains('-') || text.contains(':') {
        if text.len() == 10 && !text.contains('T') {
            if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
                return Ok(Token::Date(text.to_string()));
            }
            return Err(err(format!("bad date literal '{text}'")));
        }
        return parse_instant(text)
            .map(Token::DateTime)
            .map_err(|e| err(format!("bad date/time literal '{text}': {e}")));
    }
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Token::Int(i));
    }
    let trimmed = text.trim_end_matches(['d', 'D', 'f', 'F', 'm', 'M']);
    trimmed
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Token::Float)
        .ok_or_else(|| err(format!("bad number '{text}'")))
}
