/* Who a provider's subject is here: the user known by (provider, subject), a local user
 * a verified email links, or one made just in time. Shared by upstream sign-ins and
 * ID-JAGs, so that both find the same user for the same person. */
#ifndef MCP_OAUTH_FEDUSERS_H
#define MCP_OAUTH_FEDUSERS_H

#include <stdint.h>

#include "store/store.h"

enum fed_user {
	FED_FOUND = 0,       /* known by (provider, subject) */
	FED_LINKED,          /* a local user named by the verified email, now linked */
	FED_CREATED,         /* made just in time (the provider's --jit) */
	FED_UNKNOWN,         /* nobody, and the provider does not create users */
	FED_EMAIL_TAKEN,     /* the email's user signs in through another provider */
	FED_BAD_SUBJECT,     /* not 1..255 printable ASCII characters without spaces */
	FED_STORE_ERROR,
};

/* Find (or link, or create) the user provider p knows as subject, which must be 1..255
 * printable ASCII characters (OpenID Connect Core §2 "sub"; no spaces or controls, which
 * would end up in user names and listings). email (NULL: none)
 * links only when email_verified and p links verified emails; never an unverified one
 * (account takeover). A created user is named "PROVIDER:SUBJECT", which no local name
 * can be (':' is not allowed in them). On FED_FOUND, FED_LINKED and FED_CREATED *u is
 * the user (store_user_clear). */
enum fed_user fed_user_find(struct store *st, const struct store_idp *p, const char *subject,
    const char *email, int email_verified, int64_t now, struct store_user *u);

#endif
