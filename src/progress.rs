//! Progress reporting: a bar on an interactive terminal, `· step` lines on
//! stderr when output goes to a log, or — when
//! running as a DSA task — slicer_cli_web's `<filter-progress>` and
//! `<filter-comment>` tags on stdout, which the DSA shows as job progress.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static TASK_MODE: AtomicBool = AtomicBool::new(false);

/// Report progress as slicer_cli_web tags from now on.
pub fn set_task_mode() {
    TASK_MODE.store(true, Ordering::SeqCst);
}

pub fn task_mode() -> bool {
    TASK_MODE.load(Ordering::SeqCst)
}

/// Reports the steps of one command.
#[derive(Debug)]
pub struct Progress {
    quiet: bool,
    steps: usize,
    /// Roughly how many steps the command takes, for the fraction.
    expected: usize,
    /// A bar on an interactive terminal; plain lines otherwise (logs, pipes).
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(quiet: bool, expected: usize) -> Self {
        use std::io::IsTerminal;
        let bar = (!quiet && !task_mode() && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(expected as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            quiet,
            steps: 0,
            expected: expected.max(1),
            bar,
        }
    }

    /// One step done (the message says what is happening next).
    pub fn step(&mut self, message: &str) {
        self.steps += 1;
        if task_mode() {
            let fraction = (self.steps as f64 / (self.expected + 1) as f64).min(0.99);
            let mut out = std::io::stdout().lock();
            // Flushed at once: the DSA reads the job's output as it comes.
            let _ = writeln!(out, "<filter-progress>{fraction:.2}</filter-progress>");
            let _ = writeln!(out, "<filter-comment>{}</filter-comment>", escape(message));
            let _ = out.flush();
        } else if let Some(bar) = &self.bar {
            bar.set_position(self.steps.min(self.expected) as u64);
            bar.set_message(message.to_string());
        } else if !self.quiet {
            eprintln!("· {message}");
        }
    }

    /// The command finished.
    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if task_mode() {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "<filter-progress>1</filter-progress>");
            let _ = out.flush();
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_escaped() {
        assert_eq!(escape("a < b & c"), "a &lt; b &amp; c");
    }
}
