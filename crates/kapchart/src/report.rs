//! `kapchart report` output: a [`Table`] as aligned text, CSV (one header
//! row, through the csv crate) or a JSON array of objects.
//!
//! CSV cells that a spreadsheet would run as a formula are neutralized by
//! [`kapchart_views::spreadsheet`] (shared with the pages' CSV downloads).

use std::io::Write;

use anyhow::Context as _;
use kapchart_views::Table;
use kapchart_views::spreadsheet::cell_text as text;

use crate::cli::ReportFormat;

/// Writes `table` to `out` in `format`.
///
/// # Errors
/// Writing fails.
pub fn write(table: &Table, format: ReportFormat, out: &mut impl Write) -> anyhow::Result<()> {
    match format {
        ReportFormat::Csv => table.write_csv(&mut *out).context("writing CSV")?,
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &table.objects()).context("writing JSON")?;
            writeln!(out).context("writing JSON")?;
        }
        ReportFormat::Table => {
            let cells: Vec<Vec<String>> = table
                .rows
                .iter()
                .map(|row| row.iter().map(text).collect())
                .collect();
            let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
            for row in &cells {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |values: &mut dyn Iterator<Item = &str>| {
                values
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
            };
            writeln!(out, "{}", line(&mut table.columns.iter().copied())).context("writing")?;
            writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  ")
            )
            .context("writing")?;
            for row in &cells {
                writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))
                    .context("writing")?;
            }
            if cells.is_empty() {
                writeln!(out, "(no rows)").context("writing")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn table() -> Table {
        Table {
            columns: vec!["client_id", "amount_cents", "note"],
            rows: vec![
                vec![
                    json!("client-1"),
                    json!(17_500),
                    json!("a, \"quoted\" note"),
                ],
                vec![json!("client-22"), json!(0), Value::Null],
            ],
        }
    }

    fn render(format: ReportFormat) -> String {
        let mut out = Vec::new();
        write(&table(), format, &mut out).expect("writes");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn csv_has_one_header_row_and_quotes_where_needed() {
        assert_eq!(
            render(ReportFormat::Csv),
            "client_id,amount_cents,note\nclient-1,17500,\"a, \"\"quoted\"\" note\"\nclient-22,0,\n"
        );
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_start_with_a_quote() {
        let table = Table {
            columns: vec!["name"],
            rows: vec![vec![json!("=HYPERLINK(\"http://x\",\"y\")")]],
        };
        let mut out = Vec::new();
        write(&table, ReportFormat::Csv, &mut out).expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "name\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n"
        );
    }

    #[test]
    fn json_is_an_array_of_objects_keyed_by_column() {
        let v: Value = serde_json::from_str(&render(ReportFormat::Json)).expect("json");
        assert_eq!(v[0]["amount_cents"], 17_500);
        assert_eq!(v[1]["note"], Value::Null);
        assert_eq!(v.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn table_aligns_columns() {
        assert_eq!(
            render(ReportFormat::Table),
            "client_id  amount_cents  note\n\
             ---------  ------------  ----------------\n\
             client-1   17500         a, \"quoted\" note\n\
             client-22  0\n"
        );
    }
}
