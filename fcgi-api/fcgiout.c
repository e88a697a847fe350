/*
 * fcgiout.c: one answer's FastCGI records in one writev (fcgiout.h). Not
 * for requests or streaming.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fcgiout.h"

void
fcgiout_header(unsigned char *hdr, int type, int request_id, size_t len)
{
	hdr[0] = 1; /* FCGI_VERSION_1 */
	hdr[1] = (unsigned char)type;
	hdr[2] = (unsigned char)((request_id >> 8) & 0xff);
	hdr[3] = (unsigned char)(request_id & 0xff);
	hdr[4] = (unsigned char)((len >> 8) & 0xff);
	hdr[5] = (unsigned char)(len & 0xff);
	hdr[6] = 0; /* padding: optional, none */
	hdr[7] = 0;
}

enum pc_err
fcgiout_writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t w;

	while (n > 0) {
		w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return PC_ERR_SYSTEM;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0 && w > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return PC_OK;
}

enum pc_err
fcgiout_send(int fd, int request_id, const char *data, size_t len)
{
	unsigned char hdr[FCGIOUT_RECORDS + 2][FCGIOUT_HEADER_LEN];
	unsigned char end[FCGIOUT_HEADER_LEN];
	struct iovec iov[2 * FCGIOUT_RECORDS + 3];
	size_t off = 0, chunk;
	int n, r, last;
	enum pc_err rc;

	memset(end, 0, sizeof(end)); /* END_REQUEST body: status 0, complete */
	do {
		n = 0;
		for (r = 0; r < FCGIOUT_RECORDS && off < len; r++) {
			chunk = len - off;
			if (chunk > FCGIOUT_RECORD_MAX)
				chunk = FCGIOUT_RECORD_MAX;
			fcgiout_header(hdr[r], FCGIOUT_STDOUT, request_id,
			               chunk);
			iov[n].iov_base = hdr[r];
			iov[n++].iov_len = FCGIOUT_HEADER_LEN;
			iov[n].iov_base = (char *)data + off;
			iov[n++].iov_len = chunk;
			off += chunk;
		}
		last = off >= len;
		if (last) {
			fcgiout_header(hdr[r], FCGIOUT_STDOUT, request_id, 0);
			iov[n].iov_base = hdr[r];
			iov[n++].iov_len = FCGIOUT_HEADER_LEN;
			fcgiout_header(hdr[r + 1], FCGIOUT_END_REQUEST,
			               request_id, sizeof(end));
			iov[n].iov_base = hdr[r + 1];
			iov[n++].iov_len = FCGIOUT_HEADER_LEN;
			iov[n].iov_base = end;
			iov[n++].iov_len = sizeof(end);
		}
		if ((rc = fcgiout_writev_all(fd, iov, n)) != PC_OK)
			return rc;
	} while (!last);
	return PC_OK;
}
