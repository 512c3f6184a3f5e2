//! Report cells as text and as CSV that is safe to open in a spreadsheet,
//! shared by `kapchart report --format csv` and the pages' CSV downloads.
//!
//! CSV is opened by spreadsheets, which run a cell that starts with `=`,
//! `+`, `-` or `@` (or a tab or carriage return before one) as a formula:
//! a client named `=HYPERLINK(...)` would become a link. As OWASP's CSV
//! injection advice says, such a text cell gets a leading `'`, which
//! spreadsheets show as text; numbers stay as they are, also negative ones
//! and text that is a plain number (`-12.50`).
//!
//! Writing goes to any [`std::io::Write`] the caller gives (a buffer, a
//! terminal): this crate itself opens nothing.

use std::io::Write;

use serde_json::Value;

use crate::report::Table;

/// A cell as text: strings as they are, numbers and booleans as JSON
/// writes them, null as empty.
pub fn cell_text(cell: &Value) -> String {
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

/// A cell as CSV text: as [`cell_text`], with a `'` before a text cell
/// that a spreadsheet would run as a formula.
pub fn csv_cell(cell: &Value) -> String {
    let text = cell_text(cell);
    match cell {
        Value::String(_) if text.starts_with(FORMULA_LEADERS) && !is_plain_number(&text) => {
            format!("'{text}")
        }
        _ => text,
    }
}

/// Writes one header row of `columns`, then each row's cells through
/// [`csv_cell`], as CSV (the csv crate's quoting) to `out`.
///
/// # Errors
/// Writing to `out` fails.
pub fn write_csv<'a, W, R>(
    out: W,
    columns: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> std::io::Result<()>
where
    W: Write,
    R: IntoIterator<Item = &'a Value>,
{
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(columns)?;
    for row in rows {
        csv.write_record(row.into_iter().map(csv_cell))?;
    }
    csv.flush()?;
    Ok(())
}

impl Table {
    /// The table as CSV ([`write_csv`]) to `out`.
    ///
    /// # Errors
    /// Writing to `out` fails.
    pub fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        write_csv(out, &self.columns, &self.rows)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn csv_of(table: &Table) -> String {
        let mut out = Vec::new();
        table.write_csv(&mut out).expect("writes");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn csv_has_one_header_row_and_quotes_where_needed() {
        let table = Table {
            columns: vec!["client_id", "amount_cents", "note"],
            rows: vec![
                vec![
                    json!("client-1"),
                    json!(17_500),
                    json!("a, \"quoted\" note"),
                ],
                vec![json!("client-22"), json!(0), Value::Null],
            ],
        };
        assert_eq!(
            csv_of(&table),
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
        let out = csv_of(&table);
        let rows: Vec<Vec<String>> = csv::Reader::from_reader(out.as_bytes())
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
    fn rows_given_as_references_write_the_same() {
        let cells = [json!("=1"), json!(2)];
        let mut out = Vec::new();
        write_csv(&mut out, &["a", "b"], [cells.iter()]).expect("writes");
        assert_eq!(String::from_utf8(out).expect("utf-8"), "a,b\n'=1,2\n");
    }
}
