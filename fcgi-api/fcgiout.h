/*
 * fcgiout.h: the FastCGI records of one answer, written with one writev:
 * the rendered CGI response as FCGI_STDOUT records, the empty STDOUT record
 * that ends the stream, and FCGI_END_REQUEST. Not for reading requests
 * (libfcgi does that) nor for anything but a finished answer.
 *
 * Why not FCGX_PutStr: libfcgi's writer has a fixed 8 KiB buffer, so a
 * history page (about 10 KiB for 50 messages) left in two or three write()
 * calls, and each one woke the web server (fcgi-api/README.md, "Speed").
 */
#ifndef PIPECHAT_API_FCGIOUT_H
#define PIPECHAT_API_FCGIOUT_H

#include <stddef.h>
#include <sys/uio.h>

#include "err.h"

#define FCGIOUT_HEADER_LEN  8
#define FCGIOUT_RECORD_MAX  65528 /* content per record, a multiple of 8 */
#define FCGIOUT_STDOUT      6
#define FCGIOUT_END_REQUEST 3
/* Records per writev (each takes a header and a content slice, plus the
 * closing pair): more content than this times FCGIOUT_RECORD_MAX is sent
 * in several writev calls. */
#define FCGIOUT_RECORDS 32

/*
 * Fills hdr (8 bytes) with a FastCGI record header: version 1, type,
 * request_id, content length len (at most 65535), no padding.
 */
void fcgiout_header(unsigned char *hdr, int type, int request_id, size_t len);

/*
 * Sends data (len bytes: the whole CGI response) on fd as request_id's
 * STDOUT records, then the empty STDOUT record and END_REQUEST (app status
 * 0, FCGI_REQUEST_COMPLETE), in as few writev calls as FCGIOUT_RECORDS
 * allows (one for up to about 2 MiB). Retries partial writes and EINTR.
 * PC_OK; PC_ERR_SYSTEM (errno set: the web server went away). data is
 * borrowed.
 */
enum pc_err fcgiout_send(int fd, int request_id, const char *data, size_t len);

/*
 * The writev loop of fcgiout_send, for tests: writes iov[0..n) whole,
 * advancing over partial writes (iov is modified). PC_OK or PC_ERR_SYSTEM.
 */
enum pc_err fcgiout_writev_all(int fd, struct iovec *iov, int n);

#endif
