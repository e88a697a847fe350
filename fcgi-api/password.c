/*
 * password.c: argon2id hashing and verification behind a counting
 * semaphore (password.h). The semaphore and the dummy hash are this file's
 * own statics, written once by password_init before any thread starts.
 */
#include <errno.h>
#include <semaphore.h>
#include <string.h>

#include "log.h"
#include "password.h"

static sem_t password_slots;
static int password_ready;
static char password_dummy[PASSWORD_HASH_MAX];

static void
password_acquire(void)
{
	while (sem_wait(&password_slots) != 0 && errno == EINTR)
		;
}

static void
password_release(void)
{
	sem_post(&password_slots);
}

enum pc_err
password_init(int concurrency)
{
	unsigned char junk[32];
	int rc;

	if (sodium_init() < 0) {
		pc_log_err("sodium_init failed");
		return PC_ERR_SYSTEM;
	}
	if (concurrency < 1)
		concurrency = 1;
	if (sem_init(&password_slots, 0, (unsigned)concurrency) != 0) {
		pc_log_err("sem_init: %s", strerror(errno));
		return PC_ERR_SYSTEM;
	}
	/* The dummy is a hash of random bytes nobody knows. */
	randombytes_buf(junk, sizeof(junk));
	rc = crypto_pwhash_str_alg(password_dummy, (const char *)junk,
	                           sizeof(junk), PASSWORD_OPSLIMIT,
	                           PASSWORD_MEMLIMIT,
	                           crypto_pwhash_ALG_ARGON2ID13);
	sodium_memzero(junk, sizeof(junk));
	if (rc != 0) {
		sem_destroy(&password_slots);
		pc_log_err("crypto_pwhash_str_alg: out of memory");
		return PC_ERR_NOMEM;
	}
	password_ready = 1;
	return PC_OK;
}

void
password_fini(void)
{
	if (!password_ready)
		return;
	sem_destroy(&password_slots);
	password_ready = 0;
}

enum pc_err
password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
	char tmp[PASSWORD_HASH_MAX];
	int rc;

	password_acquire();
	rc = crypto_pwhash_str_alg(tmp, pw, len, PASSWORD_OPSLIMIT,
	                           PASSWORD_MEMLIMIT,
	                           crypto_pwhash_ALG_ARGON2ID13);
	password_release();
	if (rc != 0) {
		pc_log_err("crypto_pwhash_str_alg: out of memory");
		return PC_ERR_NOMEM;
	}
	memcpy(out, tmp, sizeof(tmp));
	return PC_OK;
}

int
password_verify(const char *hash, const char *pw, size_t len)
{
	int rc;

	password_acquire();
	rc = crypto_pwhash_str_verify(hash, pw, len);
	password_release();
	return rc == 0;
}

int
password_verify_dummy(const char *pw, size_t len)
{
	(void)password_verify(password_dummy, pw, len);
	return 0;
}
