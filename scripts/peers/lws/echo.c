/*
 * wsspec's libwebsockets echo peer: every text and binary message comes back with the
 * same type (fragments are reassembled into one message); ping/pong, UTF-8 checks,
 * the close handshake and permessage-deflate (offered with the library's defaults) are
 * left to libwebsockets. Listens on 127.0.0.1 only.
 *
 *   lws-echo --port N [--no-deflate] [--per-fragment]
 *
 * --per-fragment echoes each piece of a message as it arrives, flagged first/final
 * with lws_write_ws_flags, the way the library's minimal echo example does, instead of
 * reassembling the message first.
 *
 * Bounds against a hostile client: a message is at most 64 MiB (then close 1009);
 * with 8 echoes waiting to be written the connection stops reading (the library's rx
 * flow control) until they are, and 64 waiting (data the library had already read)
 * close it with 1008.
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE (64u << 20)
#define MAX_QUEUED 64
/* Stop reading (rx flow control) while this many messages wait to be written. */
#define PAUSE_AT 8

struct message {
	struct message *next;
	size_t len;
	int binary;
	int flags; /* lws_write flags */
	unsigned char data[]; /* LWS_PRE bytes of headroom, then the payload */
};

struct session {
	unsigned char *buf; /* the message being received, after LWS_PRE headroom */
	size_t len, cap;
	int binary;
	struct message *head, *tail;
	int queued;
};

static volatile sig_atomic_t interrupted;
static int per_fragment;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void drop_all(struct session *s)
{
	struct message *m = s->head;
	while (m) {
		struct message *next = m->next;
		free(m);
		m = next;
	}
	s->head = s->tail = NULL;
	s->queued = 0;
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

/* Append a fragment to the message being received; 0 on success. */
static int append(struct session *s, const void *in, size_t len)
{
	if (s->len + len > MAX_MESSAGE)
		return -1;
	if (!s->buf || LWS_PRE + s->len + len > s->cap) {
		size_t want = LWS_PRE + s->len + len;
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < want)
			cap *= 2;
		unsigned char *b = realloc(s->buf, cap);
		if (!b)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	if (len)
		memcpy(s->buf + LWS_PRE + s->len, in, len);
	s->len += len;
	return 0;
}

/* Move the finished message (or piece) to the write queue; 0 on success. */
static int finish(struct session *s, int flags)
{
	if (s->queued >= MAX_QUEUED)
		return -1;
	struct message *m = malloc(sizeof(*m) + LWS_PRE + s->len);
	if (!m)
		return -1;
	m->next = NULL;
	m->len = s->len;
	m->binary = s->binary;
	m->flags = flags;
	if (s->len)
		memcpy(m->data + LWS_PRE, s->buf + LWS_PRE, s->len);
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->queued++;
	s->len = 0;
	return 0;
}

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct session *s = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		if (!s)
			return -1;
		memset(s, 0, sizeof(*s));
		break;
	case LWS_CALLBACK_RECEIVE:
		if (!s)
			return -1;
		if (lws_is_first_fragment(wsi)) {
			s->len = 0;
			s->binary = lws_frame_is_binary(wsi);
		}
		if (append(s, in, len)) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
			return -1;
		}
		int type = s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
		int last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
		if (per_fragment || last) {
			int flags = per_fragment ? (int)lws_write_ws_flags(type, lws_is_first_fragment(wsi),
								      lws_is_final_fragment(wsi))
						 : type;
			if (finish(s, flags)) {
				lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
				return -1;
			}
			if (s->queued == PAUSE_AT)
				lws_rx_flow_control(wsi, 0);
			lws_callback_on_writable(wsi);
		}
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE: {
		struct message *m = s ? s->head : NULL;
		if (!m)
			break;
		int n = lws_write(wsi, m->data + LWS_PRE, m->len, (enum lws_write_protocol)m->flags);
		if (n < (int)m->len)
			return -1;
		s->head = m->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		free(m);
		if (s->queued == PAUSE_AT - 1)
			lws_rx_flow_control(wsi, 1);
		if (s->head)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLOSED:
		/* Also called for connections that never upgraded: no session then. */
		if (s)
			drop_all(s);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "wsspec-echo", callback_echo, sizeof(struct session), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static const struct lws_extension extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	  "permessage-deflate; client_no_context_takeover; client_max_window_bits" },
	{ NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *context;
	int port = 0, deflate = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-deflate"))
			deflate = 0;
		else if (!strcmp(argv[i], "--per-fragment"))
			per_fragment = 1;
		else {
			fprintf(stderr, "usage: %s --port N [--no-deflate] [--per-fragment]\n", argv[0]);
			return 2;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "usage: %s --port N [--no-deflate] [--per-fragment]\n", argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);

	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	if (deflate)
		info.extensions = extensions;
	/* The service buffer size and options of the library's minimal echo example. */
	info.pt_serv_buf_size = 32 * 1024;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;

	context = lws_create_context(&info);
	if (!context) {
		fprintf(stderr, "lws-echo: cannot create the context (port %d)\n", port);
		return 1;
	}
	fprintf(stderr, "lws-echo: libwebsockets %s listening on 127.0.0.1:%d%s\n",
		lws_get_library_version(), port, deflate ? " (permessage-deflate)" : "");
	while (!interrupted)
		if (lws_service(context, 0) < 0)
			break;
	lws_context_destroy(context);
	return 0;
}
