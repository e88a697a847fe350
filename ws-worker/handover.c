/*
 * handover.c: the musl worker passes its connection to pipechat-ws-full
 * (handover.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "handover.h"

const char *
ws_handover_reason(const struct ws_settings *s)
{
	size_t i;

	for (i = 0; i < s->shards.n; i++)
		if (s->shards.s[i].kind != PC_SHARD_IPC)
			return "a tcp:// or tls+tcp:// broker";
	if (s->sandbox_mode != PC_SANDBOX_ON)
		return "the sandbox's trap or log mode";
	return NULL;
}

/* This program's folder into dir (with the slash), from /proc/self/exe or
 * else argv0 when it has a slash. 0 or -1. */
static int
handover_dir(const char *argv0, char *dir, size_t size)
{
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", dir, size - 1);
	if (n > 0 && (size_t)n < size - 1) {
		dir[n] = '\0';
	} else if (argv0 != NULL && strlen(argv0) < size) {
		memcpy(dir, argv0, strlen(argv0) + 1);
	} else {
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		return -1;
	slash[1] = '\0';
	return 0;
}

void
ws_handover(char **argv, const char *reason)
{
	char path[PATH_MAX];
	size_t len;

	if (handover_dir(argv[0], path, sizeof(path)) != 0) {
		fprintf(stderr,
		        "pipechat-ws: %s needs %s, and this "
		        "program's folder is unknown\n",
		        reason, WS_HANDOVER_PROGRAM);
		return;
	}
	len = strlen(path);
	if (len + sizeof(WS_HANDOVER_PROGRAM) > sizeof(path)) {
		fprintf(stderr, "pipechat-ws: path too long\n");
		return;
	}
	memcpy(path + len, WS_HANDOVER_PROGRAM, sizeof(WS_HANDOVER_PROGRAM));
	execv(path, argv);
	fprintf(stderr, "pipechat-ws: %s needs %s: %s: %s\n", reason,
	        WS_HANDOVER_PROGRAM, path, strerror(errno));
}
