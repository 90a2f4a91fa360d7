//! Template markup in a configuration value (issue 9, item 6): Jinja,
//! Ansible and Salt `{{ }}` / `{% %}`, ERB `<%= %>`, shell-style `$(...)`,
//! `${...}` and `{VARS}` placeholders. Configuration trees rendered by a
//! configuration-management tool carry them; the file on disk is then not
//! the source of truth, and a literal written over the markup would be
//! undone by the next run of the tool (or would hide a rendered value that
//! is already strong). So markup is never judged and never replaced: the
//! finding says "templated: fix the template".
//!
//! Each format's own syntax is not markup: Apache's `${VAR}` (Define),
//! Postfix's `$name` / `${name}`, and sh's `${NAME}` in Courier's files
//! (whose `$(...)` is a command substitution, reported on its own) are
//! values those daemons read.

/// The format a value comes from, for what its own syntax is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Apache,
    Postfix,
    /// Courier's sh files.
    Shell,
    /// slapd.conf, ldap.conf and cn=config LDIF.
    Ldap,
}

/// The kind of template markup `value` holds, if any.
pub fn markup(value: &str, format: Format) -> Option<&'static str> {
    if value.contains("{{") || value.contains("{%") {
        return Some("Jinja/Ansible/Salt markup");
    }
    if value.contains("<%") {
        return Some("ERB markup");
    }
    if value.contains("$(") && format != Format::Shell {
        return Some("a $(...) substitution");
    }
    if value.contains("${") && format == Format::Ldap {
        return Some("a ${...} placeholder");
    }
    if has_braced_vars(value) {
        return Some("a {VARS} placeholder");
    }
    None
}

/// `{NAME}` with an upper-case name (`{TLS_CERT}`), not after `$` or `%`
/// (`${X}`, Apache's `%{HTTP_HOST}`) and not a digit (`{1}mdb`).
fn has_braced_vars(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'{') {
        let open = i + p;
        let after = &b[open + 1..];
        let n = after
            .iter()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_')
            .count();
        let prefixed = open > 0 && matches!(b[open - 1], b'$' | b'%');
        if n > 0 && after[0].is_ascii_uppercase() && after.get(n) == Some(&b'}') && !prefixed {
            return true;
        }
        i = open + 1;
    }
    false
}

/// The reason a finding on templated markup gives.
pub fn reason(kind: &str, daemon: &str) -> String {
    format!(
        "templated: fix the template (this value is {kind}, not a value {daemon} can read; tlsmend cannot judge it and will not replace it)"
    )
}

/// What a finding on templated markup says instead of a fix.
pub const BLOCKED: &str = "templated: fix the template that renders this file";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_told_from_each_formats_own_syntax() {
        for f in [Format::Apache, Format::Postfix, Format::Shell, Format::Ldap] {
            assert!(markup("{{ OUTBOUND_TLS_LEVEL|default('dane') }}", f).is_some());
            assert!(markup("{% if x %}may{% endif %}", f).is_some());
            assert!(markup("<%= @tls_level %>", f).is_some());
            assert!(markup("/etc/ssl/{DOMAIN}.pem", f).is_some());
            assert!(markup("NORMAL:-VERS-TLS1.0", f).is_none());
        }
        assert!(markup("${SSL_DIR}/a.pem", Format::Apache).is_none());
        assert!(markup("${config_directory}/x", Format::Postfix).is_none());
        assert!(markup("${D}/x.pem", Format::Shell).is_none());
        assert!(markup("$(cat x)", Format::Shell).is_none());
        assert!(markup("${CERT}", Format::Ldap).is_some());
        assert!(markup("$(cat x)", Format::Postfix).is_some());
        assert!(markup("%{HTTP_HOST}", Format::Apache).is_none());
        assert!(markup("{1}mdb", Format::Ldap).is_none());
    }
}
