//! Go's `text/tabwriter` (flags 0, space padding), which lays out `kubectl describe`, `hubble`'s
//! tables and `cilium bpf`'s:
//! cells end at a tab, a column is aligned over the consecutive lines that have a cell in it, and
//! a line with fewer cells ends the block. kubectl describe uses minwidth 0, padding 2; Cilium's
//! `cilium bpf` tables minwidth 5, padding 3.

/// Text written with tabs, laid out on [`TabWriter::finish`].
#[derive(Debug, Clone, Default)]
pub struct TabWriter {
    text: String,
    min_width: usize,
    padding: usize,
}

impl TabWriter {
    /// Go's `tabwriter.NewWriter(w, min_width, 0, padding, ' ', 0)`.
    pub fn new(min_width: usize, padding: usize) -> TabWriter {
        TabWriter {
            text: String::new(),
            min_width,
            padding,
        }
    }

    /// `kubectl describe`'s layout (`tabwriter.Init(buf, 0, 8, 2, ' ', 0)`).
    pub fn describe() -> TabWriter {
        TabWriter {
            text: String::new(),
            min_width: 0,
            padding: 2,
        }
    }

    /// Cilium's `tabwriter.NewWriter(os.Stdout, 5, 0, 3, ' ', 0)`, which lays out every
    /// `cilium bpf` table. Cilium ends its rows with a tab, so their last column is padded too.
    pub fn cilium_bpf() -> TabWriter {
        TabWriter {
            text: String::new(),
            min_width: 5,
            padding: 3,
        }
    }

    /// `text` laid out at once.
    pub fn lay_out(mut self, text: &str) -> String {
        self.push(text);
        self.finish()
    }

    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// The laid out text.
    pub fn finish(&self) -> String {
        let mut lines: Vec<Vec<&str>> = self
            .text
            .split('\n')
            .map(|l| l.split('\t').collect())
            .collect();
        // The text after the last newline (usually nothing) is a line of its own in Go too.
        let ends_with_newline = self.text.ends_with('\n');
        if ends_with_newline {
            lines.pop();
        }
        let mut widths = Vec::new();
        let mut out = String::new();
        self.format(&lines, 0, lines.len(), &mut widths, &mut out);
        if !ends_with_newline && out.ends_with('\n') {
            out.pop();
        }
        out
    }

    fn format(
        &self,
        lines: &[Vec<&str>],
        mut line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
        out: &mut String,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            write_lines(&lines[line0..this], widths, out);
            line0 = this;
            let mut width = self.min_width;
            while this < line1 && column + 1 < lines[this].len() {
                width = width.max(lines[this][column].chars().count() + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(lines, line0, this, widths, out);
            widths.pop();
            line0 = this;
        }
        write_lines(&lines[line0..line1], widths, out);
    }
}

fn write_lines(lines: &[Vec<&str>], widths: &[usize], out: &mut String) {
    for line in lines {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j < widths.len() && j + 1 < line.len() {
                let pad = widths[j].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_align_like_go() {
        let mut w = TabWriter::describe();
        w.push("Name:\tregra1\nNamespace:\tdefault\nMetadata:\n  Generation:\t1\n  UID:\tx\n");
        assert_eq!(
            w.finish(),
            "Name:       regra1\nNamespace:  default\nMetadata:\n  Generation:  1\n  UID:         x\n"
        );
        let mut w = TabWriter::describe();
        w.push("Labels:\ta=b\n\tc=d\nPort:\thttp\t80/TCP\nType:\tx\n");
        assert_eq!(
            w.finish(),
            "Labels:  a=b\n         c=d\nPort:    http  80/TCP\nType:    x\n"
        );
    }
}
