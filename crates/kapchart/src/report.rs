//! `kapchart report` output: a [`Table`] as aligned text, CSV (one header
//! row, through the csv crate) or a JSON array of objects.
//!
//! CSV is opened by spreadsheets, which run a cell that starts with `=`,
//! `+`, `-` or `@` (or a tab or carriage return before one) as a formula:
//! a client named `=HYPERLINK(...)` would become a link. As OWASP's CSV
//! injection advice says, such a text cell gets a leading `'`, which
//! spreadsheets show as text; numbers stay as they are, also negative ones
//! and text that is a plain number (`-12.50`).

use std::io::Write;

use anyhow::Context as _;
use kapchart_views::Table;
use serde_json::Value;

use crate::cli::ReportFormat;

/// A cell as text: strings as they are, numbers and booleans as JSON
/// writes them, null as empty.
fn text(cell: &Value) -> String {
    match cell {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The leading characters that make a spreadsheet read a cell as a formula.
const FORMULA_LEADERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True for text that is a plain decimal number: an optional sign, digits,
/// and an optional fraction (`-12.50`, `+3`, `7`).
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A cell as CSV text: as [`text`], with a `'` before a text cell that a
/// spreadsheet would run as a formula.
fn csv_cell(cell: &Value) -> String {
    let text = text(cell);
    match cell {
        Value::String(_) if text.starts_with(FORMULA_LEADERS) && !is_plain_number(&text) => {
            format!("'{text}")
        }
        _ => text,
    }
}

/// Writes `table` to `out` in `format`.
///
/// # Errors
/// Writing fails.
pub fn write(table: &Table, format: ReportFormat, out: &mut impl Write) -> anyhow::Result<()> {
    match format {
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(&table.columns).context("writing CSV")?;
            for row in &table.rows {
                csv.write_record(row.iter().map(csv_cell))
                    .context("writing CSV")?;
            }
            csv.flush().context("writing CSV")?;
        }
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
    use serde_json::json;

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
            columns: vec!["name", "balance_cents", "amount"],
            rows: vec![
                vec![
                    json!("=HYPERLINK(\"http://x\",\"y\")"),
                    json!(-1250),
                    json!("-12.50"),
                ],
                vec![json!("+1+1"), json!(0), json!("+3")],
                vec![json!("-2+3"), json!(1), json!("@SUM(A1)")],
                vec![json!("\t=1"), json!(2), json!("\r=1")],
                vec![json!("Alex Example"), json!(3), json!("1-2")],
                vec![json!("-"), json!(4), json!(".5")],
            ],
        };
        let mut out = Vec::new();
        write(&table, ReportFormat::Csv, &mut out).expect("writes");
        let rows: Vec<Vec<String>> = csv::Reader::from_reader(out.as_slice())
            .records()
            .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(
            rows,
            [
                ["'=HYPERLINK(\"http://x\",\"y\")", "-1250", "-12.50"],
                ["'+1+1", "0", "+3"],
                ["'-2+3", "1", "'@SUM(A1)"],
                ["'\t=1", "2", "'\r=1"],
                ["Alex Example", "3", "1-2"],
                ["'-", "4", ".5"],
            ]
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
