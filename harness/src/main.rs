//! The `wsspec` binary: everything lives in the library; see [`wsspec::cli`].
fn main() -> std::process::ExitCode {
    wsspec::cli::main()
}
