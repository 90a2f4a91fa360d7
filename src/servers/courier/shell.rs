//! tlsmend's evaluation of Courier's sh, as data: the assignments of a
//! service's files in the order the shell would run them (sourced files
//! followed inside the root, where the `.` line stands), `$NAME` and
//! `${NAME}` expanded from earlier assignments, and nothing ever run: a
//! value with `$(...)` or backquotes is *unknown*, not guessed.

use crate::discover::{ConfigFile, Root};
use crate::error::Result;
use crate::servers::template::{Format, markup};
use crate::source::Span;
use crate::syntax::Syntax;
use crate::syntax::courier::{self, Assignment, Command, File};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One assignment as the shell meets it.
#[derive(Debug, Clone)]
pub struct Step {
    /// Index into the loaded files.
    pub file: usize,
    pub assignment: Assignment,
    /// The value after expansion; `None` when it runs a command or is
    /// template markup.
    pub value: Option<String>,
    /// The kind of template markup the value is, if it is.
    pub templated: Option<&'static str>,
}

/// The files of one service, with every sourced file, and its steps.
pub struct Evaluated {
    pub files: Vec<(ConfigFile, File)>,
    pub steps: Vec<Step>,
    /// What could not be followed or evaluated, for the notes.
    pub notes: Vec<String>,
}

/// Loads `tops` (machine paths, in reading order) and evaluates them.
pub fn evaluate(root: &Root, tops: &[PathBuf]) -> Result<Evaluated> {
    let mut ev = Evaluated {
        files: Vec::new(),
        steps: Vec::new(),
        notes: Vec::new(),
    };
    let mut env = HashMap::new();
    for p in tops {
        walk(root, p, &mut ev, &mut env, 0)?;
    }
    Ok(ev)
}

fn walk(
    root: &Root,
    machine: &Path,
    ev: &mut Evaluated,
    env: &mut HashMap<String, String>,
    depth: usize,
) -> Result<()> {
    let f = ConfigFile::load(root, machine, Syntax::Courier)?;
    if let Some((seen, _)) = ev.files.iter().find(|(g, _)| g.real == f.real) {
        // Read once: a second copy would plan the same edit twice.
        ev.notes.push(format!(
            "{} is sourced more than once: tlsmend reads its first reading only",
            seen.shown().display()
        ));
        return Ok(());
    }
    let parsed = courier::parse(&f.source.path, &f.source.bytes)?;
    let index = ev.files.len();
    let shown = f.shown().display().to_string();
    let source = f.source.clone();
    let bytes = &source.bytes;
    let commands: Vec<(usize, Command)> = parsed
        .lines
        .iter()
        .flat_map(|l| match &l.kind {
            courier::LineKind::Commands(cs) => {
                cs.iter().map(|c| (l.span.start(), c.clone())).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    ev.files.push((f, parsed));
    let mut opaque = Vec::new();
    for (line, c) in commands {
        let line_no = source.line_of(line);
        match c {
            Command::Assign(a) => {
                let raw = String::from_utf8_lossy(a.value.slice(bytes));
                let templated = markup(&raw, Format::Shell);
                let value = if templated.is_some() {
                    env.remove(&a.name_str(bytes));
                    None
                } else if a.substitution(bytes) {
                    ev.notes.push(format!(
                        "{shown}:{line_no}: {} runs a command: its value cannot be judged, and tlsmend never runs it",
                        a.name_str(bytes)
                    ));
                    env.remove(&a.name_str(bytes));
                    None
                } else {
                    let v = expand(a.value.slice(bytes), env);
                    env.insert(a.name_str(bytes), v.clone());
                    Some(v)
                };
                ev.steps.push(Step {
                    file: index,
                    assignment: a,
                    value,
                    templated,
                });
            }
            // A sourced file's assignments take effect where its `.` line is.
            Command::Source { path } => {
                let raw = path.slice(bytes);
                let target = expand(raw, env);
                if courier::has_substitution(raw)
                    || target.contains('$')
                    || !target.starts_with('/')
                {
                    ev.notes.push(format!(
                        "{shown}:{line_no}: sources {target:?}, which is not a plain absolute path: not followed"
                    ));
                } else if depth > 8 || !root.exists(Path::new(&target)) {
                    ev.notes.push(format!(
                        "{shown}:{line_no}: sources {target}, which is not in the tree (or sources too deep): not followed"
                    ));
                } else {
                    walk(root, Path::new(&target), ev, env, depth + 1)?;
                }
            }
            // `NAME={{ x }}` is no sh assignment (the blanks split it) but
            // a template's: NAME is set by the template, not absent.
            Command::Opaque(span) => match templated_assignment(bytes, span) {
                Some((a, kind)) => {
                    env.remove(&a.name_str(bytes));
                    ev.steps.push(Step {
                        file: index,
                        assignment: a,
                        value: None,
                        templated: Some(kind),
                    });
                }
                None => opaque.push(line_no.to_string()),
            },
            Command::Export(_) => {}
        }
    }
    if !opaque.is_empty() {
        ev.notes.push(format!(
            "{shown}: shell command(s) tlsmend keeps but does not evaluate at line(s) {}",
            opaque.join(", ")
        ));
    }
    Ok(())
}

/// An opaque command that is `NAME=` followed by template markup.
fn templated_assignment(bytes: &[u8], span: Span) -> Option<(Assignment, &'static str)> {
    let text = span.slice(bytes);
    let n = text
        .iter()
        .take_while(|&&b| courier::is_name_byte(b))
        .count();
    if n == 0 || text[0].is_ascii_digit() || text.get(n) != Some(&b'=') {
        return None;
    }
    let kind = markup(&String::from_utf8_lossy(&text[n + 1..]), Format::Shell)?;
    let name = Span::new(span.start(), span.start() + n);
    Some((
        Assignment {
            name,
            value: Span::new(name.end() + 1, span.end()),
            exported: false,
        },
        kind,
    ))
}

/// `$NAME` and `${NAME}` replaced outside single quotes, quotes removed.
/// An unknown name is left as written: the daemon's environment may set it.
pub fn expand(raw: &[u8], env: &HashMap<String, String>) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_double = false;
    while i < raw.len() {
        match raw[i] {
            b'\'' if !in_double => {
                let end = raw[i + 1..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(raw.len(), |p| i + 1 + p);
                out.extend_from_slice(&raw[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                in_double = !in_double;
                i += 1;
            }
            b'\\' if i + 1 < raw.len() => {
                let n = raw[i + 1];
                if !in_double || b"$`\"\\\n".contains(&n) {
                    if n != b'\n' {
                        out.push(n);
                    }
                } else {
                    out.extend_from_slice(&raw[i..i + 2]);
                }
                i += 2;
            }
            b'$' => {
                let (name, len) = if raw.get(i + 1) == Some(&b'{') {
                    let end = raw[i + 2..].iter().position(|&b| b == b'}');
                    match end {
                        Some(e) => (&raw[i + 2..i + 2 + e], e + 3),
                        None => (&raw[i..i], 1),
                    }
                } else {
                    let n = raw[i + 1..]
                        .iter()
                        .take_while(|&&b| courier::is_name_byte(b))
                        .count();
                    (&raw[i + 1..i + 1 + n], n + 1)
                };
                match env.get(&*String::from_utf8_lossy(name)) {
                    Some(v) if !name.is_empty() => out.extend_from_slice(v.as_bytes()),
                    _ => out.extend_from_slice(&raw[i..i + len]),
                }
                i += len;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_the_shell() {
        let mut env = HashMap::new();
        env.insert("D".to_string(), "/etc/ssl".to_string());
        assert_eq!(expand(b"\"$D/a.pem\"", &env), "/etc/ssl/a.pem");
        assert_eq!(expand(b"${D}/b", &env), "/etc/ssl/b");
        assert_eq!(expand(b"'$D'", &env), "$D");
        assert_eq!(expand(b"$TLS_PROTOCOL", &env), "$TLS_PROTOCOL");
    }
}
