//! Lossless parser for Postfix `master.cf`.
//!
//! Grammar: `grammars/postfix-master.ebnf`. A service is a logical line (see
//! [`super::postfix_lines`]) of eight fields (`service type private unpriv
//! chroot wakeup maxproc command`) and the command's arguments, among them
//! `-o name=value` and `-o { name = value }` overrides. A commented-out
//! service (`#submission inet n ...` with `#  -o ...` lines under it, as
//! Debian ships it) is recognised so that it can be uncommented. A service
//! with fewer than eight fields is kept and marked: Postfix refuses it.

use super::lex::{PhysLine, is_hspace};
use super::postfix_lines::{Group, LineKind, Token, groups, tokens};
use crate::source::{ParseError, Span};
use std::path::Path;

pub const SERVICE_TYPES: &[&str] = &["inet", "unix", "unix-dgram", "fifo", "pass"];

#[derive(Debug, Clone)]
pub struct MasterCf {
    pub groups: Vec<Group>,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub span: Span,
    /// For a commented-out service: the `#` of its service line.
    pub hash: Option<Span>,
    pub lines: Vec<(PhysLine, LineKind)>,
    pub tokens: Vec<Token>,
    pub overrides: Vec<Override>,
}

/// `-o name=value` or `-o { name = value }`.
#[derive(Debug, Clone, Copy)]
pub struct Override {
    /// From `-o` to the end of the value token.
    pub span: Span,
    /// In a commented-out service: the `#` of the override's line.
    pub hash: Option<Span>,
    /// Written as `-o { name = value }`, where the value may hold spaces.
    pub braced: bool,
    pub name: Span,
    pub value: Span,
}

impl Service {
    pub fn commented(&self) -> bool {
        self.hash.is_some()
    }
    /// Fewer than eight fields: Postfix says "bad field count".
    pub fn valid(&self) -> bool {
        self.tokens.len() >= 8
    }
    /// A `-o` with no `name=value` after it (the last token, or followed
    /// by a word without `=`): master passes it on and the daemon stops with
    /// a usage error, and the next `-o` added after it would be swallowed.
    pub fn bad_option(&self, bytes: &[u8]) -> Option<Span> {
        let args = self.tokens.get(8..)?;
        args.iter().enumerate().find_map(|(i, t)| {
            let is_o = t.span.slice(bytes) == b"-o" && !t.braced;
            let ok = args
                .get(i + 1)
                .is_some_and(|v| v.inner(bytes).slice(bytes).contains(&b'='));
            (is_o && !ok).then_some(t.span)
        })
    }
    pub fn field(&self, bytes: &[u8], i: usize) -> String {
        self.tokens
            .get(i)
            .map(|t| t.text(bytes))
            .unwrap_or_default()
    }
    /// `name/type`, as `postconf -M` names it.
    pub fn id(&self, bytes: &[u8]) -> String {
        format!("{}/{}", self.field(bytes, 0), self.field(bytes, 1))
    }
    pub fn override_value(&self, bytes: &[u8], name: &str) -> Option<(usize, String)> {
        self.overrides
            .iter()
            .enumerate()
            .rfind(|(_, o)| o.name.slice(bytes) == name.as_bytes())
            .map(|(i, o)| {
                (
                    i,
                    String::from_utf8_lossy(o.value.slice(bytes)).into_owned(),
                )
            })
    }
}

fn overrides(bytes: &[u8], toks: &[Token]) -> Vec<Override> {
    let mut out = Vec::new();
    let mut i = 8;
    while i < toks.len() {
        let t = toks[i];
        let text = t.span.slice(bytes);
        let (value_tok, start) = if text == b"-o" && i + 1 < toks.len() {
            i += 1;
            (toks[i], t.span.start())
        } else if text.starts_with(b"-o") && text.len() > 2 && !t.braced {
            (
                Token {
                    span: Span::new(t.span.start() + 2, t.span.end()),
                    braced: false,
                },
                t.span.start(),
            )
        } else {
            i += 1;
            continue;
        };
        let inner = value_tok.inner(bytes);
        let s = inner.slice(bytes);
        if let Some(eq) = s.iter().position(|&b| b == b'=') {
            let name_end = s[..eq]
                .iter()
                .rposition(|&b| !is_hspace(b))
                .map_or(0, |p| p + 1);
            let vstart = eq + 1 + s[eq + 1..].iter().take_while(|&&b| is_hspace(b)).count();
            out.push(Override {
                hash: None,
                braced: value_tok.braced,
                span: Span::new(start, value_tok.span.end()),
                name: Span::new(inner.start(), inner.start() + name_end),
                value: Span::new(inner.start() + vstart, inner.end()),
            });
        }
        i += 1;
    }
    out
}

/// The text of a comment line after its `#`, if it reads like a service
/// line (eight fields, a known type).
fn commented_service_start(bytes: &[u8], l: &PhysLine) -> Option<Span> {
    let c = l.content.slice(bytes);
    if c.first() != Some(&b'#') || c.get(1).is_none_or(|&b| is_hspace(b) || b == b'#') {
        return None;
    }
    let seg = Span::new(l.content.start() + 1, l.content.end());
    let toks = tokens(bytes, &[seg]);
    let ty = toks.get(1)?.text(bytes);
    (toks.len() >= 8 && SERVICE_TYPES.contains(&ty.as_str())).then_some(seg)
}

/// `#  -o ...` (an argument line) or `#   prose` (a note between them), as
/// opposed to `#text` or a blank `#`, which end a commented-out service.
fn commented_continuation(bytes: &[u8], l: &PhysLine) -> Option<bool> {
    let c = l.content.slice(bytes);
    if c.first() != Some(&b'#') || !c.get(1).is_some_and(|&b| is_hspace(b)) {
        return None;
    }
    let first = c[1..].iter().find(|&&b| !is_hspace(b) && b != b'\r')?;
    Some(*first == b'-')
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<MasterCf, ParseError> {
    crate::source::fits(path, bytes)?;
    let raw = groups(bytes);
    let mut gs: Vec<Group> = Vec::new();
    let mut services = Vec::new();
    let mut k = 0;
    while k < raw.len() {
        match &raw[k] {
            Group::Entry { lines } => {
                let segs: Vec<Span> = lines
                    .iter()
                    .filter(|(_, kind)| matches!(kind, LineKind::First | LineKind::Continued))
                    .map(|(l, _)| l.content)
                    .collect();
                let toks = tokens(bytes, &segs);
                services.push(Service {
                    span: raw[k].span(),
                    hash: None,
                    lines: lines.clone(),
                    overrides: overrides(bytes, &toks),
                    tokens: toks,
                });
                gs.push(raw[k].clone());
                k += 1;
            }
            Group::Trivia {
                line,
                kind: LineKind::Comment,
            } if commented_service_start(bytes, line).is_some() => {
                // The service line, then `#  -o` lines, possibly with notes
                // between them; the service ends at its last `#  -o` line.
                let mut end = k;
                let mut j = k + 1;
                while let Some(Group::Trivia {
                    line: l,
                    kind: LineKind::Comment,
                }) = raw.get(j)
                {
                    match commented_continuation(bytes, l) {
                        Some(true) => end = j,
                        Some(false) => {}
                        None => break,
                    }
                    j += 1;
                }
                let lines: Vec<(PhysLine, LineKind)> = (k..=end)
                    .map(|i| match &raw[i] {
                        Group::Trivia { line, .. } => (*line, LineKind::Comment),
                        Group::Entry { .. } => unreachable!("only comment lines are gathered"),
                    })
                    .collect();
                let service_seg = commented_service_start(bytes, line).expect("checked");
                let mut toks = tokens(bytes, &[service_seg]);
                let mut ovs = overrides(bytes, &toks);
                for (l, _) in &lines[1..] {
                    if commented_continuation(bytes, l) != Some(true) {
                        continue;
                    }
                    let seg = Span::new(l.content.start() + 1, l.content.end());
                    let mut line_toks = tokens(bytes, &[seg]);
                    // Parse this line's arguments as if they followed the eight fields.
                    let mut with_fields = toks[..8].to_vec();
                    with_fields.append(&mut line_toks.clone());
                    for mut o in overrides(bytes, &with_fields) {
                        o.hash = Some(Span::new(l.content.start(), l.content.start() + 1));
                        ovs.push(o);
                    }
                    toks.append(&mut line_toks);
                }
                let span = Span::new(
                    lines[0].0.content.start(),
                    lines[lines.len() - 1].0.eol.end(),
                );
                let hash = Some(Span::new(line.content.start(), line.content.start() + 1));
                services.push(Service {
                    span,
                    hash,
                    overrides: ovs,
                    tokens: toks,
                    lines: lines.clone(),
                });
                gs.push(Group::Entry { lines });
                k = end + 1;
            }
            other => {
                gs.push(other.clone());
                k += 1;
            }
        }
    }
    Ok(MasterCf {
        groups: gs,
        services,
    })
}

impl MasterCf {
    pub fn check_tiling(&self, len: usize) -> Result<(), String> {
        super::lex::check_spans(self.groups.iter().map(|g| g.span()), len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "smtp      inet  n       -       y       -       -       smtpd\n#smtp      inet  n       -       y       -       1       postscreen\n#submission inet n       -       y       -       -       smtpd\n#  -o syslog_name=postfix/submission\n#  -o smtpd_tls_security_level=encrypt\n#  -o smtpd_client_restrictions=$mua_client_restrictions\n#     a note between arguments\n#  -o smtpd_sasl_auth_enable=yes\n#628       inet  n       -       y       -       -       qmqpd\npickup    unix  n       -       y       60      1       pickup\n  -o { smtpd_x = a b }\n  -o content_filter=\n";

    #[test]
    fn services_overrides_and_commented_services() {
        let m = parse(Path::new("master.cf"), DEBIAN.as_bytes()).unwrap();
        m.check_tiling(DEBIAN.len()).unwrap();
        let b = DEBIAN.as_bytes();
        let ids: Vec<(String, bool)> = m
            .services
            .iter()
            .map(|s| (s.id(b), s.commented()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("smtp/inet".into(), false),
                ("smtp/inet".into(), true),
                ("submission/inet".into(), true),
                ("628/inet".into(), true),
                ("pickup/unix".into(), false)
            ]
        );
        let sub = &m.services[2];
        assert_eq!(sub.overrides.len(), 4);
        assert!(sub.overrides.iter().all(|o| o.hash.is_some()));
        assert_eq!(
            sub.override_value(b, "smtpd_sasl_auth_enable").unwrap().1,
            "yes"
        );
        assert_eq!(
            sub.override_value(b, "smtpd_tls_security_level").unwrap().1,
            "encrypt"
        );
        let pickup = &m.services[4];
        assert_eq!(pickup.override_value(b, "smtpd_x").unwrap().1, "a b");
        assert_eq!(pickup.override_value(b, "content_filter").unwrap().1, "");
    }
}
