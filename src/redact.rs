//! Secrets never leave their files: what tlsmend shows is redacted here.
//!
//! A configuration tree holds secrets next to TLS settings: OpenLDAP's
//! `olcRootPW` and slapd.conf's `rootpw`, Postfix password maps written
//! inline (`smtp_sasl_password_maps = inline:{ ... }`), SASL password files,
//! private keys. None of them is ever printed: in findings (text, JSON,
//! SARIF, review), diffs, parse-error excerpts or checkers' output.
//!
//! Detection is by line, one function per kind, with a little state for
//! what spans lines (a PEM block, a continued Postfix value, a folded LDIF
//! line). A secret's value becomes `<redacted>`; the name stays, so the
//! reader still knows which line it is.
//!
//! Diffs keep applying with `patch`: a line holding a secret is never shown
//! as context. [`diff`] cuts the context of a hunk at such a line (a hunk
//! may split in two, each with its exact header), which `patch` applies
//! the same. A secret line the change itself removes or adds (no rule does
//! that today) is shown redacted, and the diff says above the file that it
//! will not apply as it stands.

/// A diff line: its kind (` `, `-`, `+`), its bytes, and how it is shown
/// when it holds a secret.
type HunkLine = (char, Vec<u8>, Option<String>);

/// Shown instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// The secret-holding lines of one text, read in order.
#[derive(Default)]
pub struct Redactor {
    in_pem: bool,
    /// The previous line held a secret value that the next line may
    /// continue (Postfix: a line starting with whitespace; LDIF: one space).
    continues: bool,
    /// Every line is secret (a SASL password file).
    whole_file: bool,
}

impl Redactor {
    /// For a file whose every line is a secret (by its name).
    pub fn for_path(path: &str) -> Redactor {
        Redactor {
            whole_file: sasl_password_file(path),
            ..Redactor::default()
        }
    }

    /// The line as it may be shown: `None` when it holds no secret.
    pub fn line(&mut self, line: &str) -> Option<String> {
        if self.whole_file && !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            return Some(REDACTED.into());
        }
        if let Some(r) = self.pem_private_key(line) {
            return Some(r);
        }
        if self.continues && line.starts_with([' ', '\t']) {
            return Some(format!("{}{REDACTED}", leading_space(line)));
        }
        self.continues = false;
        let found = may_name_a_secret(line)
            .then(|| {
                ldif_password(line)
                    .or_else(|| slapd_conf_password(line))
                    .or_else(|| postfix_password_map(line))
                    .or_else(|| password_word(line))
            })
            .flatten();
        if found.is_some() {
            self.continues = true;
        }
        found
    }

    fn pem_private_key(&mut self, line: &str) -> Option<String> {
        let t = line.trim();
        if t.starts_with("-----BEGIN") && t.contains("PRIVATE KEY") {
            self.in_pem = true;
            return None;
        }
        if self.in_pem {
            if t.starts_with("-----END") {
                self.in_pem = false;
                return None;
            }
            return Some(REDACTED.into());
        }
        None
    }
}

/// Whether `line` holds, in any case, a word each of the detectors below
/// needs before it finds a secret (`rootpw`, `olcRootPW` and `bindpw`
/// hold "pw"; the password names "passw"; the rest "secret" or
/// "credential"). Most lines hold none, and are judged without the
/// detectors' lowercased copies (a dry-run diff of 10,000 sites is
/// 400,000 lines).
fn may_name_a_secret(line: &str) -> bool {
    let b = line.as_bytes();
    // One pass: each word starts with its own letter (`p`, `s`, `c`), so a
    // position is compared only with the words that can start there.
    let at = |i: usize, w: &[u8]| {
        b.get(i..i + w.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(w))
    };
    // `| 0x20` lowercases the three letters and maps no other byte to them.
    b.iter().enumerate().any(|(i, &c)| match c | 0x20 {
        b'p' => at(i, b"pw") || at(i, b"passw"),
        b's' => at(i, b"secret"),
        b'c' => at(i, b"credential"),
        _ => false,
    })
}

/// Every line of `text` with its secrets redacted.
pub fn text(text: &str) -> String {
    let mut r = Redactor::default();
    text.split_inclusive('\n')
        .map(|l| {
            let (body, end) = split_eol(l);
            match r.line(body) {
                Some(shown) => format!("{shown}{end}"),
                None => l.to_string(),
            }
        })
        .collect()
}

/// The one line at `line_start..` of `bytes`, redacted as the whole file
/// leading to it says (a line inside a private key block is secret too).
pub fn line_in(bytes: &[u8], line_start: usize, line: &str) -> String {
    let mut r = Redactor::default();
    for l in String::from_utf8_lossy(&bytes[..line_start.min(bytes.len())]).split_inclusive('\n') {
        r.line(split_eol(l).0);
    }
    r.line(line).unwrap_or_else(|| line.to_string())
}

/// `olcRootPW: ...`, `userPassword:: ...` (LDIF, also base64 `::`),
/// `olcDbACLPasswd`, `olcSaslAuxpropsDontUseCopy` aside: the attributes
/// that hold a password.
pub fn ldif_password(line: &str) -> Option<String> {
    let (name, _) = line.split_once(':')?;
    let lower = name.to_ascii_lowercase();
    let secret = ["olcrootpw", "userpassword", "olcdbaclpasswd"].contains(&lower.as_str())
        || (lower.starts_with("olc") && lower.ends_with("credentials"));
    secret.then(|| format!("{name}: {REDACTED}"))
}

/// slapd.conf `rootpw SECRET` and `credentials=SECRET` in a `syncrepl`
/// line (where the rest of the line stays).
pub fn slapd_conf_password(line: &str) -> Option<String> {
    let t = line.trim_start();
    let word = t.split_whitespace().next()?;
    if word.eq_ignore_ascii_case("rootpw") || word.eq_ignore_ascii_case("bindpw") {
        return Some(format!("{}{word} {REDACTED}", leading_space(line)));
    }
    let at = line.to_ascii_lowercase().find("credentials=")?;
    let value_start = at + "credentials=".len();
    let rest = &line[value_start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map_or(rest.len(), |e| e + 2)
    } else {
        rest.find(char::is_whitespace).unwrap_or(rest.len())
    };
    Some(format!(
        "{}{REDACTED}{}",
        &line[..value_start],
        &rest[end..]
    ))
}

/// A Postfix parameter whose name says password (`smtp_sasl_password_maps`,
/// `lmtp_sasl_password_maps`, ...) with an `inline:`, `static:` or
/// `texthash:`-free literal value: the value is the secret when it holds
/// the credentials themselves. Map references (`hash:/etc/...`) are paths
/// and stay.
pub fn postfix_password_map(line: &str) -> Option<String> {
    if line.starts_with([' ', '\t', '#']) {
        return None;
    }
    let (name, value) = line.split_once('=')?;
    let name_t = name.trim();
    if name_t.contains(char::is_whitespace) || !name_t.to_ascii_lowercase().contains("passw") {
        return None;
    }
    let v = value.trim_start();
    let literal = ["inline:", "static:", "randmap:"]
        .iter()
        .any(|t| v.to_ascii_lowercase().contains(t));
    literal.then(|| format!("{name}= {REDACTED}"))
}

/// Any other line whose first word names a password or secret
/// (`smtp_sasl_password hunter2`, as a `postfix.syntax` finding quotes
/// it): everything after that word. Comments stay.
pub fn password_word(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let word = t
        .split(|c: char| c.is_whitespace() || c == '=' || c == ':')
        .next()?;
    let lower = word.to_ascii_lowercase();
    let secret = ["passw", "secret", "credential"]
        .iter()
        .any(|w| lower.contains(w))
        && !lower.ends_with("file")
        && !lower.ends_with("maps");
    (secret && t.len() > word.len()).then(|| format!("{}{word} {REDACTED}", leading_space(line)))
}

/// A SASL password file, by its name: every line is credentials.
pub fn sasl_password_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("sasl_passwd") || name.ends_with("_passwd") || name == "passwd.db"
}

fn leading_space(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

fn split_eol(l: &str) -> (&str, &str) {
    let body = l.trim_end_matches(['\n', '\r']);
    (body, &l[body.len()..])
}

/// One file's unified diff (as [`crate::unified_diff::unified_diff`]
/// makes it: two header lines, then hunks) as it may be shown: no secret line as
/// context (hunks are cut there, with exact headers), a secret line the
/// diff changes shown redacted under a note that the diff will not apply
/// as it stands.
pub fn diff(unified: &[u8]) -> Vec<u8> {
    // Most diffs name no secret at all (a dry run of 10,000 sites shows
    // 10,000 of them): with nothing to redact, the diff is given back as
    // it is, which is what reading it line by line gives.
    if !may_hold_a_secret(unified) {
        return unified.to_vec();
    }
    redacted(unified)
}

/// Whether any line of `unified` could be redacted: it names one of the
/// words every detector needs ([`may_name_a_secret`]), or starts a PEM
/// block. Without either, [`Redactor::line`] finds nothing on any line:
/// its continuation rule follows a line it found a secret on, and a file
/// whose every line is secret ([`sasl_password_file`]) has a name that
/// holds `passw`, which the diff's header line shows.
fn may_hold_a_secret(unified: &[u8]) -> bool {
    memchr::memmem::find(unified, b"-----BEGIN").is_some()
        || may_name_a_secret(&String::from_utf8_lossy(unified))
}

/// [`diff`], line by line.
fn redacted(unified: &[u8]) -> Vec<u8> {
    // The diff's lines as its writer wrote them: a file's line ending in
    // a lone CR (old Mac OS) is a diff line of its own, not part of the
    // next one, where its secret would go unseen. Secret lines are found
    // on the lossy text; a line without a secret keeps its exact bytes
    // (Latin-1 comments stay Latin-1).
    let raw: Vec<&[u8]> = crate::unified_diff::lines(unified);
    let text: Vec<std::borrow::Cow<str>> = raw.iter().map(|l| String::from_utf8_lossy(l)).collect();
    let lines: Vec<&str> = text.iter().map(|l| l.as_ref()).collect();
    if lines.len() < 2 {
        return unified.to_vec();
    }
    // The two header lines are the file's; a changed line reading
    // `--- x` is not a header.
    let name = lines[0].strip_prefix("--- ").unwrap_or(lines[0]).trim_end();
    let mut out: Vec<u8> = Vec::new();
    file_diff(name, &raw, &lines, &mut out);
    out
}

/// One file's part of a diff: its two header lines, then hunks.
fn file_diff(name: &str, raw: &[&[u8]], lines: &[&str], out: &mut Vec<u8>) {
    // The secret lines of the old and of the new file, by line number,
    // judged in order (a PEM block or a continuation spans lines). The
    // diff shows only parts of each file, so each side is read from what
    // the hunks show, in order: enough for the kinds above, whose state is
    // at most a few lines long and starts at a line shown with it.
    let mut old_r = Redactor::for_path(name);
    let mut new_r = Redactor::for_path(name);
    let mut hunks: Vec<Vec<HunkLine>> = Vec::new();
    let mut starts: Vec<(usize, usize)> = Vec::new();
    let mut changed_secret = false;
    let mut k = 2;
    while k < lines.len() {
        let l = lines[k];
        if let Some((o, n)) = hunk_start(l) {
            starts.push((o, n));
            hunks.push(Vec::new());
            old_r = Redactor::for_path(name);
            new_r = Redactor::for_path(name);
        } else if let Some(h) = hunks.last_mut() {
            let kind = l.chars().next().unwrap_or(' ');
            let (body, eol) = split_eol(&l[kind.len_utf8().min(l.len())..]);
            let shown = match kind {
                ' ' => {
                    let a = old_r.line(body);
                    let b = new_r.line(body);
                    a.or(b)
                }
                '-' => old_r.line(body),
                '+' => new_r.line(body),
                _ => None,
            };
            if shown.is_some() && kind != ' ' {
                changed_secret = true;
            }
            let shown = shown.map(|s| format!("{kind}{s}{eol}"));
            h.push((kind, raw[k].to_vec(), shown));
        }
        k += 1;
    }
    if changed_secret {
        out.extend_from_slice(
            format!(
                "tlsmend: {name}: a changed line holds a secret and is shown as {REDACTED}; this diff will not apply with patch as it stands\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(raw[0]);
    out.extend_from_slice(raw[1]);
    for (h, (mut o, mut n)) in hunks.into_iter().zip(starts) {
        // Cut at every secret context line: the pieces between cuts that
        // still change something are hunks of their own.
        let mut piece: Vec<&HunkLine> = Vec::new();
        let mut piece_start = (o, n);
        let mut cut_before = false;
        for line in &h {
            let (kind, _, shown) = line;
            if *kind == ' ' && shown.is_some() {
                emit(&piece, piece_start, true, out);
                cut_before = true;
                piece.clear();
                o += 1;
                n += 1;
                piece_start = (o, n);
                continue;
            }
            piece.push(line);
            match kind {
                ' ' => {
                    o += 1;
                    n += 1;
                }
                '-' => o += 1,
                '+' => n += 1,
                _ => {}
            }
        }
        emit(&piece, piece_start, cut_before, out);
    }
}

/// Writes one hunk with its header, if it changes anything. A hunk cut
/// at a secret keeps as many context lines before its changes as after:
/// GNU patch takes a hunk with less context on one side for one at the
/// start or end of the file, and would refuse it elsewhere.
fn emit(piece: &[&HunkLine], (mut o, mut n): (usize, usize), cut: bool, out: &mut Vec<u8>) {
    if !piece.iter().any(|(k, _, _)| *k == '-' || *k == '+') {
        return;
    }
    let mut piece = piece;
    if cut {
        let lead = piece.iter().take_while(|(k, _, _)| *k == ' ').count();
        let trail = piece.iter().rev().take_while(|(k, _, _)| *k == ' ').count();
        let keep = lead.min(trail);
        o += lead - keep;
        n += lead - keep;
        piece = &piece[lead - keep..piece.len() - (trail - keep)];
    }
    let old_len = piece
        .iter()
        .filter(|(k, _, _)| *k == ' ' || *k == '-')
        .count();
    let new_len = piece
        .iter()
        .filter(|(k, _, _)| *k == ' ' || *k == '+')
        .count();
    // An empty side is numbered from the line before it, as diff does.
    let o_shown = if old_len == 0 { o.saturating_sub(1) } else { o };
    let n_shown = if new_len == 0 { n.saturating_sub(1) } else { n };
    out.extend_from_slice(
        format!(
            "@@ -{} +{} @@\n",
            range(o_shown, old_len),
            range(n_shown, new_len)
        )
        .as_bytes(),
    );
    for (_, raw, shown) in piece {
        match shown {
            Some(s) => out.extend_from_slice(s.as_bytes()),
            None => out.extend_from_slice(raw),
        }
    }
}

fn range(start: usize, len: usize) -> String {
    if len == 1 {
        start.to_string()
    } else {
        format!("{start},{len}")
    }
}

/// `@@ -o[,l] +n[,l] @@`: the first line numbers of each side. An empty
/// side names the line before it; it is given back as the next line.
fn hunk_start(l: &str) -> Option<(usize, usize)> {
    let rest = l.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(" +")?;
    let (new, _) = rest.split_once(" @@")?;
    let parse = |s: &str| -> Option<usize> {
        let (start, len) = match s.split_once(',') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => (s.parse::<usize>().ok()?, 1),
        };
        Some(if len == 0 { start + 1 } else { start })
    };
    Some((parse(old)?, parse(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut in `Redactor::line` never hides a secret: a line
    /// without any of its words is one no detector redacts. Checked on
    /// every line of the shared corpus (all formats) and on lines made to
    /// sit near the edge of each detector.
    #[test]
    fn lines_the_shortcut_skips_hold_no_secret() {
        let detectors = |l: &str| {
            ldif_password(l)
                .or_else(|| slapd_conf_password(l))
                .or_else(|| postfix_password_map(l))
                .or_else(|| password_word(l))
        };
        let corpus = std::env::var_os("TLSMEND_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
            });
        let mut dirs = vec![corpus];
        let mut lines: Vec<String> = Vec::new();
        while let Some(d) = dirs.pop() {
            let listing = std::fs::read_dir(&d).unwrap_or_else(|e| {
                panic!(
                    "cannot list the corpus folder {} ({e}); set TLSMEND_CORPUS",
                    d.display()
                )
            });
            for e in listing.flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if let Ok(b) = std::fs::read(&p) {
                    let t = String::from_utf8_lossy(&b).into_owned();
                    lines.extend(t.lines().map(str::to_string));
                }
            }
        }
        assert!(lines.len() > 1000, "the corpus was not found");
        let edges = [
            "olcRootPW: x",
            "OLCROOTPW:: eA==",
            "userPassword: {SSHA}x",
            "olcDbACLPasswd: x",
            "olcSyncreplCredentials: x",
            "  rootpw   secret",
            "BINDPW x",
            "syncrepl rid=1 CREDENTIALS=\"a b\" x=y",
            "smtp_sasl_password_maps = inline:{ a=b }",
            "relay_PASSWord = static:x",
            "smtp_sasl_password hunter2",
            "api_SECRET: x",
            "db_credential=x",
            "ServerName example.test",
            "SSLCertificateKeyFile /etc/ssl/private/key.pem",
        ];
        let mut redacted = 0;
        for l in lines.iter().map(String::as_str).chain(edges) {
            let found = detectors(l);
            redacted += usize::from(found.is_some());
            if !may_name_a_secret(l) {
                assert_eq!(found, None, "the shortcut would skip a secret in {l:?}");
            }
        }
        // Every edge line above but the last two is a secret.
        assert!(redacted >= edges.len() - 2);
        assert!(!may_name_a_secret("ServerName example.test"));
    }

    #[test]
    fn each_kind_of_secret_is_redacted_and_its_name_kept() {
        assert_eq!(
            ldif_password("olcRootPW: {SSHA}abc").as_deref(),
            Some("olcRootPW: <redacted>")
        );
        assert_eq!(
            ldif_password("olcRootPW:: e1NTSEF9YWJj").as_deref(),
            Some("olcRootPW: <redacted>")
        );
        assert!(ldif_password("olcTLSCertificateFile: /x").is_none());
        assert_eq!(
            slapd_conf_password("rootpw   secret").as_deref(),
            Some("rootpw <redacted>")
        );
        assert_eq!(
            slapd_conf_password("syncrepl rid=1 credentials=\"s e\" binddn=x").as_deref(),
            Some("syncrepl rid=1 credentials=<redacted> binddn=x")
        );
        assert_eq!(
            postfix_password_map("smtp_sasl_password_maps = inline:{ [mx]:587=u:pw }").as_deref(),
            Some("smtp_sasl_password_maps = <redacted>")
        );
        assert!(
            postfix_password_map("smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd")
                .is_none()
        );
        assert!(sasl_password_file("/etc/postfix/sasl_passwd"));
        assert_eq!(
            password_word("smtp_sasl_password hunter2").as_deref(),
            Some("smtp_sasl_password <redacted>")
        );
        assert!(password_word("smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd").is_none());
        assert!(password_word("# the password goes here").is_none());
        let pem = "x\n-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\ny\n";
        assert_eq!(
            text(pem),
            "x\n-----BEGIN PRIVATE KEY-----\n<redacted>\n-----END PRIVATE KEY-----\ny\n"
        );
        let cont = "smtp_sasl_password_maps = inline:{\n  { a = u:p },\n  }\nsmtp_tls_security_level = may\n";
        assert_eq!(
            text(cont),
            "smtp_sasl_password_maps = <redacted>\n  <redacted>\n  <redacted>\nsmtp_tls_security_level = may\n"
        );
    }

    /// The one-pass shortcut finds a word wherever the plain search over
    /// every window finds it, in any case, at the start, the end and
    /// overlapping other words.
    #[test]
    fn the_secret_word_shortcut_is_the_plain_search() {
        let plain = |line: &str| {
            ["pw", "passw", "secret", "credential"].iter().any(|w| {
                line.as_bytes()
                    .windows(w.len())
                    .any(|x| x.eq_ignore_ascii_case(w.as_bytes()))
            })
        };
        let lines = [
            "",
            "p",
            "pw",
            "PW",
            "xpw",
            "pas",
            "passw",
            "PaSsWd",
            "ppw",
            "sssecret",
            "secre",
            "SECRET",
            "credentia",
            "xCredentialz",
            "cpw",
            "ServerName a.test",
            "é pw",
            "ü",
            "DocumentRoot /var/www",
            "spcredential",
            "passpw",
        ];
        for l in lines {
            assert_eq!(may_name_a_secret(l), plain(l), "{l:?}");
        }
    }

    /// A diff whose lines name no secret is shown as it is: what the
    /// shortcut in [`diff`] gives is what reading it line by line gives,
    /// on thousands of generated diffs (repeated lines, CRLF, lone CR,
    /// Latin-1, no final newline, changed lines that read as `---`/`+++`).
    #[test]
    fn a_diff_naming_no_secret_is_shown_as_it_is() {
        const LINES: [&[u8]; 8] = [
            b"<VirtualHost *:443>\n",
            b"    SSLEngine on\r\n",
            b"</VirtualHost>\n",
            b"\n",
            b"# caf\xe9\n",
            b"-- x\n",
            b"++ y\r",
            b"    ServerName a",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        let mut shown = 0;
        for _ in 0..3000 {
            let mut file = || -> Vec<u8> {
                let n = next(14);
                (0..n)
                    .flat_map(|_| LINES[next(8) as usize].to_vec())
                    .collect()
            };
            let (old, new) = (file(), file());
            let d = crate::unified_diff::unified_diff(
                "etc/apache2/x.conf",
                &old,
                &new,
                next(4) as usize,
            );
            assert!(!may_hold_a_secret(&d));
            assert_eq!(redacted(&d), d, "{}", String::from_utf8_lossy(&d));
            shown += usize::from(!d.is_empty());
        }
        assert!(shown > 2500, "{shown}");
    }

    /// A changed line that reads `--- x` followed by one that reads
    /// `+++ y` is part of a hunk, not a second file's header: the hunk is
    /// still shown, cut at the secret after it.
    #[test]
    fn a_changed_line_that_reads_as_a_header_is_not_one() {
        let d = crate::review::unified_diff(
            "etc/openldap/slapd.conf",
            b"-- x\nrootpw s3cr3t\nk\n",
            b"++ y\nrootpw s3cr3t\nk\n",
            3,
        );
        assert_eq!(
            String::from_utf8_lossy(&d),
            "--- etc/openldap/slapd.conf\n+++ etc/openldap/slapd.conf\n@@ -1 +1 @@\n--- x\n+++ y\n"
        );
    }

    /// What the shortcut in [`diff`] lets through to the line-by-line
    /// reading is redacted: a private key's body shown as context, every
    /// line of a SASL password map (its name holds `passw`), and a
    /// password on a line of a file whose lines end in a lone CR.
    #[test]
    fn each_guard_of_the_shortcut_leads_to_redaction() {
        let shown = |name: &str, old: &[u8], new: &[u8]| {
            String::from_utf8_lossy(&crate::review::unified_diff(name, old, new, 3)).into_owned()
        };
        let pem = shown(
            "etc/ssl/private/x.pem",
            b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\nA 1\n",
            b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\nA 2\n",
        );
        assert!(
            !pem.contains("MIIEvQIBADANBgkq") && pem.contains("+A 2"),
            "{pem}"
        );
        let sasl = shown(
            "etc/postfix/sasl_passwd",
            b"[mx]:587 user:hunter2\n",
            b"[mx]:587 user:hunter3\n",
        );
        assert!(!sasl.contains("hunter"), "{sasl}");
        let cr = shown(
            "etc/postfix/main.cf",
            b"a = 1\rsmtp_sasl_password_maps = inline:{ [mx]:587=user:hunter2 }\rb = 2\n",
            b"a = 2\rsmtp_sasl_password_maps = inline:{ [mx]:587=user:hunter2 }\rb = 2\n",
        );
        assert!(!cr.contains("hunter2") && cr.contains("+a = 2"), "{cr:?}");
    }
}
