//! The role wsspec plays on a connection, and every decision that follows from it.
//!
//! As **client** wsspec tests a server (Autobahn's `fuzzingclient`); as **server** it
//! tests a client (Autobahn's `fuzzingserver`). The cases, the player and the judge
//! are the same; these methods are the whole difference (RFC 6455 §5.1, §5.3, §7.1.1;
//! RFC 7692 §7.1.1).

use crate::wire::extensions::PmdParams;
use serde::{Deserialize, Serialize};

/// Which endpoint wsspec is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// wsspec dials and sends the opening request: it tests a server.
    #[default]
    Client,
    /// wsspec accepts and answers the opening request: it tests a client.
    Server,
}

impl Role {
    /// The other endpoint's role.
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// `"client"` / `"server"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }

    /// The masking key for a frame a case sends with default masking: a client masks
    /// every frame with a fresh key, a server masks none (RFC 6455 §5.1, §5.3).
    pub fn mask_key(self) -> Option<[u8; 4]> {
        match self {
            Role::Client => Some(rand::random()),
            Role::Server => None,
        }
    }

    /// Whether frames from the peer must be masked (they must when the peer is a
    /// client); the opposite masking is a protocol error (RFC 6455 §5.1).
    pub fn peer_masks(self) -> bool {
        self == Role::Server
    }

    /// Window bits and context reset of the direction wsspec *receives*: the server's
    /// parameters when wsspec is the client, the client's when it is the server.
    pub fn inflate_params(self, p: &PmdParams) -> (Option<u8>, bool) {
        match self {
            Role::Client => (p.server_max_window_bits, p.server_no_context_takeover),
            Role::Server => (p.client_max_window_bits, p.client_no_context_takeover),
        }
    }

    /// Window bits and context reset of the direction wsspec *sends*.
    pub fn deflate_params(self, p: &PmdParams) -> (Option<u8>, bool) {
        self.peer().inflate_params(p)
    }

    /// Whether wsspec itself closes TCP once the closing handshake is done. The server
    /// does (RFC 6455 §7.1.1); the client waits for it, bounded by a timeout.
    pub fn drops_tcp_after_close(self) -> bool {
        self == Role::Server
    }

    /// Whether a TCP close by wsspec counts against the peer (Autobahn's FAILED BY
    /// CLIENT): only when wsspec is the client and had to close what the server
    /// should have closed.
    pub fn own_drop_is_peer_fault(self) -> bool {
        self == Role::Client
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_follow_the_role() {
        let p = PmdParams {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: Some(9),
            client_max_window_bits: Some(12),
        };
        assert_eq!(Role::Client.inflate_params(&p), (Some(9), true));
        assert_eq!(Role::Client.deflate_params(&p), (Some(12), false));
        assert_eq!(Role::Server.inflate_params(&p), (Some(12), false));
        assert_eq!(Role::Server.deflate_params(&p), (Some(9), true));
        assert!(Role::Client.mask_key().is_some());
        assert!(Role::Server.mask_key().is_none());
        assert!(Role::Server.peer_masks() && !Role::Client.peer_masks());
    }
}
