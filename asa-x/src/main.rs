//! The rebel X-wing (org=alianca, class=asa-x): frota's ship command line with this identity.
//! Called as `curl` (a link in the image), it is the curl front end.

fn main() -> std::process::ExitCode {
    let code = frota::cli::main(frota::Identity::asa_x(), std::env::args_os().collect());
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
