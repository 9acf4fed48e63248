/* Secrets at rest: the master key (a 32-byte file) and AES-256-GCM sealing under it,
 * bound to associated data that names what the secret belongs to. */
#ifndef MCP_JOSE_SEAL_H
#define MCP_JOSE_SEAL_H

#include <stddef.h>

#define MASTER_KEY_LEN 32

/* The longest associated data the callers build. */
#define SEAL_AAD_MAX 256

/* The key-encryption key for everything sealed. Wipe with master_key_wipe. */
struct master_key {
	unsigned char bytes[MASTER_KEY_LEN];
	int loaded;
};

/* Read a master key file: base64 of exactly 32 bytes, surrounding whitespace
 * ignored. The file must not be readable by group or others. On failure err
 * gets a one-line reason. */
int master_key_load(const char *path, struct master_key *mk, char *err, size_t errlen);

/* Create a new master key file (mode 0600, refusing to overwrite) and load it. */
int master_key_create(const char *path, struct master_key *mk, char *err, size_t errlen);

/* A random master key held only in memory (dev mode). */
int master_key_ephemeral(struct master_key *mk);

void master_key_wipe(struct master_key *mk);

/* Seal inlen (> 0) bytes under mk, bound to aad (a NUL-terminated string). *blob is new
 * (free()). */
int seal_bytes(const struct master_key *mk, const char *aad, const unsigned char *in,
    size_t inlen, unsigned char **blob, size_t *bloblen);

/* Open a sealed blob: -1 on a wrong master key, other associated data, or any
 * tampering. *out is new; release it with OPENSSL_clear_free(*out, *outlen). */
int unseal_bytes(const struct master_key *mk, const char *aad, const unsigned char *blob,
    size_t bloblen, unsigned char **out, size_t *outlen);

/* Envelope encryption: a fresh data key seals the secret, the master key seals the data
 * key, both bound to the same associated data. Rotating the master key rewraps only the
 * data keys; a data key never leaves memory unsealed. */
struct sealed_envelope {
	unsigned char *wrapped_key;  /* the data key, sealed under the master key */
	size_t wrapped_key_len;
	unsigned char *sealed;       /* the secret, sealed under the data key */
	size_t sealed_len;
};

int seal_envelope(const struct master_key *mk, const char *aad, const unsigned char *in,
    size_t inlen, struct sealed_envelope *out);

/* -1 on a wrong master key, other associated data or tampering with either blob. *out as
 * for unseal_bytes. */
int unseal_envelope(const struct master_key *mk, const char *aad, const unsigned char *wrapped_key,
    size_t wrapped_key_len, const unsigned char *sealed, size_t sealed_len, unsigned char **out,
    size_t *outlen);

/* The wrapped data key under new_mk instead of old_mk (*rewrapped new). */
int rewrap_envelope_key(const struct master_key *old_mk, const struct master_key *new_mk,
    const char *aad, const unsigned char *wrapped_key, size_t wrapped_key_len,
    unsigned char **rewrapped, size_t *rewrapped_len);

void sealed_envelope_clear(struct sealed_envelope *e);

#endif
