//! The one printing layer of the verbs: where their output and messages go ([`Io`]), the `-o`
//! option every verb shares ([`OutputArgs`]), kubectl's table layout ([`Table`]) and JSON.

use std::fmt;
use std::io::Write;

use super::error::Error;

/// A verb's standard output and standard error, injected so that tests and the tutorial read
/// them.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// `out` is the process's own stdout and that is a terminal (colors may go there); false
    /// for injected writers, so that tests and the tutorial never see escape codes.
    pub out_is_terminal: bool,
}

impl<'a> Io<'a> {
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write) -> Io<'a> {
        Io {
            out,
            err,
            out_is_terminal: false,
        }
    }

    /// Say whether `out` is a terminal (`main` sets it for the real stdout).
    pub fn with_terminal(mut self, out_is_terminal: bool) -> Io<'a> {
        self.out_is_terminal = out_is_terminal;
        self
    }
}

/// Every output format a verb may print; each verb says which it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The default, for people (`policy` also takes `-o human`).
    Human,
    Wide,
    Json,
    /// kubectl's `-o yaml`.
    Yaml,
    /// kubectl's `-o jsonpath=TEMPLATE` (the template as given).
    JsonPath(String),
    /// `get -o galaxia-json`: the control API's own views (what scripts and tests read: ready,
    /// restarts, egress proxy, listening ports), not kubectl's objects.
    ViewJson,
    /// kubectl's `-o name`: `kind/name` a line.
    Name,
    Markdown,
    /// Hubble's formats (`observe`): one line a flow, `KEY: value` blocks, aligned columns, and
    /// protojson (`json` is the same as `jsonpb` there).
    Compact,
    Dict,
    Table,
    Jsonpb,
    /// A name no verb knows, kept to be refused with kubectl's message.
    Unknown(String),
}

impl Format {
    fn parse(s: &str) -> Result<Format, std::convert::Infallible> {
        Ok(match s {
            "human" => Format::Human,
            "wide" => Format::Wide,
            "json" => Format::Json,
            "yaml" => Format::Yaml,
            "galaxia-json" => Format::ViewJson,
            t if t.starts_with("jsonpath=") => Format::JsonPath(t["jsonpath=".len()..].to_string()),
            "name" => Format::Name,
            "markdown" => Format::Markdown,
            "compact" => Format::Compact,
            "dict" => Format::Dict,
            "table" => Format::Table,
            "jsonpb" => Format::Jsonpb,
            other => Format::Unknown(other.to_string()),
        })
    }

    pub fn name(&self) -> &str {
        match self {
            Format::Human => "human",
            Format::Wide => "wide",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::ViewJson => "galaxia-json",
            Format::JsonPath(_) => "jsonpath",
            Format::Name => "name",
            Format::Markdown => "markdown",
            Format::Compact => "compact",
            Format::Dict => "dict",
            Format::Table => "table",
            Format::Jsonpb => "jsonpb",
            Format::Unknown(s) => s,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `-o/--output`, the same flag on every verb.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format (each verb's help says which it takes).
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = Format::parse)]
    pub output: Option<Format>,
}

impl OutputArgs {
    /// The format asked for, `Human` when none; refused as kubectl refuses one its printers do
    /// not have when it is not among `allowed`.
    pub fn format(&self, allowed: &[Format]) -> Result<Format, Error> {
        match &self.output {
            None => Ok(Format::Human),
            Some(f) if allowed.contains(f) => Ok(f.clone()),
            Some(Format::JsonPath(t)) if allowed.contains(&Format::JsonPath(String::new())) => {
                Ok(Format::JsonPath(t.clone()))
            }
            Some(f) => {
                let names: Vec<&str> = allowed.iter().map(Format::name).collect();
                Err(Error::Usage(format!(
                    "unable to match a printer suitable for the output format \"{f}\", allowed formats are: {}",
                    if names.is_empty() {
                        "none (this verb prints one format)".to_string()
                    } else {
                        names.join(",")
                    }
                )))
            }
        }
    }
}

/// Pretty JSON and a newline, as `kubectl get -o json` prints.
pub fn write_json<T: serde::Serialize>(out: &mut dyn Write, v: &T) -> Result<(), Error> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// Columns laid out as Go's tabwriter lays out kubectl's tables: each cell padded to its
/// column's widest plus `padding`, at least `min_width`; the last column is not padded.
#[derive(Debug, Clone)]
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    padding: usize,
    min_width: usize,
    /// Drop trailing blanks (an empty last cell); tabwriter keeps them.
    trim: bool,
}

impl Table {
    /// kubectl's layout (tabwriter minwidth 6, padding 3).
    pub fn kubectl<S: AsRef<str>>(head: &[S]) -> Table {
        Table {
            head: head.iter().map(|h| h.as_ref().to_string()).collect(),
            rows: Vec::new(),
            padding: 3,
            min_width: 6,
            trim: false,
        }
    }

    /// A compact layout (two spaces between columns), for galaxia's own tables.
    pub fn compact<S: AsRef<str>>(head: &[S]) -> Table {
        Table {
            padding: 2,
            min_width: 0,
            trim: true,
            ..Table::kubectl(head)
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.head.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let mut out = String::new();
        for cells in std::iter::once(&self.head).chain(&self.rows) {
            let mut line = String::new();
            let n = cells.len();
            for (i, c) in cells.iter().enumerate() {
                line.push_str(c);
                if i + 1 < n {
                    let cell = (widths[i] + self.padding).max(self.min_width);
                    let pad = cell.saturating_sub(c.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(if self.trim { line.trim_end() } else { &line });
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_lay_out_like_tabwriter() {
        let mut t = Table::kubectl(&["NAME", "AGE"]);
        t.row(vec!["regra1".into(), "5s".into()]);
        assert_eq!(t.render(), "NAME     AGE\nregra1   5s\n");
        let mut t = Table::kubectl(&["A", "B"]);
        t.row(vec!["x".into(), "y".into()]);
        assert_eq!(t.render(), "A     B\nx     y\n", "min width 6");
        let mut t = Table::compact(&["FROM", "TO"]);
        t.row(vec!["caca-tie".into(), "".into()]);
        assert_eq!(t.render(), "FROM      TO\ncaca-tie\n");
    }
}
