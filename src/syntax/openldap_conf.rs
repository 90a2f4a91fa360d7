//! Lossless parser for OpenLDAP's keyword files: `slapd.conf` (the server,
//! legacy) and `ldap.conf` (clients). The two are kept apart on purpose:
//! slapd.conf's `TLSCipherSuite` and ldap.conf's `TLS_CIPHER_SUITE` configure
//! different programs.
//!
//! Grammar: `grammars/openldap-conf.ebnf`. In slapd.conf a line that starts
//! with whitespace continues the previous line, a comment line included (as
//! slapd.conf(5) says and slapd does), and a whitespace-only line right after
//! an empty line is an error ("bad config line"). In ldap.conf every line
//! stands alone: an indented line is an ordinary option.

use super::lex::{PhysLine, is_hspace, physical_lines};
use crate::source::{ParseError, Span};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    SlapdConf,
    LdapConf,
}

#[derive(Debug, Clone)]
pub struct Conf {
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub span: Span,
    pub parts: Vec<PhysLine>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Blank,
    Comment,
    Directive { keyword: Span, args: Vec<Span> },
}

impl Stmt {
    pub fn keyword<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        match &self.kind {
            Kind::Directive { keyword, .. } => Some(keyword.slice(bytes)),
            _ => None,
        }
    }
    pub fn is(&self, bytes: &[u8], kw: &str) -> bool {
        self.keyword(bytes)
            .is_some_and(|k| k.eq_ignore_ascii_case(kw.as_bytes()))
    }
    /// Arguments with quotes removed.
    pub fn args(&self, bytes: &[u8]) -> Vec<String> {
        match &self.kind {
            Kind::Directive { args, .. } => args
                .iter()
                .map(|a| {
                    let s = a.slice(bytes);
                    let s = if s.len() >= 2 && s[0] == b'"' && s[s.len() - 1] == b'"' {
                        &s[1..s.len() - 1]
                    } else {
                        s
                    };
                    String::from_utf8_lossy(s).into_owned()
                })
                .collect(),
            _ => Vec::new(),
        }
    }
    /// From the first argument to the end of the last.
    pub fn args_span(&self) -> Option<Span> {
        match &self.kind {
            Kind::Directive { args, .. } => {
                Some(Span::new(args.first()?.start(), args.last()?.end()))
            }
            _ => None,
        }
    }
    pub fn text_end(&self) -> usize {
        self.parts
            .last()
            .map_or(self.span.end(), |p| p.content.end())
    }
}

fn blank(bytes: &[u8], l: &PhysLine) -> bool {
    l.content
        .slice(bytes)
        .iter()
        .all(|&b| is_hspace(b) || b == b'\r')
}

fn tokens(bytes: &[u8], segs: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for seg in segs {
        let mut k = seg.start();
        while k < seg.end() {
            let b = bytes[k];
            if is_hspace(b) || b == b'\r' {
                k += 1;
                continue;
            }
            let start = k;
            if b == b'"' {
                k += 1;
                while k < seg.end() && bytes[k] != b'"' {
                    k += if bytes[k] == b'\\' { 2 } else { 1 };
                }
                k = (k + 1).min(seg.end());
            } else {
                while k < seg.end() && !is_hspace(bytes[k]) && bytes[k] != b'\r' {
                    k += 1;
                }
            }
            out.push(Span::new(start, k));
        }
    }
    out
}

pub fn parse(path: &Path, bytes: &[u8], dialect: Dialect) -> Result<Conf, ParseError> {
    crate::source::fits(path, bytes)?;
    let phys = physical_lines(bytes);
    let mut stmts = Vec::new();
    let mut i = 0;
    while i < phys.len() {
        let first = phys[i];
        let mut parts = vec![first];
        let c = first.content.slice(bytes);
        let starts_blank = c.first().is_some_and(|&b| is_hspace(b));
        if dialect == Dialect::SlapdConf && !blank(bytes, &first) {
            while i + 1 < phys.len()
                && phys[i + 1]
                    .content
                    .slice(bytes)
                    .first()
                    .is_some_and(|&b| is_hspace(b))
            {
                i += 1;
                parts.push(phys[i]);
            }
        }
        i += 1;
        let span = Span::new(first.content.start(), parts.last().expect("one").eol.end());
        let ind = c.iter().take_while(|&&b| is_hspace(b)).count();
        let kind = if blank(bytes, &first) {
            if dialect == Dialect::SlapdConf && starts_blank && !c.iter().all(|&b| b == b'\r') {
                let prev_empty = stmts
                    .last()
                    .is_none_or(|s: &Stmt| matches!(s.kind, Kind::Blank));
                if prev_empty {
                    return Err(ParseError::at(
                        path,
                        bytes,
                        first.content.start(),
                        "a whitespace-only line after an empty line: slapd refuses it (\"bad config line\"); make it empty",
                    ));
                }
            }
            Kind::Blank
        } else if c[ind] == b'#' {
            Kind::Comment
        } else if dialect == Dialect::SlapdConf && ind > 0 {
            return Err(ParseError::at(
                path,
                bytes,
                first.content.start(),
                "a line starting with whitespace continues the previous one, but there is none",
            ));
        } else {
            let segs: Vec<Span> = parts.iter().map(|p| p.content).collect();
            let mut toks = tokens(bytes, &segs);
            let keyword = toks.remove(0);
            Kind::Directive {
                keyword,
                args: toks,
            }
        };
        stmts.push(Stmt { span, parts, kind });
    }
    Ok(Conf { stmts })
}

impl Conf {
    pub fn check_tiling(&self, len: usize) -> Result<(), String> {
        super::lex::check_spans(self.stmts.iter().map(|s| s.span), len)
    }

    /// slapd.conf: the statements before the first `database` line (the
    /// global part, where TLS directives belong). A `backend` line does not
    /// end it: slapd reads TLS directives after it as global ones (slaptest
    /// puts them in cn=config), so only `database` starts a section.
    pub fn global_end(&self, bytes: &[u8]) -> usize {
        self.stmts
            .iter()
            .position(|s| s.is(bytes, "database"))
            .unwrap_or(self.stmts.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slapd_conf_continuations_and_sections() {
        let s = "# c\n  swallowed by the comment\ninclude /etc/schema\nTLSCipherSuite \"NORMAL\"\naccess to *\n  by * read\n\ndatabase mdb\nsuffix x\n";
        let c = parse(Path::new("slapd.conf"), s.as_bytes(), Dialect::SlapdConf).unwrap();
        c.check_tiling(s.len()).unwrap();
        let b = s.as_bytes();
        assert_eq!(c.stmts.len(), 7);
        assert_eq!(c.stmts[2].args(b), vec!["NORMAL"]);
        assert_eq!(c.stmts[3].args(b), vec!["to", "*", "by", "*", "read"]);
        assert_eq!(c.global_end(b), 5);
        // Issue 9, item 7: `backend` does not start a section.
        let s = "backend mdb\nTLSCertificateFile /c.pem\ndatabase mdb\nsuffix x\n";
        let c = parse(Path::new("slapd.conf"), s.as_bytes(), Dialect::SlapdConf).unwrap();
        assert_eq!(c.global_end(s.as_bytes()), 2);
        let e = parse(
            Path::new("slapd.conf"),
            b"a b\n\n  \nc d\n",
            Dialect::SlapdConf,
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn ldap_conf_lines_stand_alone() {
        let s = "TLS_REQCERT never\n  TLS_CACERT /etc/ssl/ca.pem\r\n";
        let c = parse(Path::new("ldap.conf"), s.as_bytes(), Dialect::LdapConf).unwrap();
        assert_eq!(c.stmts.len(), 2);
        assert!(c.stmts[1].is(s.as_bytes(), "tls_cacert"));
    }
}
