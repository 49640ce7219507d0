//! Keeping the fuzzed target alive: who restarts it after it dies, and what is known
//! about how it died.
//!
//! Three kinds of target: a closure given by library users and tests ([`Restart`]); a
//! command line wsspec owns ([`Spawned`], `wsspec fuzz --spawn 'CMD {port}'`): started
//! on a free port, restarted fresh whenever asked, its exit status or signal and the
//! tail of its output read after a crash; and a server wsspec does not own
//! ([`RestartCommand`], `--restart 'CMD'` with a URL): the command is run and the URL
//! awaited. Processes come from [`crate::spawn`], which stops whole process groups.

#[cfg(feature = "internals")]
use super::Restart;
use crate::spawn::{self, Child, Exit};
use futures_util::future::BoxFuture;
use std::time::Duration;

/// How a target that stopped answering ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostMortem {
    /// Exit status or signal; `None` when the process still ran (it hung) or is not ours.
    pub exit: Option<Exit>,
    /// Its last lines of output (stdout and stderr).
    pub tail: Vec<String>,
}

impl PostMortem {
    /// "killed by SIGSEGV (signal 11)" or "stopped answering (the process still ran)".
    pub fn describe(&self) -> String {
        match self.exit {
            Some(e @ Exit::Signal { .. }) => format!("the target process was {e}"),
            Some(e) => format!("the target process {e}"),
            None => "the target stopped answering (its process still ran)".to_string(),
        }
    }

    /// Same crash? Signal (or exit status) and the last line of output with numbers and
    /// addresses blanked.
    pub fn signature(&self) -> String {
        let last = self
            .tail
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| blank_numbers(l))
            .unwrap_or_default();
        let how = match self.exit {
            Some(Exit::Signal { signal, .. }) => spawn::signal_name(signal),
            Some(Exit::Code(c)) => format!("exit {c}"),
            None => "hung".to_string(),
        };
        format!("{how} | {last}")
    }
}

/// Digits and hex words (`0x7f…`, pids, ports, addresses) become `#`.
fn blank_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_hexdigit() || *d == 'x')
            {
                chars.next();
            }
            out.push('#');
        } else {
            out.push(c);
        }
    }
    out
}

/// A target the fuzzer can bring back.
pub trait Lifecycle: Send {
    /// Start a fresh target (stopping the old one first when it is ours); its URL.
    fn restart(&mut self) -> BoxFuture<'_, Result<String, String>>;
    /// After the target stopped answering: how its process ended and its last output,
    /// when wsspec owns it.
    fn post_mortem(&mut self) -> BoxFuture<'_, Option<PostMortem>>;
    /// A restart gives a fresh process (so a crash can be confirmed and shrunk on
    /// fresh targets, one run each).
    fn fresh(&self) -> bool;
    /// The command line that runs the target, for reports (`{port}` left in).
    fn command(&self) -> Option<String>;
}

/// The restart closure of library users and tests.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub(crate) struct Hook(pub(crate) Restart);

#[cfg(feature = "internals")]
impl Lifecycle for Hook {
    fn restart(&mut self) -> BoxFuture<'_, Result<String, String>> {
        (self.0)()
    }
    fn post_mortem(&mut self) -> BoxFuture<'_, Option<PostMortem>> {
        Box::pin(async { None })
    }
    fn fresh(&self) -> bool {
        true
    }
    fn command(&self) -> Option<String> {
        None
    }
}

/// A server wsspec starts itself: `sh -c TEMPLATE` with `{port}` replaced.
pub struct Spawned {
    template: String,
    /// Path and query of the URL (`/` by default).
    resource: String,
    listen_timeout: Duration,
    child: Option<Child>,
    /// Processes started so far.
    pub starts: u32,
}

impl Spawned {
    /// Nothing runs until [`Lifecycle::restart`].
    pub fn new(template: &str, resource: &str, listen_timeout: Duration) -> Spawned {
        Spawned {
            template: template.to_string(),
            resource: if resource.starts_with('/') {
                resource.to_string()
            } else {
                format!("/{resource}")
            },
            listen_timeout,
            child: None,
            starts: 0,
        }
    }

    /// Start the first process; its URL (a usage error when it does not listen).
    pub async fn start(&mut self) -> Result<String, String> {
        self.restart().await
    }

    /// How the current process ended, if it has (waiting up to 0.3 s: a process that
    /// just broke a connection may still be on its way down).
    pub async fn ended(&mut self) -> Option<PostMortem> {
        let exit = self
            .child
            .as_mut()?
            .wait_exit(Duration::from_millis(300))
            .await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some(PostMortem {
            exit: Some(exit),
            tail: self.child.as_ref()?.tail(),
        })
    }

    /// Stop the current process (and its group).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.stop();
        }
    }
}

impl Lifecycle for Spawned {
    fn restart(&mut self) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            self.stop();
            // A port taken between our probe and the server's bind: try another.
            let mut last = String::new();
            for _ in 0..3 {
                let mut c = Child::start_on_free_port(&self.template)?;
                self.starts += 1;
                let port = c.port.unwrap_or(0);
                match c.wait_listening(port, self.listen_timeout).await {
                    Ok(()) => {
                        self.child = Some(c);
                        return Ok(format!("ws://127.0.0.1:{port}{}", self.resource));
                    }
                    Err(e) => {
                        c.stop();
                        last = e;
                    }
                }
            }
            Err(last)
        })
    }

    fn post_mortem(&mut self) -> BoxFuture<'_, Option<PostMortem>> {
        Box::pin(async move {
            let c = self.child.as_mut()?;
            // A crashing process may take a moment (sanitizer reports, core dumps).
            let exit = c.wait_exit(Duration::from_secs(2)).await;
            // The output readers may lag the exit by a little.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Some(PostMortem {
                exit,
                tail: c.tail(),
            })
        })
    }

    fn fresh(&self) -> bool {
        true
    }

    fn command(&self) -> Option<String> {
        Some(self.template.clone())
    }
}

/// A server wsspec does not own: `--restart CMD` brings it back at the same URL.
pub struct RestartCommand {
    command: String,
    url: String,
    timeout: Duration,
}

impl RestartCommand {
    pub fn new(command: &str, url: &str, timeout: Duration) -> RestartCommand {
        RestartCommand {
            command: command.to_string(),
            url: url.to_string(),
            timeout,
        }
    }
}

impl Lifecycle for RestartCommand {
    fn restart(&mut self) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let (exit, tail) = spawn::run_to_end(&self.command, self.timeout).await?;
            if exit != Exit::Code(0) {
                return Err(format!(
                    "--restart `{}` {exit}{}",
                    self.command,
                    spawn::tail_text(&tail)
                ));
            }
            // Wait for the URL's port to accept connections again.
            let t = crate::engine::conn::Target::parse(&self.url).map_err(|e| e.to_string())?;
            let until = tokio::time::Instant::now() + self.timeout;
            while tokio::time::Instant::now() < until {
                let c = tokio::time::timeout(
                    Duration::from_millis(500),
                    tokio::net::TcpStream::connect((t.host.as_str(), t.port)),
                )
                .await;
                if let Ok(Ok(_)) = c {
                    return Ok(self.url.clone());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(format!(
                "{} did not accept connections within {:?} after --restart",
                self.url, self.timeout
            ))
        })
    }

    fn post_mortem(&mut self) -> BoxFuture<'_, Option<PostMortem>> {
        Box::pin(async { None })
    }

    fn fresh(&self) -> bool {
        true
    }

    fn command(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_ignore_numbers() {
        let a = PostMortem {
            exit: Some(Exit::Signal {
                signal: 11,
                core: false,
            }),
            tail: vec!["x".into(), "crash at 0x7f12ab in conn 17".into(), "".into()],
        };
        let mut b = a.clone();
        b.tail[1] = "crash at 0x55aa01 in conn 3".into();
        assert_eq!(a.signature(), b.signature());
        assert_eq!(a.signature(), "SIGSEGV | crash at # in conn #");
        b.exit = Some(Exit::Signal {
            signal: 6,
            core: false,
        });
        assert_ne!(a.signature(), b.signature());
    }
}
