//! `get -w/--watch`: the table, then a line for each object that changes, is added or is
//! deleted, until Ctrl+C, as kubectl prints its watch events. The control API has no event
//! stream (its connections do not long-poll), so the watch reads the galaxy's state twice a
//! second and prints what differs; a change between two reads that undoes itself is not seen.
//!
//! kubectl lays out its tables with liggitt/tabwriter's `RememberWidths`: a watch line keeps the
//! column widths of the table above it (and widens them when it must), which `get::remember` and
//! `get::line` reproduce (minwidth 6, padding 3).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::error::Error;
use super::get::{Args, Filter, Resource, Row, Shape, Snapshot, cells, line, remember};
use super::print::Io;
use crate::control::Control;

/// How often the galaxy's state is read.
const EVERY: Duration = Duration::from_millis(500);

type Key = (String, String);

/// `get -w`: the table, then its changes.
pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    super::get::run_then(args, io, |w, io| {
        follow(
            w.control, w.rt, w.kind, w.filter, w.shape, w.first, w.widths, io,
        )
    })
}

/// Print a line for each change of `kind`'s objects after `first`, until Ctrl+C.
#[allow(clippy::too_many_arguments)]
pub(crate) fn follow(
    control: &Control,
    rt: &tokio::runtime::Runtime,
    kind: Resource,
    filter: &Filter,
    shape: &Shape,
    first: Vec<Row>,
    mut widths: Vec<usize>,
    io: &mut Io<'_>,
) -> Result<(), Error> {
    let mut seen: BTreeMap<Key, Row> = first
        .into_iter()
        .map(|r| ((r.namespace.clone(), r.name.clone()), r))
        .collect();
    loop {
        let interrupted = rt.block_on(async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => true,
                () = tokio::time::sleep(EVERY) => false,
            }
        });
        if interrupted {
            return Ok(());
        }
        let snapshot = Snapshot::fetch(control, rt, &[kind])?;
        let now: BTreeMap<Key, Row> = snapshot
            .rows(kind, SystemTime::now())
            .into_iter()
            .filter(|r| filter.keep(r))
            .map(|r| ((r.namespace.clone(), r.name.clone()), r))
            .collect();
        let mut changed: Vec<Row> = Vec::new();
        for (k, r) in &now {
            // The object, not its AGE cells, says whether it changed.
            if seen.get(k).is_none_or(|old| old.object != r.object) {
                changed.push(r.clone());
            }
        }
        // A deleted object's last line (kubectl prints the DELETED event's object: a pod's is
        // not ready and Terminating).
        for (k, r) in &seen {
            if !now.contains_key(k) {
                let mut last = r.clone();
                if kind == Resource::Pods && last.cells.len() > 1 {
                    last.cells[0] = "0/1".into();
                    last.cells[1] = "Terminating".into();
                }
                changed.push(last);
            }
        }
        if !changed.is_empty() {
            let lines: Vec<Vec<String>> = changed.iter().map(|r| cells(r, shape)).collect();
            remember(&mut widths, &lines);
            for l in &lines {
                io.out.write_all(line(l, &widths).as_bytes())?;
            }
            io.out.flush()?;
        }
        seen = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_the_tables_widths() {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let mut w = Vec::new();
        let table = [
            s(&["NAME", "READY", "STATUS", "AGE"]),
            s(&["a", "1/1", "Running", "5s"]),
        ];
        remember(&mut w, &table);
        assert_eq!(line(&table[1], &w), "a      1/1     Running   5s\n");
        let later = [s(&["a", "0/1", "CrashLoopBackOff", "9s"])];
        remember(&mut w, &later);
        assert_eq!(
            line(&later[0], &w),
            "a      0/1     CrashLoopBackOff   9s\n"
        );
    }
}
