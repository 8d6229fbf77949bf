// jwt_make — prints a JWT for the integration tests (auth.sh).
//
//   jwt_make [--alg ALG] [--secret-env VAR] [--forge] PAYLOAD_JSON
//
// The header is {"alg": ALG, "typ": "JWT"} (ALG defaults to HS256). With
// --secret-env the token is signed with HMAC-SHA256 and the secret held
// by variable VAR (whatever ALG says, so that a test can present a
// correctly signed token under a wrong alg); without it the signature is
// empty (alg none). --forge flips a bit of the signature.
#include "../jwt_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	const char *alg     = "HS256";
	const char *env     = NULL;
	const char *payload = NULL;
	bool        forge   = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
			alg = argv[++i];
		} else if (strcmp(argv[i], "--secret-env") == 0 &&
		    i + 1 < argc) {
			env = argv[++i];
		} else if (strcmp(argv[i], "--forge") == 0) {
			forge = true;
		} else if (payload == NULL && argv[i][0] != '-') {
			payload = argv[i];
		} else {
			fprintf(stderr,
			    "usage: jwt_make [--alg ALG] [--secret-env VAR] "
			    "[--forge] PAYLOAD_JSON\n");
			return 2;
		}
	}
	if (payload == NULL) {
		fprintf(stderr, "jwt_make: no payload\n");
		return 2;
	}
	const char *secret = NULL;
	if (env != NULL && (secret = getenv(env)) == NULL) {
		fprintf(stderr, "jwt_make: %s is not set\n", env);
		return 2;
	}
	char header[256];
	snprintf(
	    header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	char *tok = jwt_make(header, payload, (const unsigned char *) secret,
	    secret != NULL ? strlen(secret) : 0, NULL, forge);
	if (tok == NULL) {
		return 1;
	}
	puts(tok);
	free(tok);
	return 0;
}
