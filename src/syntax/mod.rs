//! One lossless parser per configuration format, and the choice of format
//! from a file's path.

pub mod apache;
pub mod apache_regions;
pub mod courier;
pub mod ldif;
pub mod lex;
pub mod openldap_conf;
pub mod postfix_lines;
pub mod postfix_main;
pub mod postfix_master;

use std::path::Path;

/// The configuration languages tlsmend reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Syntax {
    Apache,
    Courier,
    #[value(name = "postfix-main")]
    PostfixMain,
    #[value(name = "postfix-master")]
    PostfixMaster,
    Ldif,
    #[value(name = "slapd-conf")]
    SlapdConf,
    #[value(name = "ldap-conf")]
    LdapConf,
}

impl Syntax {
    /// Guesses the syntax from a path, `None` when the path says nothing.
    pub fn guess(path: &Path) -> Option<Syntax> {
        let s = path.to_string_lossy().to_ascii_lowercase();
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".ldif") {
            return Some(Syntax::Ldif);
        }
        if name == "slapd.conf" || name.starts_with("slapd.conf") {
            return Some(Syntax::SlapdConf);
        }
        if name == "ldap.conf" || name == ".ldaprc" || name == "ldaprc" {
            return Some(Syntax::LdapConf);
        }
        if name.starts_with("master.cf") || name.ends_with("master.cf") {
            return Some(Syntax::PostfixMaster);
        }
        if name.starts_with("main.cf")
            || name.ends_with("main.cf")
            || (s.contains("postfix") && name.ends_with(".cf"))
        {
            return Some(Syntax::PostfixMain);
        }
        if s.contains("apache")
            || s.contains("httpd")
            || name.ends_with(".conf")
            || name.ends_with(".htaccess")
        {
            return Some(Syntax::Apache);
        }
        if s.contains("courier")
            || [
                "imapd",
                "imapd-ssl",
                "pop3d",
                "pop3d-ssl",
                "authdaemonrc",
                "esmtpd",
                "esmtpd-ssl",
                "esmtpd-msa",
                "courierd",
            ]
            .iter()
            .any(|n| name == *n || name.starts_with(&format!("{n}.")))
        {
            return Some(Syntax::Courier);
        }
        None
    }

    /// Parses `bytes` and checks that the tree covers every byte exactly
    /// once, which is what makes printing an untouched file lossless.
    pub fn check(self, path: &Path, bytes: &[u8]) -> Result<(), crate::source::ParseError> {
        let tiled = match self {
            Syntax::Apache => {
                apache::check_tiling(&apache::parse(path, bytes)?.nodes, 0, bytes.len())
            }
            Syntax::Courier => courier::parse(path, bytes)?.check_tiling(bytes.len()),
            Syntax::PostfixMain => postfix_main::parse(path, bytes)?.check_tiling(bytes.len()),
            Syntax::PostfixMaster => postfix_master::parse(path, bytes)?.check_tiling(bytes.len()),
            Syntax::Ldif => ldif::parse(path, bytes)?.check_tiling(bytes.len()),
            Syntax::SlapdConf => {
                openldap_conf::parse(path, bytes, openldap_conf::Dialect::SlapdConf)?
                    .check_tiling(bytes.len())
            }
            Syntax::LdapConf => {
                openldap_conf::parse(path, bytes, openldap_conf::Dialect::LdapConf)?
                    .check_tiling(bytes.len())
            }
        };
        tiled.map_err(|e| {
            crate::source::ParseError::at(
                path,
                bytes,
                0,
                format!("internal error, the syntax tree is not lossless: {e}"),
            )
        })
    }
}
