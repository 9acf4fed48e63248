/* The ceiling of this stack, for comparison in the same run: libmicrohttpd (internal
 * thread pool, epoll) answering every POST with one freshly signed ES256 JWT and every
 * GET with a fixed body; no client authentication, no database, no validation.
 * usage: ceiling PORT THREADS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

static EVP_PKEY *key;
static const char header_b64[] = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImNlaWxpbmciLCJ0eXAiOiJhdCtqd3QifQ";

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = a[(in[i + 1] & 15) << 2];
	}
	out[o] = '\0';
}

static char *
mint(void)
{
	char payload[256], pb[400], input[600], sigb[100], *out;
	unsigned char der[80], raw[64];
	const unsigned char *p = der;
	size_t derlen = sizeof(der);
	const BIGNUM *r, *s;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *sig;
	long now = (long)time(NULL);

	snprintf(payload, sizeof(payload),
	    "{\"iss\":\"http://127.0.0.1\",\"sub\":\"c\",\"aud\":\"https://mcp.example.com/\","
	    "\"client_id\":\"c\",\"iat\":%ld,\"exp\":%ld,\"jti\":\"%ld\"}", now, now + 600, random());
	b64url((unsigned char *)payload, strlen(payload), pb);
	snprintf(input, sizeof(input), "%s.%s", header_b64, pb);
	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(md, der, &derlen, (unsigned char *)input, strlen(input));
	EVP_MD_CTX_free(md);
	sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, raw, 32);
	BN_bn2binpad(s, raw + 32, 32);
	ECDSA_SIG_free(sig);
	b64url(raw, 64, sigb);
	out = malloc(1024);
	snprintf(out, 1024, "{\"access_token\":\"%s.%s\",\"token_type\":\"Bearer\",\"expires_in\":600}",
	    input, sigb);
	return out;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **state)
{
	static int first;
	struct MHD_Response *resp;
	enum MHD_Result r;
	char *body;

	if (*state == NULL) {
		*state = &first;
		return MHD_YES;
	}
	if (*size > 0) {
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0) {
		body = mint();
		resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	} else {
		static const char jwks[] = "{\"keys\":[]}";

		resp = MHD_create_response_from_buffer(sizeof(jwks) - 1, (void *)jwks,
		    MHD_RESPMEM_PERSISTENT);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	r = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;

	if (argc != 3)
		return 2;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    (uint16_t)strtol(argv[1], NULL, 10), NULL, NULL, handler, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)strtol(argv[2], NULL, 10), MHD_OPTION_END);
	if (d == NULL)
		return 1;
	for (;;)
		pause();
}
