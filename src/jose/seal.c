/* Secrets at rest: the master key, and AES-256-GCM sealing under it. One sealer for
 * everything kept encrypted (signing keys, upstream client secrets); each kind binds its
 * blobs to what they belong to through the associated data, so that a blob moved to
 * another row does not open. */
#include "config.h"

#include "jose/seal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "jose/b64url.h"
#include "util/rand.h"

/* A blob: version byte, 12-byte nonce, ciphertext, 16-byte tag. */
#define SEAL_VERSION 1
#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16

/* ---- master key ---- */

void
master_key_wipe(struct master_key *mk)
{
	OPENSSL_cleanse(mk, sizeof(*mk));
}

int
master_key_ephemeral(struct master_key *mk)
{
	memset(mk, 0, sizeof(*mk));
	if (rand_bytes(mk->bytes, sizeof(mk->bytes)) != 0)
		return -1;
	mk->loaded = 1;
	return 0;
}

int
master_key_load(const char *path, struct master_key *mk, char *err, size_t errlen)
{
	char text[256];
	unsigned char raw[64];
	struct stat sb;
	size_t n = 0, len;
	char *p, *e;
	int fd = -1, rc = -1;
	ssize_t r;

	memset(mk, 0, sizeof(*mk));
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen,
		    "no master key: set MCP_AUTHD_MASTER_KEY_FILE or master_key_file");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "master key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "master key file %s: not a regular file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "master key file %s is accessible by group or others (chmod 600)",
		    path);
		goto out;
	}
	while (n < sizeof(text) - 1 && (r = read(fd, text + n, sizeof(text) - 1 - n)) > 0)
		n += (size_t)r;
	text[n] = '\0';
	p = text;
	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	if (b64std_decode(p, (size_t)(e - p), raw, sizeof(raw), &len) != 0 || len != MASTER_KEY_LEN) {
		snprintf(err, errlen, "master key file %s: expected base64 of %d random bytes", path,
		    MASTER_KEY_LEN);
		goto out;
	}
	memcpy(mk->bytes, raw, MASTER_KEY_LEN);
	mk->loaded = 1;
	rc = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(raw, sizeof(raw));
	close(fd);
	return rc;
}

int
master_key_create(const char *path, struct master_key *mk, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int fd = -1, rc = -1;

	if (master_key_ephemeral(mk) != 0) {
		snprintf(err, errlen, "no randomness");
		return -1;
	}
	if ((text = b64std_encode_new(mk->bytes, MASTER_KEY_LEN)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	len = strlen(text);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "cannot create master key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write master key file %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
	rc = 0;
out:
	if (text != NULL)
		OPENSSL_clear_free(text, len);
	if (rc != 0)
		master_key_wipe(mk);
	return rc;
}

/* ---- sealing ---- */

static int
gcm_run(int enc, const struct master_key *mk, const unsigned char *nonce, const char *aad,
    const unsigned char *in, size_t inlen, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = NULL;
	size_t aadlen = strlen(aad);
	int n, rc = -1;

	if (aadlen > INT32_MAX || inlen > INT32_MAX)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, mk->bytes, nonce, enc) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)aadlen) != 1)
		goto out;
	if (inlen > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)inlen) != 1)
		goto out;
	if (inlen == 0)
		n = 0;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
seal_bytes(const struct master_key *mk, const char *aad, const unsigned char *in, size_t inlen,
    unsigned char **blob, size_t *bloblen)
{
	size_t total = 1 + GCM_NONCE_LEN + inlen + GCM_TAG_LEN;
	unsigned char *b;

	*blob = NULL;
	*bloblen = 0;
	if (!mk->loaded || inlen == 0 || (b = malloc(total)) == NULL)
		return -1;
	b[0] = SEAL_VERSION;
	if (rand_bytes(b + 1, GCM_NONCE_LEN) != 0 ||
	    gcm_run(1, mk, b + 1, aad, in, inlen, b + 1 + GCM_NONCE_LEN,
		b + 1 + GCM_NONCE_LEN + inlen) != 0) {
		OPENSSL_clear_free(b, total);
		return -1;
	}
	*blob = b;
	*bloblen = total;
	return 0;
}

int
unseal_bytes(const struct master_key *mk, const char *aad, const unsigned char *blob,
    size_t bloblen, unsigned char **out, size_t *outlen)
{
	unsigned char *plain, tag[GCM_TAG_LEN];
	size_t n;

	*out = NULL;
	*outlen = 0;
	if (!mk->loaded || bloblen < 1 + GCM_NONCE_LEN + GCM_TAG_LEN + 1 || blob[0] != SEAL_VERSION)
		return -1;
	n = bloblen - 1 - GCM_NONCE_LEN - GCM_TAG_LEN;
	if ((plain = malloc(n)) == NULL)
		return -1;
	memcpy(tag, blob + 1 + GCM_NONCE_LEN + n, GCM_TAG_LEN);
	if (gcm_run(0, mk, blob + 1, aad, blob + 1 + GCM_NONCE_LEN, n, plain, tag) != 0) {
		OPENSSL_clear_free(plain, n);
		return -1;
	}
	*out = plain;
	*outlen = n;
	return 0;
}

/* ---- envelopes: each secret under its own data key ---- */

/* The data key a wrapped key opens to, as a key to seal with. */
static int
open_data_key(const struct master_key *mk, const char *aad, const unsigned char *wrapped,
    size_t wrapped_len, struct master_key *dk)
{
	unsigned char *raw = NULL;
	size_t n = 0;

	memset(dk, 0, sizeof(*dk));
	if (unseal_bytes(mk, aad, wrapped, wrapped_len, &raw, &n) != 0)
		return -1;
	if (n != MASTER_KEY_LEN) {
		OPENSSL_clear_free(raw, n);
		return -1;
	}
	memcpy(dk->bytes, raw, MASTER_KEY_LEN);
	dk->loaded = 1;
	OPENSSL_clear_free(raw, n);
	return 0;
}

int
seal_envelope(const struct master_key *mk, const char *aad, const unsigned char *in,
    size_t inlen, struct sealed_envelope *out)
{
	struct master_key dk;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (master_key_ephemeral(&dk) != 0)
		return -1;
	if (seal_bytes(mk, aad, dk.bytes, MASTER_KEY_LEN, &out->wrapped_key, &out->wrapped_key_len) ==
		0 &&
	    seal_bytes(&dk, aad, in, inlen, &out->sealed, &out->sealed_len) == 0)
		rc = 0;
	master_key_wipe(&dk);
	if (rc != 0)
		sealed_envelope_clear(out);
	return rc;
}

int
unseal_envelope(const struct master_key *mk, const char *aad, const unsigned char *wrapped_key,
    size_t wrapped_key_len, const unsigned char *sealed, size_t sealed_len, unsigned char **out,
    size_t *outlen)
{
	struct master_key dk;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (open_data_key(mk, aad, wrapped_key, wrapped_key_len, &dk) != 0)
		return -1;
	rc = unseal_bytes(&dk, aad, sealed, sealed_len, out, outlen);
	master_key_wipe(&dk);
	return rc;
}

int
rewrap_envelope_key(const struct master_key *old_mk, const struct master_key *new_mk,
    const char *aad, const unsigned char *wrapped_key, size_t wrapped_key_len,
    unsigned char **rewrapped, size_t *rewrapped_len)
{
	struct master_key dk;
	int rc;

	*rewrapped = NULL;
	*rewrapped_len = 0;
	if (open_data_key(old_mk, aad, wrapped_key, wrapped_key_len, &dk) != 0)
		return -1;
	rc = seal_bytes(new_mk, aad, dk.bytes, MASTER_KEY_LEN, rewrapped, rewrapped_len);
	master_key_wipe(&dk);
	return rc;
}

void
sealed_envelope_clear(struct sealed_envelope *e)
{
	if (e->wrapped_key != NULL)
		OPENSSL_clear_free(e->wrapped_key, e->wrapped_key_len);
	if (e->sealed != NULL)
		OPENSSL_clear_free(e->sealed, e->sealed_len);
	memset(e, 0, sizeof(*e));
}
