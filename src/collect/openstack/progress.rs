//! Progress on stderr while collecting: live counters per resource on a terminal
//! (indicatif), one plain line per finished resource elsewhere (CI logs), nothing with
//! `--quiet`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub trait Progress: Send + Sync {
    /// `items` fetched so far for `resource`.
    fn page(&self, resource: &str, items: usize);
    /// `resource` is complete.
    fn done(&self, resource: &str, items: usize, pages: usize);
}

/// Prints nothing.
pub struct Silent;

impl Progress for Silent {
    fn page(&self, _: &str, _: usize) {}
    fn done(&self, _: &str, _: usize, _: usize) {}
}

/// One line per finished resource.
pub struct Plain;

impl Progress for Plain {
    fn page(&self, _: &str, _: usize) {}
    fn done(&self, resource: &str, items: usize, pages: usize) {
        eprintln!("driftmux: fetched {items} {resource} ({pages} page(s))");
    }
}

/// Live counters on a terminal.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn bar(&self, resource: &str) -> ProgressBar {
        let mut bars = self.bars.lock().expect("progress lock");
        bars.entry(resource.to_owned())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:>28} {pos:>9} {msg}")
                        .expect("valid template"),
                );
                bar.set_prefix(resource.to_owned());
                bar
            })
            .clone()
    }
}

impl Progress for Bars {
    fn page(&self, resource: &str, items: usize) {
        let bar = self.bar(resource);
        bar.set_position(items as u64);
        bar.tick();
    }
    fn done(&self, resource: &str, items: usize, pages: usize) {
        let bar = self.bar(resource);
        bar.set_position(items as u64);
        bar.finish_with_message(format!("done ({pages} page(s))"));
    }
}

/// The right reporter for this run.
pub fn for_run(quiet: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        })
    } else {
        Box::new(Plain)
    }
}
