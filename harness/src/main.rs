//! The `wsspec` binary: everything lives in the library; see [`wsspec::cli`].
fn main() -> std::process::ExitCode {
    // Like other command-line tools, end quietly when the reader of our output goes
    // away (`wsspec cases | head`) instead of failing on a broken pipe.
    #[cfg(unix)]
    // SAFETY: setting a signal disposition at startup, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    wsspec::command_line()
}
