//! Apache's environment on Debian, read from `envvars` as data.
//!
//! `apache2ctl` sources `$APACHE_CONFDIR/envvars`, a shell script: on a
//! `--root` image that would run the image's code on this host as root.
//! tlsmend reads it instead: `NAME=value` and `export NAME=value` lines,
//! with `'...'`/`"..."` quoting and `$NAME`/`${NAME}` expanded from what
//! was read before; `unset NAME`; `export NAME`. `SUFFIX` is computed as
//! Debian's envvars computes it (from an `/etc/apache2-NAME` confdir).
//! Anything else (a command, `if`, `$(...)`, backquotes, `${X:-y}`) is not
//! run: the line is reported and its variable left unset.

use std::collections::BTreeMap;
use std::path::Path;

/// The variables `envvars` exports, and one note per line not evaluated.
#[derive(Debug, Default)]
pub struct ApacheEnv {
    pub vars: BTreeMap<String, String>,
    pub skipped: Vec<String>,
}

/// Reads `confdir/envvars` (absent: no variables) for a server whose
/// configuration directory the daemon knows as `machine_confdir`.
pub fn read(confdir: &Path, machine_confdir: &Path) -> ApacheEnv {
    let text = std::fs::read(confdir.join("envvars")).unwrap_or_default();
    parse(&String::from_utf8_lossy(&text), machine_confdir)
}

/// [`read`] on the text of an `envvars` file.
pub fn parse(text: &str, machine_confdir: &Path) -> ApacheEnv {
    let confdir = machine_confdir.display().to_string();
    let suffix = confdir
        .strip_prefix("/etc/apache2-")
        .map_or(String::new(), |s| format!("-{s}"));
    let mut shell: BTreeMap<String, String> = BTreeMap::new();
    shell.insert("APACHE_CONFDIR".into(), confdir.clone());
    shell.insert("SUFFIX".into(), suffix);
    let mut exported: BTreeMap<String, String> = BTreeMap::new();
    let mut env = ApacheEnv::default();
    // Debian's own SUFFIX block is what `suffix` above computes.
    let mut in_suffix_block = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("if [ \"${APACHE_CONFDIR##/etc/apache2-}\"") {
            in_suffix_block = true;
            continue;
        }
        if in_suffix_block {
            if line == "fi" {
                in_suffix_block = false;
            }
            continue;
        }
        let (export, rest) = match line.strip_prefix("export ") {
            Some(r) => (true, r.trim()),
            None => (false, line),
        };
        if let Some(name) = rest.strip_prefix("unset ") {
            for n in name.split_whitespace() {
                shell.remove(n);
                exported.remove(n);
            }
            continue;
        }
        match assignment(rest, &shell) {
            Some(Ok((name, value))) => {
                if export || exported.contains_key(&name) {
                    exported.insert(name.clone(), value.clone());
                }
                shell.insert(name, value);
            }
            Some(Err(why)) => env
                .skipped
                .push(format!("envvars:{}: {why}: {line}", i + 1)),
            None if export && rest.split_whitespace().all(is_name) => {
                for n in rest.split_whitespace() {
                    let v = shell.get(n).cloned().unwrap_or_default();
                    exported.insert(n.to_string(), v);
                }
            }
            None => env.skipped.push(format!(
                "envvars:{}: not an assignment, not run: {line}",
                i + 1
            )),
        }
    }
    env.vars = exported;
    env
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f == '_' || f.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

/// `NAME=value` with its value evaluated, `None` when the line is not an
/// assignment, an error when its value is code.
fn assignment(
    s: &str,
    shell: &BTreeMap<String, String>,
) -> Option<Result<(String, String), String>> {
    let (name, value) = s.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    Some(value_of(value, shell).map(|v| (name.to_string(), v)))
}

/// A shell word of quoted and unquoted parts, expanded.
fn value_of(v: &str, shell: &BTreeMap<String, String>) -> Result<String, String> {
    if v.contains("$(") || v.contains('`') {
        return Err("command substitution, not run".into());
    }
    let mut out = String::new();
    let mut chars = v.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (_, '$') => {
                let name: String = if chars.peek() == Some(&'{') {
                    chars.next();
                    let inner: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    if !is_name(&inner) {
                        return Err(format!(
                            "${{{inner}}} is not a plain variable, not evaluated"
                        ));
                    }
                    inner
                } else {
                    let mut n = String::new();
                    while let Some(&c) = chars.peek() {
                        if c == '_' || c.is_ascii_alphanumeric() {
                            n.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    n
                };
                if name.is_empty() {
                    out.push('$');
                } else {
                    out.push_str(shell.get(&name).map_or("", String::as_str));
                }
            }
            (None, c) if c.is_whitespace() || ";&|<>()".contains(c) => {
                return Err("more than one word, not run".into());
            }
            (_, c) => out.push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debians_envvars_read_as_data_and_code_is_reported_not_run() {
        let text = r#"
unset HOME
if [ "${APACHE_CONFDIR##/etc/apache2-}" != "${APACHE_CONFDIR}" ] ; then
	SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"
else
	SUFFIX=
fi
export APACHE_RUN_USER=www-data
export APACHE_PID_FILE=/var/run/apache2$SUFFIX/apache2.pid
export APACHE_LOG_DIR="/var/log/apache2${SUFFIX}"
export LANG=C
export LANG
export EVIL=$(touch /tmp/tlsmend-pwned)
OTHER=`id`
touch /tmp/tlsmend-pwned
"#;
        let e = parse(text, Path::new("/etc/apache2-two"));
        assert_eq!(e.vars["APACHE_RUN_USER"], "www-data");
        assert_eq!(
            e.vars["APACHE_PID_FILE"],
            "/var/run/apache2-two/apache2.pid"
        );
        assert_eq!(e.vars["APACHE_LOG_DIR"], "/var/log/apache2-two");
        assert_eq!(e.vars["LANG"], "C");
        assert!(!e.vars.contains_key("EVIL"));
        assert_eq!(e.skipped.len(), 3, "{:?}", e.skipped);
        assert!(
            e.skipped[0].contains("command substitution"),
            "{:?}",
            e.skipped
        );
        assert!(e.skipped[2].contains("not run: touch"), "{:?}", e.skipped);
        let plain = parse(
            "export APACHE_RUN_DIR=/var/run/apache2$SUFFIX\n",
            Path::new("/etc/apache2"),
        );
        assert_eq!(plain.vars["APACHE_RUN_DIR"], "/var/run/apache2");
    }
}
