//! A finding as a bug report: next to the case file, `<hash>.md` (the steps in plain
//! words, the exact bytes sent in hex, what the target answered, how it died, the
//! replay commands) and `<hash>.py`, a reproducer that needs only Python 3's standard
//! library: it connects (or starts the server itself with `--spawn`), sends the same
//! bytes, prints the answer and checks whether the server still answers.

use super::{Finding, Kind, Prepared};
use crate::case::{Length, Mask, Step};
use crate::engine::conn::Target;
use crate::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Stands for `HOST:PORT` in the request embedded in the reproducer.
const HOST_MARK: &str = "__WSSPEC_HOST__";
/// The reproducer's fixed `Sec-WebSocket-Key` (any valid key does).
const KEY: &str = "d3NzcGVjIHJlcHJvZHVjZXI=";
/// Most bytes shown in hex in the Markdown (per direction).
const HEX_SHOWN: usize = 4096;

pub(super) struct Input<'a> {
    pub finding: &'a Finding,
    pub prepared: &'a Prepared,
    pub url: &'a str,
    pub command: Option<&'a str>,
    pub received: &'a [u8],
    /// The answer to an altered opening handshake.
    pub answer_head: Option<&'a [u8]>,
    pub seed: u64,
}

/// Write `<out>/<hash>.md` and `<out>/<hash>.py`.
pub(super) fn write(out: &Path, i: &Input) -> Result<(PathBuf, PathBuf), Error> {
    let name = i.finding.case_id.rsplit('/').next().unwrap_or("finding");
    let md = out.join(format!("{name}.md"));
    let py = out.join(format!("{name}.py"));
    let request = request_bytes(i)?;
    std::fs::write(&md, markdown(i, name, &request))
        .map_err(|e| Error::Io(format!("writing {}: {e}", md.display())))?;
    std::fs::write(&py, python(i, &request))
        .map_err(|e| Error::Io(format!("writing {}: {e}", py.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755));
    }
    Ok((md, py))
}

/// The opening request with the host placeholder and the fixed key.
fn request_bytes(i: &Input) -> Result<Vec<u8>, Error> {
    let mut t = Target::parse(i.url)?;
    t.host_header = HOST_MARK.to_string();
    let h = i.prepared.handshake.clone().unwrap_or_default();
    Ok(crate::engine::opening::build_request(
        &h,
        &t,
        KEY,
        &format!("wsspec-repro/{}", env!("CARGO_PKG_VERSION")),
    ))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// 16 bytes a line, at most `cap` bytes.
fn hexdump(b: &[u8], cap: usize) -> String {
    let mut s = String::new();
    for (n, line) in b[..b.len().min(cap)].chunks(16).enumerate() {
        let _ = write!(s, "{:06x}  ", n * 16);
        for x in line {
            let _ = write!(s, "{x:02x} ");
        }
        s.push('\n');
    }
    if b.len() > cap {
        let _ = writeln!(s, "… {} more bytes", b.len() - cap);
    }
    s
}

fn op_name(op: u8) -> String {
    match op {
        0 => "continuation".into(),
        1 => "text".into(),
        2 => "binary".into(),
        8 => "close".into(),
        9 => "ping".into(),
        10 => "pong".into(),
        n => format!("reserved opcode {n}"),
    }
}

fn payload_words(b: &[u8]) -> String {
    if b.is_empty() {
        return "no payload".into();
    }
    let shown: String = match std::str::from_utf8(b) {
        Ok(t) if t.chars().all(|c| !c.is_control()) && b.len() <= 40 => format!("{t:?}"),
        _ => format!(
            "0x{}{}",
            hex(&b[..b.len().min(16)]),
            if b.len() > 16 { "…" } else { "" }
        ),
    };
    format!("{} byte payload {shown}", b.len())
}

/// One step in plain words.
pub(super) fn describe_step(s: &Step) -> String {
    match s {
        Step::Send(f) => {
            let mut w = format!(
                "a {} frame{}",
                op_name(f.opcode.value()),
                if f.fin { "" } else { " (not final)" }
            );
            if f.rsv != 0 {
                let _ = write!(w, " with RSV bits {:03b}", f.rsv);
            }
            match &f.mask {
                Mask::None => w.push_str(", unmasked"),
                Mask::Key(k) => {
                    let _ = write!(w, ", mask key {k}");
                }
                Mask::Auto => {}
            }
            match f.length {
                Length::Minimal => {}
                Length::Force16 => w.push_str(", length in the 16-bit form"),
                Length::Force64 => w.push_str(", length in the 64-bit form"),
                Length::Claim(n) => {
                    let _ = write!(w, ", header claims {n} bytes");
                }
            }
            let _ = write!(w, ", {}", payload_words(&f.payload.bytes()));
            if let Some(c) = f.chop {
                let _ = write!(w, ", written in {c}-byte pieces");
            }
            w
        }
        Step::Message(m) => {
            let mut w = format!(
                "a {} message, {}",
                if m.binary { "binary" } else { "text" },
                payload_words(&m.payload.bytes())
            );
            if let Some(n) = m.fragment_size {
                let _ = write!(w, ", in fragments of {n} bytes");
            }
            if let Some(c) = m.chop {
                let _ = write!(w, ", written in {c}-byte pieces");
            }
            w
        }
        Step::FrameHeader(h) => format!(
            "only the header of a {} frame announcing {} bytes",
            op_name(h.opcode.value()),
            h.len
        ),
        Step::FramePayload(p) => format!("{} raw bytes (frame payload)", p.bytes().len()),
        Step::Close(c) => {
            let mut w = match c.code {
                Some(code) => format!("a close frame with code {code}"),
                None => "an empty close frame".into(),
            };
            if let Some(r) = &c.reason {
                let _ = write!(w, ", reason {}", payload_words(&r.bytes()));
            }
            w
        }
        Step::Wait(w) => format!("a pause of {} s", w.seconds),
        other => format!("{other:?}"),
    }
}

/// The target's frames, decoded leniently (header fields and a payload preview).
pub(super) fn describe_answer(b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while i + 2 <= b.len() && out.len() < 64 {
        let (h0, h1) = (b[i], b[i + 1]);
        let mut len = u64::from(h1 & 0x7f);
        let mut at = i + 2;
        if len == 126 {
            if at + 2 > b.len() {
                break;
            }
            len = u64::from(u16::from_be_bytes([b[at], b[at + 1]]));
            at += 2;
        } else if len == 127 {
            if at + 8 > b.len() {
                break;
            }
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[at..at + 8]);
            len = u64::from_be_bytes(x);
            at += 8;
        }
        if h1 & 0x80 != 0 {
            at += 4;
        }
        let end = (at as u64).saturating_add(len).min(b.len() as u64) as usize;
        let payload = &b[at.min(b.len())..end];
        let mut w = format!(
            "{} frame{}{}{}, {} bytes",
            op_name(h0 & 0x0f),
            if h0 & 0x80 == 0 { " (not final)" } else { "" },
            if h0 & 0x70 != 0 {
                format!(" RSV {:03b}", (h0 >> 4) & 7)
            } else {
                String::new()
            },
            if h1 & 0x80 != 0 { " MASKED" } else { "" },
            len
        );
        if h0 & 0x0f == 8 && payload.len() >= 2 {
            let _ = write!(w, ": code {}", u16::from_be_bytes([payload[0], payload[1]]));
        } else if !payload.is_empty() {
            let _ = write!(w, ": {}", payload_words(payload));
        }
        if end as u64 - (at as u64) < len {
            w.push_str(" (truncated)");
        }
        out.push(w);
        i = end.max(i + 2);
    }
    out
}

fn markdown(i: &Input, name: &str, request: &[u8]) -> String {
    let f = i.finding;
    let p = i.prepared;
    let mut s = String::new();
    let _ = writeln!(s, "# {}: {}\n", f.case_id, f.kind.as_str());
    let _ = writeln!(s, "**What happened:** {}\n", f.detail);
    let _ = writeln!(
        s,
        "- wsspec {} (`wsspec fuzz --seed {}`, sequence {}, found after {:.1} s of fuzzing)",
        env!("CARGO_PKG_VERSION"),
        i.seed,
        f.sequence,
        f.found_after.as_secs_f64()
    );
    match i.command {
        Some(c) => {
            let _ = writeln!(
                s,
                "- target: `{c}` (started by wsspec; this run on {})",
                i.url
            );
        }
        None => {
            let _ = writeln!(s, "- target: {}", i.url);
        }
    }
    let _ = writeln!(
        s,
        "- shrunk from {} to {} steps in {} runs",
        f.steps_before, f.steps_after, f.shrink_runs
    );
    if let Some((h, n)) = f.reproduced {
        let _ = writeln!(s, "- reproduced on fresh targets: **{h}/{n}**");
    }
    if let Some(pm) = &f.crash {
        let _ = writeln!(s, "- {}", pm.describe());
        if !pm.tail.is_empty() {
            let _ = writeln!(s, "\nThe target's last output:\n\n```");
            for l in &pm.tail {
                let _ = writeln!(s, "{l}");
            }
            let _ = writeln!(s, "```");
        }
    }
    let _ = writeln!(s, "\n## Steps\n");
    if p.handshake.is_some() {
        let _ = writeln!(s, "0. an altered opening handshake (below)");
    } else {
        let _ = writeln!(s, "0. a standard opening handshake");
    }
    for (n, st) in p.steps.iter().enumerate() {
        let _ = writeln!(s, "{}. {}", n + 1, describe_step(st));
    }
    let _ = writeln!(
        s,
        "\nThen a TCP FIN; a conformant server {}; then a fresh connection must get a message echoed.",
        match p.model.end {
            super::ModelEnd::Closed { .. } => "answers the close frame and closes the connection",
            super::ModelEnd::Failed { .. } => "fails the connection (close frame, TCP close)",
            _ => "closes the connection",
        }
    );
    let _ = writeln!(
        s,
        "\n## Bytes sent\n\nOpening request (`{HOST_MARK}` is HOST:PORT):\n\n```"
    );
    let _ = writeln!(s, "{}", String::from_utf8_lossy(request).trim_end());
    let _ = writeln!(
        s,
        "```\n\nThen ({} bytes, client frames masked):\n\n```",
        p.stream.len()
    );
    s.push_str(&hexdump(&p.stream, HEX_SHOWN));
    let _ = writeln!(s, "```\n\n## What the target answered\n");
    if let Some(h) = i.answer_head {
        let _ = writeln!(
            s,
            "To the opening request:\n\n```\n{}\n```\n",
            String::from_utf8_lossy(h).trim_end()
        );
    }
    if i.received.is_empty() {
        let _ = writeln!(s, "Nothing after the handshake.");
    } else {
        for l in describe_answer(i.received) {
            let _ = writeln!(s, "- {l}");
        }
        let _ = writeln!(s, "\n```");
        s.push_str(&hexdump(i.received, HEX_SHOWN));
        let _ = writeln!(s, "```");
    }
    let _ = writeln!(s, "\n## Replay\n\n```");
    let dir = f
        .path
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    match i.command {
        Some(c) => {
            let _ = writeln!(
                s,
                "wsspec run --cases-dir {dir} -c {} --spawn '{c}'",
                f.case_id
            );
            let _ = writeln!(s, "python3 {dir}/{name}.py --spawn '{c}'");
        }
        None => {
            let _ = writeln!(s, "wsspec run --cases-dir {dir} -c {} {}", f.case_id, i.url);
            let _ = writeln!(s, "python3 {dir}/{name}.py {}", host_port(i.url));
        }
    }
    let _ = writeln!(s, "```");
    s
}

fn host_port(url: &str) -> String {
    Target::parse(url)
        .map(|t| format!("{}:{}", t.host, t.port))
        .unwrap_or_else(|_| "HOST:PORT".into())
}

fn python(i: &Input, request: &[u8]) -> String {
    let f = i.finding;
    let mut pieces = String::new();
    for piece in &i.prepared.pieces {
        let _ = writeln!(
            pieces,
            "    (\"{}\", {}),",
            hex(&piece.bytes),
            if piece.flush { "True" } else { "False" }
        );
    }
    let resource = Target::parse(i.url)
        .map(|t| t.resource)
        .unwrap_or_else(|_| "/".into());
    PY_TEMPLATE
        .replace("@ID@", &f.case_id)
        .replace("@DETAIL@", &f.detail.replace('"', "'").replace('\\', "/"))
        .replace(
            "@KIND@",
            match f.kind {
                Kind::Dead => "dead",
                Kind::Hang => "hang",
                Kind::Malformed => "malformed",
            },
        )
        .replace("@REQUEST@", &hex(request))
        .replace("@PIECES@", &pieces)
        .replace("@DEFAULT@", &host_port(i.url))
        .replace("@MARK@", HOST_MARK)
        .replace("@RESOURCE@", &resource.replace('"', "%22"))
        .replace("@KEY@", KEY)
}

const PY_TEMPLATE: &str = r#"#!/usr/bin/env python3
"""Standalone reproducer for wsspec @ID@ (Python 3 standard library only).

Finding: @DETAIL@

usage: python3 THIS.py [HOST:PORT]            a running server (default @DEFAULT@)
       python3 THIS.py --spawn 'CMD {port}'   start the server, watch how it ends

Sends the finding's opening request and bytes, prints what the server answers, then
checks with a fresh connection that the server still echoes a message. Exit status:
1 when the server died or stopped answering (the bug reproduced), 0 otherwise.
"""
import os, signal, socket, subprocess, sys, time

KIND = "@KIND@"
REQUEST = bytes.fromhex("@REQUEST@")
PIECES = [  # (hex bytes, sent as a segment of its own)
@PIECES@]
TIMEOUT = 2.0


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        try:
            chunk = sock.recv(4096)
        except OSError:  # timed out or reset: what came is the answer
            break
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def frames(data):
    out, i = [], 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        n, j = b1 & 0x7F, i + 2
        if n == 126:
            n, j = int.from_bytes(data[j:j + 2], "big"), j + 2
        elif n == 127:
            n, j = int.from_bytes(data[j:j + 8], "big"), j + 8
        if b1 & 0x80:
            j += 4
        payload = data[j:j + n]
        desc = "opcode %d fin %d rsv %d len %d" % (b0 & 15, b0 >> 7, (b0 >> 4) & 7, n)
        if b0 & 15 == 8 and len(payload) >= 2:
            desc += " close code %d" % int.from_bytes(payload[:2], "big")
        out.append(desc + " payload " + payload[:32].hex())
        i = max(j + n, i + 2)
    return out


def alive(host, port):
    """A fresh connection: handshake, one masked text message, its echo."""
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as s:
            s.settimeout(TIMEOUT)
            req = ("GET @RESOURCE@ HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: @KEY@\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n" % (host, port)).encode()
            s.sendall(req)
            head, rest = read_head(s)
            if not head.startswith(b"HTTP/1.1 101"):
                return False
            msg, key = b"still alive?", b"\x01\x02\x03\x04"
            s.sendall(bytes([0x81, 0x80 | len(msg)]) + key
                      + bytes(c ^ key[k % 4] for k, c in enumerate(msg)))
            data = rest
            deadline = time.time() + TIMEOUT
            while msg not in data and time.time() < deadline:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return msg in data
    except OSError:
        return False


def main():
    args = sys.argv[1:]
    proc = None
    if args[:1] == ["--spawn"] and len(args) == 2:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        host = "127.0.0.1"
        cmd = args[1].replace("{port}", str(port))
        if not any(c in cmd for c in ";&|\n()`"):
            cmd = "exec " + cmd  # the server's own signal, not the shell's
        print("starting:", cmd)
        proc = subprocess.Popen(cmd, shell=True, start_new_session=True)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    print("the server did not start listening")
                    return 2
                time.sleep(0.05)
    else:
        host, _, port = (args[0] if args else "@DEFAULT@").rpartition(":")
        port = int(port)
    try:
        return run(host, port, proc)
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(host, port, proc):
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(TIMEOUT)
    sock.sendall(REQUEST.replace(b"@MARK@", ("%s:%d" % (host, port)).encode()))
    head, answer = read_head(sock)
    print("handshake answer:", head.split(b"\r\n")[0].decode("latin-1") or "(none)")
    try:
        for data, separate in PIECES:
            sock.sendall(bytes.fromhex(data))
            if separate:
                time.sleep(0.001)
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        print("sending failed:", e)
    deadline = time.time() + TIMEOUT
    try:
        while time.time() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError as e:
        print("reading:", e)
    sock.close()
    print("the server answered %d bytes:" % len(answer))
    for f in frames(answer):
        print("  ", f)
    time.sleep(0.2)
    ok = alive(host, port)
    if proc is not None:
        try:
            rc = proc.wait(timeout=2 if not ok else 0.01)
        except subprocess.TimeoutExpired:
            rc = None
        if rc is not None and rc < 0:
            print("the server was killed by", signal.Signals(-rc).name)
        elif rc is not None and rc > 128:
            print("the server was killed by", signal.Signals(rc - 128).name)
        elif rc is not None:
            print("the server exited with status", rc)
    if not ok:
        print("REPRODUCED: the server no longer answers a fresh connection")
        return 1
    print("the server still answers" + ("" if KIND == "dead" else "; compare the answer with the finding's report"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{CloseStep, Payload};

    #[test]
    fn answers_are_decoded_leniently() {
        // Text "hi", a masked ping, a close 1000, then a truncated 64-bit header.
        let b = [
            0x81, 0x02, b'h', b'i', 0x89, 0x80, 1, 2, 3, 4, 0x88, 0x02, 0x03, 0xe8, 0x82, 0x7f, 0,
        ];
        let d = describe_answer(&b);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("text frame, 2 bytes") && d[0].contains("\"hi\""));
        assert!(d[1].contains("MASKED"));
        assert!(d[2].contains("code 1000"));
        // Claimed lengths beyond the data do not panic or loop.
        let d = describe_answer(&[0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(d[0].contains("(truncated)"), "{d:?}");
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ n).collect();
            let _ = describe_answer(&junk);
        }
    }

    #[test]
    fn steps_in_words() {
        let s = Step::Close(CloseStep {
            code: Some(1002),
            reason: Some(Payload::from_bytes(b"bye")),
        });
        assert_eq!(
            describe_step(&s),
            "a close frame with code 1002, reason 3 byte payload \"bye\""
        );
    }
}
