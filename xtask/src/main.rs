//! `cargo xtask`: project chores (see `cargo xtask help`). Follows the cargo-xtask
//! convention: a plain binary in the workspace, run through a cargo alias.

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_else(|| "help".into());
    match task.as_str() {
        _ => {
            println!("usage: cargo xtask <task>\n\ntasks:\n  help   this text");
            Ok(())
        }
    }
}
