/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tlsfix: the TLS fixture of the --net=builtin tests (mbedtls, Debian's libmbedtls-dev).
 * A server and a client that move a given number of bytes each way over one TLS
 * connection and check every byte: the client sends first, the server checks and sends
 * the same amount back, the client checks. Both generate the stream from one seed, so a
 * lost, repeated, reordered or altered byte is caught at its offset.
 *
 *   tlsfix serve ADDR PORT DIR BYTES    makes a P-256 key and a self-signed certificate
 *                                       (CN=rootlesskit-test), writes it to DIR/cert.pem,
 *                                       then DIR/ready; serves one connection
 *   tlsfix connect ADDR PORT CERT BYTES trusts only CERT, checks the name
 *
 * The client sends close_notify once it has everything; the server waits for it before it
 * ends. Each prints one line, "<role>: sent N bytes, received N bytes intact
 * (<ciphersuite>)", and exits 0, or prints why and exits 1. Every wait is bounded (60 s
 * of silence).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define NAME	   "rootlesskit-test"
#define TIMEOUT_MS 60000
#define CHUNK	   16384

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

static void die(const char *what, int ret)
{
	char msg[200] = "";

	if (ret)
		mbedtls_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "tlsfix: %s%s%s\n", what, ret ? ": " : "", msg);
	exit(1);
}

/* The byte stream: xorshift64, eight bytes a step, from a fixed seed. */
struct stream {
	uint64_t state;
	uint8_t block[8];
	unsigned used;
};

static void stream_init(struct stream *s)
{
	s->state = 0x9e3779b97f4a7c15u;
	s->used = 8;
}

static uint8_t stream_next(struct stream *s)
{
	if (s->used == 8) {
		s->state ^= s->state << 13;
		s->state ^= s->state >> 7;
		s->state ^= s->state << 17;
		memcpy(s->block, &s->state, 8);
		s->used = 0;
	}
	return s->block[s->used++];
}

static void send_stream(mbedtls_ssl_context *ssl, unsigned long long total)
{
	static uint8_t buf[CHUNK];
	struct stream s;
	unsigned long long sent = 0;

	stream_init(&s);
	while (sent < total) {
		size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK, off = 0;
		for (size_t i = 0; i < n; i++)
			buf[i] = stream_next(&s);
		while (off < n) {
			int r = mbedtls_ssl_write(ssl, buf + off, n - off);
			if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ)
				continue;
			if (r < 0)
				die("write", r);
			off += (size_t)r;
		}
		sent += n;
	}
}

static void recv_stream(mbedtls_ssl_context *ssl, unsigned long long total)
{
	static uint8_t buf[CHUNK];
	struct stream s;
	unsigned long long got = 0;

	stream_init(&s);
	while (got < total) {
		size_t want = total - got < CHUNK ? (size_t)(total - got) : CHUNK;
		int r = mbedtls_ssl_read(ssl, buf, want);
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			fprintf(stderr, "tlsfix: the stream ended after %llu of %llu bytes\n", got,
				total);
			exit(1);
		}
		if (r < 0)
			die("read", r);
		for (int i = 0; i < r; i++)
			if (buf[i] != stream_next(&s)) {
				fprintf(stderr, "tlsfix: byte %llu differs\n", got + (unsigned)i);
				exit(1);
			}
		got += (unsigned)r;
	}
}

static void wait_close(mbedtls_ssl_context *ssl)
{
	uint8_t b;
	int r;

	while ((r = mbedtls_ssl_read(ssl, &b, 1)) == MBEDTLS_ERR_SSL_WANT_READ ||
	       r == MBEDTLS_ERR_SSL_WANT_WRITE)
		;
	if (r != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		die("no close_notify from the client", r > 0 ? 0 : r);
}

static unsigned long long parse_bytes(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || !*s)
		die("BYTES must be a number", 0);
	return v;
}

static void write_file(const char *path, const void *data, size_t len)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0 ||
	    rename(tmp, path) < 0)
		die(path, 0);
}

/* A fresh key and a self-signed certificate for NAME, valid as its own trust anchor. */
static void make_cert(mbedtls_pk_context *key, mbedtls_x509_crt *crt, const char *dir)
{
	static unsigned char pem[4096];
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	char path[4096];
	int r;

	r = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (!r)
		r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
					mbedtls_ctr_drbg_random, &drbg);
	if (r)
		die("key", r);
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, key);
	mbedtls_x509write_crt_set_issuer_key(&w, key);
	r = mbedtls_x509write_crt_set_subject_name(&w, "CN=" NAME);
	if (!r)
		r = mbedtls_x509write_crt_set_issuer_name(&w, "CN=" NAME);
	if (!r)
		r = mbedtls_mpi_fill_random(&serial, 16, mbedtls_ctr_drbg_random, &drbg);
	if (!r)
		r = mbedtls_mpi_set_bit(&serial, 127, 0); /* positive */
	if (!r)
		r = mbedtls_x509write_crt_set_serial(&w, &serial);
	if (!r)
		r = mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20491231235959");
	if (!r)
		r = mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0);
	if (!r)
		r = mbedtls_x509write_crt_pem(&w, pem, sizeof(pem), mbedtls_ctr_drbg_random, &drbg);
	if (!r)
		r = mbedtls_x509_crt_parse(crt, pem, strlen((char *)pem) + 1);
	if (r)
		die("certificate", r);
	mbedtls_x509write_crt_free(&w);
	mbedtls_mpi_free(&serial);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	write_file(path, pem, strlen((char *)pem));
}

int main(int argc, char **argv)
{
	mbedtls_net_context listen_ctx, conn;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	unsigned long long total;
	bool server;
	char path[4096];
	int r;

	if (argc != 6 || (strcmp(argv[1], "serve") && strcmp(argv[1], "connect"))) {
		fprintf(stderr, "usage: tlsfix serve ADDR PORT DIR BYTES\n"
				"       tlsfix connect ADDR PORT CERT BYTES\n");
		return 2;
	}
	server = !strcmp(argv[1], "serve");
	total = parse_bytes(argv[5]);
	mbedtls_net_init(&listen_ctx);
	mbedtls_net_init(&conn);
	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_config_init(&conf);
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
				  (const unsigned char *)"tlsfix", 6);
	if (r)
		die("random", r);

	r = mbedtls_ssl_config_defaults(&conf,
					server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r)
		die("config", r);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_read_timeout(&conf, TIMEOUT_MS);
	mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3); /* TLS 1.2 */
	if (server) {
		make_cert(&key, &crt, argv[4]);
		r = mbedtls_ssl_conf_own_cert(&conf, &crt, &key);
		if (r)
			die("own certificate", r);
		r = mbedtls_net_bind(&listen_ctx, argv[2], argv[3], MBEDTLS_NET_PROTO_TCP);
		if (r)
			die("bind", r);
		snprintf(path, sizeof(path), "%s/ready", argv[4]);
		write_file(path, "ready\n", 6);
		r = mbedtls_net_poll(&listen_ctx, MBEDTLS_NET_POLL_READ, TIMEOUT_MS);
		if (r <= 0)
			die("no client came", r);
		r = mbedtls_net_accept(&listen_ctx, &conn, NULL, 0, NULL);
		if (r)
			die("accept", r);
	} else {
		r = mbedtls_x509_crt_parse_file(&crt, argv[4]);
		if (r)
			die("trusted certificate", r);
		mbedtls_ssl_conf_ca_chain(&conf, &crt, NULL);
		mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		r = mbedtls_net_connect(&conn, argv[2], argv[3], MBEDTLS_NET_PROTO_TCP);
		if (r)
			die("connect", r);
	}
	r = mbedtls_ssl_setup(&ssl, &conf);
	if (!r && !server)
		r = mbedtls_ssl_set_hostname(&ssl, NAME);
	if (r)
		die("setup", r);
	mbedtls_ssl_set_bio(&ssl, &conn, mbedtls_net_send, mbedtls_net_recv,
			    mbedtls_net_recv_timeout);
	while ((r = mbedtls_ssl_handshake(&ssl)) != 0)
		if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
			die("handshake", r);

	if (server) {
		recv_stream(&ssl, total);
		send_stream(&ssl, total);
		/* the client's close_notify says all came: only then may this end (a process
		 * that exits first can take unsent data with its namespace) */
		wait_close(&ssl);
	} else {
		send_stream(&ssl, total);
		recv_stream(&ssl, total);
	}
	while ((r = mbedtls_ssl_close_notify(&ssl)) < 0)
		if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
			break;
	printf("%s: sent %llu bytes, received %llu bytes intact (%s)\n",
	       server ? "server" : "client", total, total, mbedtls_ssl_get_ciphersuite(&ssl));

	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&key);
	mbedtls_net_free(&conn);
	mbedtls_net_free(&listen_ctx);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return 0;
}
