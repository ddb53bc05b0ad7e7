//! The `agentdesk` command: everything lives in the library (`agentdesk::cli::main`), so the
//! benchmark can run exactly the same server.

fn main() -> std::process::ExitCode {
    agentdesk::cli::main(std::env::args_os())
}
