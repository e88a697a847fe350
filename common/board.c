/*
 * board.c: the change board's file and counters (board.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"

/* "pcboard1": says the file is a board of this layout. */
#define BOARD_MARK 0x316472616f626370ULL

/* The file: the mark and `global` on their own cache line, then the rooms. */
struct board_file {
	uint64_t mark;
	uint64_t global;
	uint64_t pad[6];
	uint64_t rooms[PC_BOARD_ROOMS];
};

struct pc_board {
	struct board_file *f;
};

/* Opens (creating) path and gives it the board's size. -1 with errno. */
static int
board_file_open(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) <
	    0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	/* A new file, or one another process is creating right now: both
	 * size it the same, and the zeros are the counters' start. */
	if (st.st_size == 0 &&
	    ftruncate(fd, (off_t)sizeof(struct board_file)) != 0)
		goto fail;
	if (st.st_size != 0 && st.st_size != (off_t)sizeof(struct board_file)) {
		errno = EINVAL;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

enum pc_err
pc_board_open(const char *dir, struct pc_board **out)
{
	char path[256];
	struct pc_board *b = NULL;
	void *map = MAP_FAILED;
	uint64_t mark = 0;
	enum pc_err rc = PC_ERR_SYSTEM;
	int fd = -1, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, PC_BOARD_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return PC_ERR_INVALID;
	if ((fd = board_file_open(path)) < 0) {
		rc = errno == EINVAL ? PC_ERR_INVALID : PC_ERR_SYSTEM;
		goto out;
	}
	map = mmap(NULL, sizeof(struct board_file), PROT_READ | PROT_WRITE,
	           MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto out;
	/* Mark a new board; an old one must carry the mark already. */
	if (!__atomic_compare_exchange_n(&((struct board_file *)map)->mark,
	                                 &mark, BOARD_MARK, 0, __ATOMIC_SEQ_CST,
	                                 __ATOMIC_SEQ_CST) &&
	    mark != BOARD_MARK) {
		rc = PC_ERR_INVALID;
		goto out;
	}
	if ((b = malloc(sizeof(*b))) == NULL) {
		rc = PC_ERR_NOMEM;
		goto out;
	}
	b->f = map;
	map = MAP_FAILED;
	*out = b;
	rc = PC_OK;
out:
	if (map != MAP_FAILED)
		munmap(map, sizeof(struct board_file));
	if (fd >= 0)
		close(fd); /* the mapping stays */
	return rc;
}

void
pc_board_close(struct pc_board *b)
{
	if (b == NULL)
		return;
	munmap(b->f, sizeof(struct board_file));
	free(b);
}

uint64_t
pc_board_global(const struct pc_board *b)
{
	return __atomic_load_n(&b->f->global, __ATOMIC_SEQ_CST);
}

void
pc_board_bump_global(struct pc_board *b)
{
	__atomic_add_fetch(&b->f->global, 1, __ATOMIC_SEQ_CST);
}

uint64_t
pc_board_room(const struct pc_board *b, int64_t room)
{
	return __atomic_load_n(&b->f->rooms[(uint64_t)room % PC_BOARD_ROOMS],
	                       __ATOMIC_SEQ_CST);
}

void
pc_board_bump_room(struct pc_board *b, int64_t room)
{
	__atomic_add_fetch(&b->f->rooms[(uint64_t)room % PC_BOARD_ROOMS], 1,
	                   __ATOMIC_SEQ_CST);
}
