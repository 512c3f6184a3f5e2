//! Entry point of the `kapchart` binary; see the library for everything else.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = kapchart::cli::parse_or_exit();
    kapchart::logging::init(cli.global.verbose);
    match kapchart::run(cli) {
        Ok(()) => ExitCode::from(kapchart::exit::EX_OK),
        Err(err) => {
            eprintln!("kapchart: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
