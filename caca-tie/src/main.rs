//! The imperial TIE fighter (org=imperio, class=caca-tie): frota's ship command line with this
//! identity. Called as `curl` (a link in the image), it is the curl front end.

fn main() -> std::process::ExitCode {
    let code = frota::cli::main(frota::Identity::caca_tie(), std::env::args_os().collect());
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
