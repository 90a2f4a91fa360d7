//! Showing changes as unified diffs, and the interactive approval loop.
//!
//! The loop follows `git add -p` and cargo-insta: every change gets a header
//! `[3/12] rule path:line`, its reason and diff, then one key. Decisions are
//! only recorded; the caller writes once at the end, and quitting writes
//! nothing. The loop talks to a [`Prompt`], so tests drive it with scripted
//! keys and the binary with the terminal.

use crate::discover::Root;
use crate::plan::Report;
use similar::TextDiff;
use std::io;

/// Colour for one output stream, decided once from `--color` and the
/// stream (NO_COLOR, CLICOLOR_FORCE, TERM=dumb and whether it is a terminal,
/// as `anstream` reads them). Styles are `anstyle`'s, named by SGR codes.
#[derive(Clone, Copy, Debug)]
pub struct Painter {
    pub enabled: bool,
}

impl Painter {
    /// For stdout under `--color` (`ColorChoice::Auto` looks at the stream
    /// and the environment).
    pub fn for_stdout(choice: anstream::ColorChoice) -> Painter {
        let stream = anstream::AutoStream::new(std::io::stdout(), choice);
        Painter {
            enabled: !matches!(stream.current_choice(), anstream::ColorChoice::Never),
        }
    }
    /// For a stream known to be a terminal (the review's /dev/tty).
    pub fn for_terminal(is_terminal: bool) -> Painter {
        let choice = anstream::ColorChoice::global();
        let enabled = match choice {
            anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => true,
            anstream::ColorChoice::Never => false,
            anstream::ColorChoice::Auto => {
                is_terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        };
        Painter { enabled }
    }
    /// `text` in the style of an SGR code list ("31;1": bold red).
    pub fn paint(&self, code: &str, text: &str) -> String {
        if !self.enabled {
            return text.to_string();
        }
        let style = code.split(';').fold(anstyle::Style::new(), |s, c| match c {
            "1" => s.bold(),
            "2" => s.dimmed(),
            "31" => s.fg_color(Some(anstyle::AnsiColor::Red.into())),
            "32" => s.fg_color(Some(anstyle::AnsiColor::Green.into())),
            "33" => s.fg_color(Some(anstyle::AnsiColor::Yellow.into())),
            "36" => s.fg_color(Some(anstyle::AnsiColor::Cyan.into())),
            _ => s,
        });
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}

/// A unified diff of one file, byte-exact (so `patch` applies it), with
/// `name` in both headers.
pub fn unified_diff(name: &str, old: &[u8], new: &[u8], context: usize) -> Vec<u8> {
    // Patience anchors on unique lines (ServerName, paths): near-linear on a
    // file with thousands of changed virtual hosts, where Myers is quadratic.
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new);
    let mut out = Vec::new();
    diff.unified_diff()
        .context_radius(context)
        .header(name, name)
        .to_writer(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// Colours a diff's lines for a terminal; line bytes are shown lossily.
pub fn paint_diff(diff: &[u8], p: Painter) -> String {
    let text = String::from_utf8_lossy(diff);
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        // CR stays visible as ␍ (a CRLF file's lines); other control
        // bytes are escaped so a file cannot drive the terminal.
        let visible: String = line
            .trim_end_matches('\n')
            .chars()
            .map(|c| match c {
                '\r' => "␍".into(),
                c => crate::output::escape::char_shown(c),
            })
            .collect();
        let shown = if line.starts_with("+++") || line.starts_with("---") {
            p.paint("1", &visible)
        } else if line.starts_with('+') {
            p.paint("32", &visible)
        } else if line.starts_with('-') {
            p.paint("31", &visible)
        } else if line.starts_with("@@") {
            p.paint("36", &visible)
        } else {
            visible
        };
        out.push_str(&shown);
        out.push('\n');
    }
    out
}

/// The diff of every file one change touches, with no other change applied.
pub fn change_diff(report: &Report, root: &Root, change: usize) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(l) = &report.changes[change].ldap {
        out.extend(ldap_text(l).into_bytes());
    }
    match report.render(&[change]) {
        Ok(files) => {
            for (f, new) in files {
                let file = &report.files[f];
                out.extend(unified_diff(
                    &root.diff_name(&file.real),
                    &file.source.bytes,
                    &new,
                    3,
                ));
            }
        }
        Err((f, e)) => {
            out.extend(format!("{}: {e}\n", report.files[f].shown().display()).into_bytes())
        }
    }
    out
}

/// A change to a live server, as `--dry-run` prints it: the change file,
/// under a comment naming the command that applies it.
pub fn ldap_text(l: &crate::live::ldapmodify::LdapChange) -> String {
    format!(
        "# ldapmodify -Y EXTERNAL -H {} <<'EOF'\n{}# EOF\n",
        l.uri,
        l.ldif()
    )
}

pub trait Prompt {
    fn show(&mut self, text: &str) -> io::Result<()>;
    /// One key press.
    fn key(&mut self) -> io::Result<char>;
}

/// The real terminal.
pub struct TermPrompt(pub dialoguer::console::Term);

impl Prompt for TermPrompt {
    fn show(&mut self, text: &str) -> io::Result<()> {
        self.0.write_str(text)
    }
    fn key(&mut self) -> io::Result<char> {
        self.0.read_char()
    }
}

const HELP: &str = "y - apply this change\nn - skip this change (Enter too, for an opt-in rule)\na - apply this change and all remaining ones of the profile (opt-in rules are still asked)\nq - quit: write nothing at all\n? - this help\n";

/// Asks about every change. `Some(selected)` to write, `None` when the user
/// quit (nothing is written).
pub fn review(
    report: &Report,
    root: &Root,
    p: Painter,
    prompt: &mut dyn Prompt,
) -> io::Result<Option<Vec<usize>>> {
    let total = report.changes.len();
    // The profile's changes first; opt-in rules' changes are offered after
    // them, one by one (`a` does not reach them), with the default answer no.
    let opt_in =
        |i: usize| crate::servers::lookup(report.changes[i].rule).is_some_and(|r| r.is_opt_in());
    let mut order: Vec<usize> = (0..total).filter(|&i| !opt_in(i)).collect();
    order.extend((0..total).filter(|&i| opt_in(i)));
    let mut selected = Vec::new();
    let mut all = false;
    for (n, &i) in order.iter().enumerate() {
        let change = &report.changes[i];
        let optional = opt_in(i);
        if all && !optional {
            selected.push(i);
            continue;
        }
        let place = report
            .findings
            .iter()
            .find(|f| f.change == Some(i))
            .map(|f| format!("{}:{}", report.files[f.file].shown().display(), f.line))
            .unwrap_or_default();
        let header = p.paint(
            "1",
            &format!("[{}/{}] {} {}", n + 1, total, change.rule, place),
        );
        let note = if optional {
            format!(
                "{}\n",
                p.paint(
                    "33",
                    &format!(
                        "opt-in rule, not part of the profile (unattended runs need --with {}); the default answer is no",
                        change.rule
                    )
                )
            )
        } else {
            String::new()
        };
        let diff = paint_diff(&change_diff(report, root, i), p);
        let reason = crate::output::escape::visible(&change.reason);
        prompt.show(&format!("\n{header}\n{note}{reason}\n{diff}"))?;
        loop {
            let keys = if optional { "[y,N,q,?]" } else { "[y,n,a,q,?]" };
            prompt.show(&format!("Apply this change {keys}? "))?;
            let k = prompt.key()?;
            prompt.show(&format!("{k}\n"))?;
            match k.to_ascii_lowercase() {
                'y' => {
                    selected.push(i);
                    break;
                }
                'n' => break,
                '\n' | '\r' if optional => break,
                'a' if !optional => {
                    selected.push(i);
                    all = true;
                    break;
                }
                'q' => return Ok(None),
                _ => prompt.show(HELP)?,
            }
        }
    }
    selected.sort();
    Ok(Some(selected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_are_byte_exact() {
        let d = unified_diff("etc/x", b"a\r\nb\r\n", b"a\r\nc\r\n", 3);
        assert_eq!(
            d,
            b"--- etc/x\n+++ etc/x\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"
        );
        let d = unified_diff("x", b"a", b"a\nb\n", 3);
        assert!(String::from_utf8_lossy(&d).contains("\\ No newline at end of file"));
    }

    #[test]
    fn no_colour_unless_enabled() {
        let p = Painter { enabled: false };
        assert_eq!(paint_diff(b"+x\n", p), "+x\n");
        let p = Painter { enabled: true };
        assert!(paint_diff(b"+x\n", p).contains("\x1b[32m"));
    }

    #[test]
    fn review_diff_escapes_control_bytes() {
        // Issue 12: an ESC in a comment must not rewrite the screen.
        let shown = paint_diff(b" # \x1b[2J\x07 hi\r\n+x\n", Painter { enabled: false });
        assert_eq!(shown, " # \\x1b[2J\\x07 hi␍\n+x\n");
    }
}
