/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hyperscan side of the HTTP/1.x tracker: one block-mode database of the
 * field-line starts that matter and the end of the header block, compiled
 * once per process; one scratch per worker; no locks on the scan path.
 *
 * Why block mode over header bytes (not streaming mode): see
 * docs/core-http.md. In short, a header block is usually inside one
 * delivery (scanned in place, zero copy); when it is not, it is copied into
 * a bounded buffer and scanned once when complete, which costs less than a
 * streaming call per segment and keeps no per-connection scan state.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <hs.h>

#include "kapa_http_int.h"

/*
 * Field names start right after a LF (the start line's or the previous field
 * line's), so a match can only be a field name, never a value or a longer
 * name such as Proxy-Connection. The tracker checks that ':' follows, and
 * refuses whitespace before it. A framing field name right after a CR that
 * is not a line end is how a bare CR smuggles a field past a parser that
 * does not split lines there: refused too. Bare CRs elsewhere are not looked
 * for by Hyperscan (see kapa_http_int.h for why).
 */
static const char *const pat_expr[KAPA_PAT_MAX] = {
	[KAPA_PAT_END] = "\\n\\r?\\n",
	[KAPA_PAT_CONNECTION] = "\\nconnection",
	[KAPA_PAT_KEEP_ALIVE] = "\\nkeep-alive",
	[KAPA_PAT_CONTENT_LENGTH] = "\\ncontent-length",
	[KAPA_PAT_TRANSFER_ENC] = "\\ntransfer-encoding",
	[KAPA_PAT_CR_CL] = "\\rcontent-length",
	[KAPA_PAT_CR_TE] = "\\rtransfer-encoding",
	[KAPA_PAT_USER_AGENT] = "\\nuser-agent",
};

static const unsigned int pat_flags[KAPA_PAT_MAX] = {
	[KAPA_PAT_END] = HS_FLAG_SINGLEMATCH,
	[KAPA_PAT_CONNECTION] = HS_FLAG_CASELESS,
	[KAPA_PAT_KEEP_ALIVE] = HS_FLAG_CASELESS,
	[KAPA_PAT_CONTENT_LENGTH] = HS_FLAG_CASELESS,
	[KAPA_PAT_TRANSFER_ENC] = HS_FLAG_CASELESS,
	/* One is enough to refuse the block. */
	[KAPA_PAT_CR_CL] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH,
	[KAPA_PAT_CR_TE] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH,
	[KAPA_PAT_USER_AGENT] = HS_FLAG_CASELESS,
};

static const unsigned int pat_ids[KAPA_PAT_MAX] = {
	KAPA_PAT_END, KAPA_PAT_CONNECTION, KAPA_PAT_KEEP_ALIVE,
	KAPA_PAT_CONTENT_LENGTH, KAPA_PAT_TRANSFER_ENC, KAPA_PAT_CR_CL, KAPA_PAT_CR_TE,
	KAPA_PAT_USER_AGENT,
};

static pthread_once_t db_once = PTHREAD_ONCE_INIT;
static hs_database_t *db;
static int db_errno;

static void
db_compile(void)
{
	hs_compile_error_t *cerr = NULL;

	if (hs_compile_multi(pat_expr, pat_flags, pat_ids, KAPA_PAT_MAX,
			     HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
		db = NULL;
		db_errno = EINVAL;
		hs_free_compile_error(cerr);
	}
}

const struct hs_database *
kapa_http_scan_db(void)
{
	pthread_once(&db_once, db_compile);
	if (db == NULL)
		errno = db_errno;
	return db;
}

struct hs_scratch *
kapa_http_scan_scratch(void)
{
	hs_scratch_t *s = NULL;

	if (kapa_http_scan_db() == NULL)
		return NULL;
	if (hs_alloc_scratch(db, &s) != HS_SUCCESS) {
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void
kapa_http_scan_scratch_free(struct hs_scratch *s)
{
	if (s != NULL)
		hs_free_scratch(s);
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
	 unsigned int flags, void *arg)
{
	struct kapa_http_scan_res *r = arg;

	(void)from;
	(void)flags;
	switch (id) {
	case KAPA_PAT_END:
		r->end_found = true;
		r->end = (uint32_t)to;
		return 1;	/* stop: what follows is body or the next message */
	case KAPA_PAT_CR_CL:
	case KAPA_PAT_CR_TE:
		r->bare_cr = true;
		r->bare_cr_at = (uint32_t)to;
		return 0;
	default:
		if (r->n == KAPA_HTTP_SCAN_MAX) {
			r->overflow = true;
			return 0;
		}
		r->m[r->n].to = (uint32_t)to;
		r->m[r->n].id = id;
		r->n++;
		return 0;
	}
}

int
kapa_http_scan_block(struct hs_scratch *s, const uint8_t *p, uint32_t len,
		     struct kapa_http_scan_res *r)
{
	hs_error_t rc;
	uint32_t i, j, k;

	r->n = 0;
	r->overflow = false;
	r->end_found = false;
	r->bare_cr = false;
	r->end = 0;
	if (len == 0)
		return 0;
	rc = hs_scan(db, (const char *)p, len, 0, s, on_match, r);
	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
		return -EIO;
	if (!r->end_found)
		return 0;
	/* Hyperscan reports in end-offset order, but do not depend on it
	 * across patterns: drop what lies past the end, keep offset order. */
	if (r->bare_cr && r->bare_cr_at > r->end)
		r->bare_cr = false;
	for (i = 0, k = 0; i < r->n; i++)
		if (r->m[i].to <= r->end)
			r->m[k++] = r->m[i];
	r->n = k;
	for (i = 1; i < r->n; i++) {
		for (j = i; j > 0 && r->m[j - 1].to > r->m[j].to; j--) {
			uint32_t to = r->m[j].to, id = r->m[j].id;

			r->m[j] = r->m[j - 1];
			r->m[j - 1].to = to;
			r->m[j - 1].id = id;
		}
	}
	return 0;
}

unsigned int
kapa_http_scan_patterns(const char *const **exprs, const unsigned int **flags,
			const unsigned int **ids)
{
	*exprs = pat_expr;
	*flags = pat_flags;
	*ids = pat_ids;
	return KAPA_PAT_MAX;
}
