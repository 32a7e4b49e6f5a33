//! What a scenario reports: Markdown tables, printed and appended to the output file.

use std::fmt::Write as _;

/// One table of figures, with the note that says how they were taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    /// How the figures were taken (runs, sizes, what "delivered" means here).
    pub note: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    #[must_use]
    pub fn new(title: impl Into<String>, note: impl Into<String>, columns: &[&str]) -> Self {
        Self {
            title: title.into(),
            note: note.into(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; it must have one cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "{}: row of the wrong width", self.title);
        self.rows.push(cells);
    }

    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        if !self.note.is_empty() {
            let _ = write!(out, "{}\n\n", self.note);
        }
        let _ = writeln!(out, "| {} |", self.columns.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(self.columns.len()));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

/// A time (milliseconds, or microseconds) with a precision that suits its size.
#[must_use]
pub fn ms(value: f64) -> String {
    if value.is_nan() {
        "–".into()
    } else if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// A rate or count, rounded to a whole number with thousands separated.
#[must_use]
pub fn whole(value: f64) -> String {
    if value.is_nan() {
        return "–".into();
    }
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_markdown_with_one_line_per_row() {
        let mut table = Table::new("Load", "median of 3", &["senders", "delivered/s"]);
        table.row(vec!["32".into(), whole(2345.6)]);
        assert_eq!(
            table.to_markdown(),
            "### Load\n\nmedian of 3\n\n| senders | delivered/s |\n|---|---|\n| 32 | 2,346 |\n"
        );
    }

    #[test]
    fn numbers_are_rounded_to_what_they_can_tell() {
        assert_eq!(ms(1.234), "1.23");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(1234.5), "1234");
        assert_eq!(ms(f64::NAN), "–");
        assert_eq!(whole(999.0), "999");
        assert_eq!(whole(1_234_567.0), "1,234,567");
    }
}
