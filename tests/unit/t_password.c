/* argon2id hashing: parameters at OWASP's floor, verification, refusals. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/password.h"
#include "tap.h"

int
main(void)
{
	char *h = NULL, *h2 = NULL, big[PASSWORD_MAX_LEN + 2];

	ok(password_hash_new("correct horse", 13, &h) == 0, "hash");
	ok(h != NULL && strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0,
	    "argon2id, m=19 MiB, t=2, p=1: %s", h ? h : "");
	is_int(password_verify(h, "correct horse", 13), 1, "right password");
	is_int(password_verify(h, "correct horsf", 13), 0, "wrong password");
	is_int(password_verify(h, "correct horse", 12), 0, "prefix is wrong");
	ok(password_hash_new("correct horse", 13, &h2) == 0 && strcmp(h, h2) != 0,
	    "salted: two hashes differ");
	is_int(password_verify("$2b$10$abcdefghijklmnopqrstuv", "x", 1), -1, "not argon2id: refused");
	is_int(password_verify("!", "x", 1), -1, "placeholder never verifies");
	is_int(password_verify(NULL, "x", 1), -1, "no hash");
	memset(big, 'a', sizeof(big));
	is_int(password_verify(h, big, sizeof(big)), -1, "oversized secret refused before hashing");
	free(h2);
	h2 = NULL;
	ok(password_hash_new(big, sizeof(big), &h2) != 0 && h2 == NULL, "oversized not hashed");
	free(h);
	return tap_done();
}
