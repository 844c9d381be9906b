/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The client side of kapad's control socket (docs/control-protocol.md):
 * connect, send a request as one line of JSON, read a response line back,
 * each step bounded in time and in size, so that a kapad that hangs or
 * answers with garbage costs a client a clear error, never a hang or an
 * unbounded allocation. kapactl uses it; so do the tests that play a client.
 *
 * Requests and responses are jansson objects. A client may send several
 * requests before reading: bytes received past one response line are kept
 * for the next kapa_client_recv(). Timeouts are in milliseconds; a negative
 * one waits without limit.
 */
#ifndef KAPA_CLIENT_H
#define KAPA_CLIENT_H

#include <stddef.h>

#include <jansson.h>

/** Where kapad serves its control socket unless told otherwise. */
#define KAPA_SOCKET_DEFAULT "/run/kapa/kapad.sock"
/** The longest request line kapad reads, its newline not counted. */
#define KAPA_CLIENT_REQUEST_MAX (256u * 1024)
/** The longest response line a client accepts, its newline not counted
 *  (a `conns` listing of 10000 connections is a few MiB). */
#define KAPA_CLIENT_RESPONSE_MAX (64u * 1024 * 1024)

struct kapa_client;

/**
 * Connect to kapad's socket at @p path.
 * @param timeout_ms  how long to wait for kapad to accept (its backlog full)
 * @return the client, or NULL with errno set and @p err saying what failed,
 *         with which path, and what to do: ENOENT and ECONNREFUSED (is kapad
 *         running?), EACCES and EPERM (be root or in kapad's group),
 *         ETIMEDOUT, ENAMETOOLONG (the path does not fit a socket address),
 *         ENOMEM.
 */
struct kapa_client *kapa_client_connect(const char *path, int timeout_ms, char *err,
					size_t errlen);

/**
 * A client over a socket that is already connected (a socketpair in the
 * tests). The client owns @p fd from now on, and closes it.
 * @return the client, or NULL with errno set (ENOMEM, or fcntl's error).
 */
struct kapa_client *kapa_client_attach(int fd);

/**
 * Send @p req as one line.
 * @return 0; -E2BIG when the line would exceed KAPA_CLIENT_REQUEST_MAX;
 *         -ETIMEDOUT when kapad took none of it for @p timeout_ms;
 *         -EPIPE or another -errno when the connection failed; -ENOMEM.
 *         @p err says which.
 */
int kapa_client_send(struct kapa_client *c, const json_t *req, int timeout_ms, char *err,
		     size_t errlen);

/**
 * Read the next response line, waiting at most @p timeout_ms in all.
 * @param resp  set to the response (a JSON object; the caller decrefs it)
 * @return 0; -ETIMEDOUT when no whole line came in time; -E2BIG when the
 *         line exceeds KAPA_CLIENT_RESPONSE_MAX (the connection is then of
 *         no further use); -ECONNRESET when kapad closed the connection
 *         before a whole line; -EPROTO when the line is not a JSON object;
 *         -ENOMEM; another -errno when reading failed. @p err says which.
 */
int kapa_client_recv(struct kapa_client *c, int timeout_ms, json_t **resp, char *err,
		     size_t errlen);

/**
 * One exchange: send @p req, read its response. When @p req has an `id`,
 * the response must carry the same one (-EPROTO otherwise).
 * @param timeout_ms  for the exchange as a whole
 * @return as kapa_client_send() and kapa_client_recv().
 */
int kapa_client_call(struct kapa_client *c, const json_t *req, int timeout_ms, json_t **resp,
		     char *err, size_t errlen);

/**
 * What a response says: its result when `ok` is true, else kapad's error.
 * @param result  set to the `result` object (borrowed from @p resp; an empty
 *                result reads as NULL)
 * @param code    set to kapad's errno name (borrowed; "EIO" when it sent none)
 * @return 0 when kapad did the command; 1 when kapad refused it (@p err holds
 *         its message, @p code its code); -EPROTO when @p resp is not a
 *         response (@p err says why, @p code is "EPROTO").
 */
int kapa_client_result(const json_t *resp, const json_t **result, const char **code,
		       char *err, size_t errlen);

/** Close the connection and free the client. NULL is a no-op. */
void kapa_client_destroy(struct kapa_client *c);

#endif /* KAPA_CLIENT_H */
