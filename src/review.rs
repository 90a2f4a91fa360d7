//! Showing changes as unified diffs, and the interactive approval loop.
//!
//! The loop follows `git add -p` and cargo-insta: every change gets a header
//! `[3/12] rule path:line`, its reason and diff, then one key. Decisions are
//! only recorded; the caller writes once at the end, and quitting writes
//! nothing. The loop talks to a [`Prompt`], so tests drive it with scripted
//! keys and the binary with the terminal.

use crate::discover::Root;
use crate::plan::Report;
use std::io;

/// Colour for one output stream, decided once from `--color` and the
/// stream. Under `auto` the rules are the same for stdout and for the
/// review's /dev/tty: NO_COLOR (non-empty) turns colour off, CLICOLOR_FORCE
/// (non-empty, not `0`) turns it on, CLICOLOR=0 turns it off, and otherwise a
/// terminal whose TERM is set and not `dumb` gets colour. Unlike
/// `anstream`'s default, a `CI` variable does not override TERM=dumb: the
/// terminal's own word wins. Styles are `anstyle`'s, named by SGR codes.
#[derive(Clone, Copy, Debug)]
pub struct Painter {
    pub enabled: bool,
}

impl Painter {
    /// For stdout under `--color`.
    pub fn for_stdout(choice: anstream::ColorChoice) -> Painter {
        use std::io::IsTerminal;
        Painter {
            enabled: colour_wanted(choice, std::io::stdout().is_terminal()),
        }
    }
    /// For a stream known to be a terminal (the review's /dev/tty), under
    /// the choice `--color` set globally.
    pub fn for_terminal(is_terminal: bool) -> Painter {
        Painter {
            enabled: colour_wanted(anstream::ColorChoice::global(), is_terminal),
        }
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

/// Whether a stream gets colour under `choice` (see [`Painter`]).
fn colour_wanted(choice: anstream::ColorChoice, is_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    match choice {
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => true,
        anstream::ColorChoice::Never => false,
        anstream::ColorChoice::Auto => {
            if set("NO_COLOR").is_some() {
                false
            } else if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else if set("CLICOLOR").is_some_and(|v| v == "0") {
                false
            } else {
                is_terminal && set("TERM").is_some_and(|t| t != "dumb")
            }
        }
    }
}

/// A unified diff of one file, byte-exact (so `patch` applies it), with
/// `name` in both headers and no secret shown.
pub fn unified_diff(name: &str, old: &[u8], new: &[u8], context: usize) -> Vec<u8> {
    // Patience anchors on unique lines (ServerName, paths): near-linear on a
    // file with thousands of changed virtual hosts, where Myers is quadratic.
    let out = crate::unified_diff::unified_diff(name, old, new, context);
    // Secrets are never shown; the diff still applies (see crate::redact).
    crate::redact::diff(&out)
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
    /// One key press (Ctrl-D arrives as `'\x04'`).
    fn key(&mut self) -> io::Result<char>;
}

/// The controlling terminal, `/dev/tty`: the review is shown there and its
/// keys read there even when stdout is redirected (`tlsmend apply > log`).
pub struct TtyPrompt {
    tty: std::fs::File,
}

impl TtyPrompt {
    /// Opens `/dev/tty`; an error means there is no terminal to ask on.
    pub fn open() -> io::Result<TtyPrompt> {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")?;
        Ok(TtyPrompt { tty })
    }
}

impl Prompt for TtyPrompt {
    fn show(&mut self, text: &str) -> io::Result<()> {
        use std::io::Write;
        // A raw terminal does not turn \n into \r\n; ours is cooked
        // between keys, so plain text prints as usual.
        self.tty.write_all(text.as_bytes())?;
        self.tty.flush()
    }
    fn key(&mut self) -> io::Result<char> {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let fd = self.tty.as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it for an open fd.
        let mut old: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut old) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // One key without Enter and without echo; Ctrl-C still interrupts.
        let mut raw = old;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: a valid fd and a termios from tcgetattr.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut b = [0u8; 1];
        let n = self.tty.read(&mut b);
        // SAFETY: as above; the terminal goes back as it was.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &old) };
        Ok(match n? {
            0 => '\x04',
            _ if b[0].is_ascii() => b[0] as char,
            _ => '\u{fffd}',
        })
    }
}

/// Ctrl-D: end of input, taken as `q`.
const CTRL_D: char = '\x04';

const HELP: &str = "y - apply this change
n - skip this change (Enter too, for an opt-in rule)
a - apply this change and all remaining ones of the profile (opt-in rules are still asked)
f - apply this change and the remaining ones in the same file
d - skip this change and the remaining ones in the same file
r - apply this change and the remaining ones of the same rule
s - skip this change and the remaining ones of the same rule
k - go back to the previous question
q - quit: write nothing at all (Ctrl-D too)
? - this help
";

const GROUP_HELP: &str = "y - apply every change of this rule
n - skip every change of this rule (Enter too, for an opt-in rule)
o - review this rule's changes one by one
k - go back to the previous rule
q - quit: write nothing at all (Ctrl-D too)
? - this help
";

/// Plans larger than this are offered rule by rule, not change by change.
pub const GROUP_AT: usize = 40;

fn is_opt_in(report: &Report, i: usize) -> bool {
    crate::servers::lookup(report.changes[i].rule).is_some_and(|r| r.is_opt_in())
}

/// The files a change touches.
fn files_of(report: &Report, i: usize) -> Vec<usize> {
    let mut f: Vec<usize> = report.changes[i].edits.iter().map(|(f, _)| *f).collect();
    f.dedup();
    f
}

fn place_of(report: &Report, i: usize) -> String {
    report
        .findings
        .iter()
        .find(|f| f.change == Some(i))
        .map(|f| {
            let place = format!("{}:{}", report.files[f.file].shown().display(), f.line);
            crate::output::escape::visible(&place).into_owned()
        })
        .unwrap_or_default()
}

fn opt_in_note(p: Painter, rule: &str) -> String {
    format!(
        "{}\n",
        p.paint(
            "33",
            &format!(
                "opt-in rule, not part of the profile (unattended runs need --with {rule}); the default answer is no"
            )
        )
    )
}

/// Asks about every change (or, for a large plan, every rule), then shows
/// what will be written and asks once more. `Some(selected)` to write,
/// `None` when the user quit or declined (nothing is written).
pub fn review(
    report: &Report,
    root: &Root,
    p: Painter,
    prompt: &mut dyn Prompt,
) -> io::Result<Option<Vec<usize>>> {
    let total = report.changes.len();
    // The profile's changes first; opt-in rules' changes are offered after
    // them, with the default answer no (bulk approvals do not reach them).
    let mut order: Vec<usize> = (0..total).filter(|&i| !is_opt_in(report, i)).collect();
    order.extend((0..total).filter(|&i| is_opt_in(report, i)));
    let decided = if total > GROUP_AT {
        by_rule(report, root, p, prompt, &order)?
    } else {
        one_by_one(report, root, p, prompt, &order, 0, total)?
    };
    let Some(decided) = decided else {
        return Ok(None);
    };
    let mut selected: Vec<usize> = decided
        .into_iter()
        .filter_map(|(i, yes)| yes.then_some(i))
        .collect();
    selected.sort();
    if selected.is_empty() {
        return Ok(Some(selected));
    }
    prompt.show(&summary(report, &selected, p))?;
    prompt.show("Write them? [y/N] ")?;
    let k = prompt.key()?;
    prompt.show(&format!("{}\n", visible_key(k)))?;
    Ok((k.eq_ignore_ascii_case(&'y')).then_some(selected))
}

fn visible_key(k: char) -> String {
    match k {
        CTRL_D => "^D".into(),
        '\r' | '\n' => String::new(),
        c => crate::output::escape::char_shown(c).into_owned(),
    }
}

/// What the approved changes will write, per file, before the last question.
pub fn summary(report: &Report, selected: &[usize], p: Painter) -> String {
    // Indexed by file: a plan may touch thousands.
    let mut per_file: Vec<(usize, Vec<&str>)> = Vec::new();
    let mut at: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut ldap = 0;
    for &c in selected {
        if report.changes[c].ldap.is_some() {
            ldap += 1;
        }
        let rule = report.changes[c].rule;
        for f in files_of(report, c) {
            let k = *at.entry(f).or_insert_with(|| {
                per_file.push((f, Vec::new()));
                per_file.len() - 1
            });
            if !per_file[k].1.contains(&rule) {
                per_file[k].1.push(rule);
            }
        }
    }
    per_file.sort_by_key(|(f, _)| report.files[*f].shown().to_path_buf());
    let mut out = format!(
        "\n{}\n",
        p.paint(
            "1",
            &format!(
                "About to write {} change(s) to {} file(s){}:",
                selected.len(),
                per_file.len(),
                if ldap > 0 {
                    format!(" and {ldap} live LDAP change(s)")
                } else {
                    String::new()
                }
            )
        )
    );
    const SHOWN: usize = 20;
    for (f, rules) in per_file.iter().take(SHOWN) {
        let name = report.files[*f].shown().display().to_string();
        out.push_str(&format!(
            "  {}  ({})\n",
            crate::output::escape::visible(&name),
            rules.join(", ")
        ));
    }
    if per_file.len() > SHOWN {
        out.push_str(&format!(
            "  ... and {} more file(s)\n",
            per_file.len() - SHOWN
        ));
    }
    out.push_str("The originals are saved first; `tlsmend rollback` undoes the run.\n");
    out
}

/// One question per change of `items` (numbered from `first` of `total`).
/// Returns `(change, approved)` for each, or `None` on quit.
fn one_by_one(
    report: &Report,
    root: &Root,
    p: Painter,
    prompt: &mut dyn Prompt,
    items: &[usize],
    first: usize,
    total: usize,
) -> io::Result<Option<Vec<(usize, bool)>>> {
    let mut dec: Vec<Option<bool>> = vec![None; items.len()];
    // Before each answer: where it was asked and the decisions then, so
    // that `k` undoes an answer with everything it decided in bulk.
    let mut history: Vec<(usize, Vec<Option<bool>>)> = Vec::new();
    let mut pos = 0;
    while pos < items.len() {
        if dec[pos].is_some() {
            pos += 1;
            continue;
        }
        let i = items[pos];
        let change = &report.changes[i];
        let optional = is_opt_in(report, i);
        let header = p.paint(
            "1",
            &format!(
                "[{}/{}] {} {}",
                first + pos + 1,
                total,
                change.rule,
                place_of(report, i)
            ),
        );
        let note = if optional {
            opt_in_note(p, change.rule)
        } else {
            String::new()
        };
        let diff = paint_diff(&change_diff(report, root, i), p);
        let reason = crate::output::escape::visible(&change.reason);
        prompt.show(&format!("\n{header}\n{note}{reason}\n{diff}"))?;
        loop {
            let keys = if optional {
                "[y,N,r,s,k,q,?]"
            } else {
                "[y,n,a,f,d,r,s,k,q,?]"
            };
            prompt.show(&format!("Apply this change {keys}? "))?;
            let k = prompt.key()?;
            prompt.show(&format!("{}\n", visible_key(k)))?;
            let before = dec.clone();
            // Bulk answers reach the remaining undecided changes that match;
            // approvals never reach opt-in changes of another rule.
            let bulk = |dec: &mut Vec<Option<bool>>, yes: bool, same: &dyn Fn(usize) -> bool| {
                for q in pos..items.len() {
                    let j = items[q];
                    let reachable =
                        !yes || !is_opt_in(report, j) || report.changes[j].rule == change.rule;
                    if dec[q].is_none() && same(j) && reachable {
                        dec[q] = Some(yes);
                    }
                }
            };
            let here = files_of(report, i);
            let same_file = |j: usize| files_of(report, j).iter().any(|f| here.contains(f));
            let same_rule = |j: usize| report.changes[j].rule == change.rule;
            match k.to_ascii_lowercase() {
                'y' => dec[pos] = Some(true),
                'n' => dec[pos] = Some(false),
                '\n' | '\r' if optional => dec[pos] = Some(false),
                'a' if !optional => {
                    dec[pos] = Some(true);
                    bulk(&mut dec, true, &|j| !is_opt_in(report, j));
                }
                'f' if !optional => {
                    dec[pos] = Some(true);
                    bulk(&mut dec, true, &same_file);
                }
                'd' if !optional => bulk(&mut dec, false, &same_file),
                'r' => bulk(&mut dec, true, &same_rule),
                's' => bulk(&mut dec, false, &same_rule),
                'k' => {
                    match history.pop() {
                        Some((at, was)) => {
                            dec = was;
                            pos = at;
                        }
                        None => prompt.show("(this is the first question)\n")?,
                    }
                    break;
                }
                'q' | CTRL_D => return Ok(None),
                _ => {
                    prompt.show(HELP)?;
                    continue;
                }
            }
            history.push((pos, before));
            pos += 1;
            break;
        }
    }
    Ok(Some(
        items
            .iter()
            .zip(dec)
            .map(|(&i, d)| (i, d.unwrap_or(false)))
            .collect(),
    ))
}

/// A large plan: one question per rule, showing its first change; `o`
/// reviews that rule's changes one by one.
fn by_rule(
    report: &Report,
    root: &Root,
    p: Painter,
    prompt: &mut dyn Prompt,
    order: &[usize],
) -> io::Result<Option<Vec<(usize, bool)>>> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for &i in order {
        let rule = report.changes[i].rule;
        match groups.iter_mut().find(|(r, _)| *r == rule) {
            Some((_, v)) => v.push(i),
            None => groups.push((rule, vec![i])),
        }
    }
    let mut answers: Vec<Option<Vec<(usize, bool)>>> = vec![None; groups.len()];
    let mut g = 0;
    while g < groups.len() {
        let (rule, items) = &groups[g];
        let first = items[0];
        let optional = is_opt_in(report, first);
        let mut files: Vec<usize> = items.iter().flat_map(|&i| files_of(report, i)).collect();
        files.sort();
        files.dedup();
        let header = p.paint(
            "1",
            &format!(
                "[rule {}/{}] {rule}: {} change(s) in {} file(s)",
                g + 1,
                groups.len(),
                items.len(),
                files.len()
            ),
        );
        let note = if optional {
            opt_in_note(p, rule)
        } else {
            String::new()
        };
        let diff = paint_diff(&change_diff(report, root, first), p);
        let reason = crate::output::escape::visible(&report.changes[first].reason);
        let more = if items.len() > 1 {
            format!(
                "(the first of {}: {})\n",
                items.len(),
                place_of(report, first)
            )
        } else {
            String::new()
        };
        prompt.show(&format!("\n{header}\n{note}{more}{reason}\n{diff}"))?;
        loop {
            let keys = if optional {
                "[y,N,o,k,q,?]"
            } else {
                "[y,n,o,k,q,?]"
            };
            prompt.show(&format!("Apply the changes of this rule {keys}? "))?;
            let k = prompt.key()?;
            prompt.show(&format!("{}\n", visible_key(k)))?;
            let all = |yes: bool| Some(items.iter().map(|&i| (i, yes)).collect());
            match k.to_ascii_lowercase() {
                'y' => answers[g] = all(true),
                'n' => answers[g] = all(false),
                '\n' | '\r' if optional => answers[g] = all(false),
                'o' => match one_by_one(report, root, p, prompt, items, 0, items.len())? {
                    Some(d) => answers[g] = Some(d),
                    None => return Ok(None),
                },
                'k' => {
                    if g == 0 {
                        prompt.show("(this is the first question)\n")?;
                    } else {
                        g -= 1;
                        answers[g] = None;
                    }
                    break;
                }
                'q' | CTRL_D => return Ok(None),
                _ => {
                    prompt.show(GROUP_HELP)?;
                    continue;
                }
            }
            g += 1;
            break;
        }
    }
    Ok(Some(answers.into_iter().flatten().flatten().collect()))
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
