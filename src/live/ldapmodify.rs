//! Changes to a running slapd's `cn=config`: the LDIF change file, its
//! inverse, and running `ldapmodify -Y EXTERNAL` / `ldapsearch` against it.
//!
//! A running server's slapd.d files are slapd's own (it rewrites them and
//! their CRC); tlsmend changes a live server the way an administrator does,
//! with one modify operation per entry, so that certificate and key change
//! together, and keeps the inverse so that `rollback` undoes it the same way.

use std::io::Write;
use std::process::{Command, Stdio};

/// One attribute to replace: its values before and the value after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdapMod {
    pub attr: String,
    pub old: Vec<String>,
    pub new: String,
}

/// One modify operation on one entry of a server reached at `uri`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdapChange {
    pub uri: String,
    pub dn: String,
    pub mods: Vec<LdapMod>,
}

/// `attr: value`, or `attr:: base64` where LDIF requires it.
fn attr_line(attr: &str, value: &str) -> String {
    let safe = !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ')
        && value.bytes().all(|b| (0x20..0x7f).contains(&b));
    if safe {
        format!("{attr}: {value}\n")
    } else {
        format!("{attr}:: {}\n", base64(value.as_bytes()))
    }
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= n {
                T[((v >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

impl LdapChange {
    /// The change file: `replace:` per attribute, in one modify operation.
    pub fn ldif(&self) -> String {
        let mut s = format!("dn: {}\nchangetype: modify\n", self.dn);
        for (i, m) in self.mods.iter().enumerate() {
            if i > 0 {
                s.push_str("-\n");
            }
            s.push_str(&format!("replace: {}\n", m.attr));
            s.push_str(&attr_line(&m.attr, &m.new));
        }
        s.push_str("-\n");
        s
    }

    /// The change file that restores the values before: `replace:` with the
    /// old values, or `delete:` where there were none.
    pub fn inverse_ldif(&self) -> String {
        let mut s = format!("dn: {}\nchangetype: modify\n", self.dn);
        for (i, m) in self.mods.iter().enumerate() {
            if i > 0 {
                s.push_str("-\n");
            }
            if m.old.is_empty() {
                s.push_str(&format!("delete: {}\n", m.attr));
            } else {
                s.push_str(&format!("replace: {}\n", m.attr));
                for v in &m.old {
                    s.push_str(&attr_line(&m.attr, v));
                }
            }
        }
        s.push_str("-\n");
        s
    }
}

/// Runs `ldapmodify -Y EXTERNAL -H uri` with `ldif` on its standard input.
pub fn run_ldapmodify(uri: &str, ldif: &str) -> Result<(), String> {
    let mut child = Command::new("ldapmodify")
        .args(["-Q", "-Y", "EXTERNAL", "-H", uri])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ldapmodify (install ldap-utils): {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(ldif.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ldapmodify -Y EXTERNAL -H {uri} failed: {}{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }
}

/// The current values of `attrs` of `dn`, read with `ldapsearch -Y EXTERNAL`.
pub fn current_values(
    uri: &str,
    dn: &str,
    attrs: &[&str],
) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut args = vec![
        "-Q",
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-Y",
        "EXTERNAL",
        "-H",
        uri,
        "-b",
        dn,
        "-s",
        "base",
    ];
    args.extend_from_slice(attrs);
    let out = Command::new("ldapsearch")
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run ldapsearch: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ldapsearch on {uri} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(attrs
        .iter()
        .map(|a| {
            let vals = text
                .lines()
                .filter_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    if !k.eq_ignore_ascii_case(a) {
                        return None;
                    }
                    Some(match v.strip_prefix(':') {
                        Some(b) => String::from_utf8_lossy(
                            &crate::target::cert::base64_decode(b.trim()).unwrap_or_default(),
                        )
                        .into_owned(),
                        None => v.trim_start().to_string(),
                    })
                })
                .collect();
            (a.to_string(), vals)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_and_inverse_files() {
        let c = LdapChange {
            uri: "ldapi:///".into(),
            dn: "cn=config".into(),
            mods: vec![
                LdapMod {
                    attr: "olcTLSCipherSuite".into(),
                    old: vec!["NORMAL".into()],
                    new: "NORMAL:-VERS-ALL:+VERS-TLS1.3".into(),
                },
                LdapMod {
                    attr: "olcTLSProtocolMin".into(),
                    old: vec![],
                    new: "3.3".into(),
                },
            ],
        };
        assert_eq!(
            c.ldif(),
            "dn: cn=config\nchangetype: modify\nreplace: olcTLSCipherSuite\nolcTLSCipherSuite: NORMAL:-VERS-ALL:+VERS-TLS1.3\n-\nreplace: olcTLSProtocolMin\nolcTLSProtocolMin: 3.3\n-\n"
        );
        assert_eq!(
            c.inverse_ldif(),
            "dn: cn=config\nchangetype: modify\nreplace: olcTLSCipherSuite\nolcTLSCipherSuite: NORMAL\n-\ndelete: olcTLSProtocolMin\n-\n"
        );
        assert_eq!(attr_line("a", " lead"), "a:: IGxlYWQ=\n");
        assert_eq!(base64(b"hello"), "aGVsbG8=");
    }
}
