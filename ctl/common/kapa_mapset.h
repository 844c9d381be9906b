/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Create-or-open kapa's pinned maps (ebpf/kapa_maps.bpf.c), the one code
 * path kapa-dp and kapad both take: whichever starts first creates and pins
 * the maps under the map root, the other reuses them. Pinned maps another
 * kapa version made are refused with a message that names the field or the
 * map property that differs, both values and the remedy, before libbpf gets
 * to refuse them with a bare -EINVAL.
 *
 * The set holds file descriptors and mappings only, no libbpf object: meta,
 * stats and live connections are read and written through memory, the rules
 * through bpf_map_lookup_elem() / bpf_map_update_elem() on rules_fd.
 */
#ifndef KAPA_MAPSET_H
#define KAPA_MAPSET_H

#include <stddef.h>
#include <stdint.h>

#include "kapa_maps.h"

/** What an opener wants of the maps. Zeroed = kapad's defaults. */
struct kapa_mapset_conf {
	/** Map root directory, on bpffs; NULL = KAPA_MAP_ROOT. */
	const char *root;
	/** Entries of KAPA_MAP_CONNS wanted; 0 = whatever is pinned, or
	 *  KAPA_CONNS_DEFAULT when creating. */
	uint32_t max_conns;
	/** 1 for kapa-dp, whose table capacity the live map mirrors: a pinned
	 *  KAPA_MAP_CONNS of another size is unpinned and replaced, and
	 *  meta->max_conns updated (a process that still maps the old one keeps
	 *  the old map until it reopens). 0 for kapad: a pinned KAPA_MAP_CONNS
	 *  is taken at the size found and max_conns is only used to create it. */
	int own_conns;
};

/** kapa's maps, open. Every field is set by kapa_mapset_open(). */
struct kapa_mapset {
	char root[256];			/**< the map root the set was opened under */
	int meta_fd;			/**< KAPA_MAP_META */
	int stats_fd;			/**< KAPA_MAP_STATS */
	int rules_fd;			/**< KAPA_MAP_RULES (not mmapable) */
	int conns_fd;			/**< KAPA_MAP_CONNS */
	int ctl_fd;			/**< KAPA_MAP_CTL */
	int prog_fd;			/**< KAPA_MAP_PROG */
	int hist_fd;			/**< KAPA_MAP_HIST */
	struct kapa_meta *meta;		/**< KAPA_MAP_META's one record, mmapped */
	struct kapa_stats_rec *stats;	/**< KAPA_MAX_WORKERS records, mmapped */
	struct kapa_conn_rec *conns;	/**< max_conns records, mmapped */
	struct kapa_ctl *ctl;		/**< KAPA_MAP_CTL's one record, mmapped */
	struct kapa_prog_rec *prog;	/**< KAPA_MAP_PROG's one record, mmapped */
	struct kapa_hist_rec *hist;	/**< KAPA_MAX_WORKERS records, mmapped */
	uint32_t max_conns;		/**< entries of KAPA_MAP_CONNS */
	size_t meta_len;		/**< mmap length of meta */
	size_t stats_len;		/**< mmap length of stats */
	size_t conns_len;		/**< mmap length of conns */
	size_t ctl_len, prog_len, hist_len;	/**< mmap lengths */
	/** This open made the maps and filled meta: it found none pinned (of
	 *  openers that start at the same moment, exactly one says so), or found
	 *  kapa_meta pinned but left unfilled by an opener that died starting. */
	int created;
	/** own_conns replaced a pinned KAPA_MAP_CONNS of another size. */
	int conns_replaced;
};

/**
 * Create kapa's maps and pin them under the map root, or reuse the pinned
 * ones, and map meta, stats and conns into memory.
 *
 * Creates the root directory (mode 0700) when it is missing. Pinned maps
 * are checked before any is reused: kapa_meta against this build's layout
 * (kapa_meta_mismatch(); max_conns is no incompatibility), then every map's
 * type, key and value size, flags and entries. The maps' creator writes
 * meta (kapa_meta_init()). Opening twice, in one process or two, gives the
 * same maps and the same memory. Openers take turns (an exclusive flock()
 * on the root directory, held only during this call), so of several that
 * start at once exactly one creates.
 *
 * @param ms      the set to fill; left closed (fds -1, no mappings) on error
 * @param conf    what the opener wants; NULL = all defaults (kapad's)
 * @param err     filled on error with one line for an operator (what, which
 *                values, what to do); may be NULL
 * @param errlen  size of @p err
 * @return 0 on success, or:
 *  - -EINVAL: a bad argument (root not absolute), or the root is not on bpffs
 *  - -ENAMETOOLONG: the root path is too long
 *  - -ENOENT: the root's parent directory does not exist
 *  - -EPERM / -EACCES: not allowed to create the root or use bpf() (root or
 *    CAP_BPF needed)
 *  - -ENOTDIR: the root exists and is not a directory
 *  - -EPROTO: pinned maps made by another kapa version (a kapa_meta field,
 *    or a map's type, key or value size, entries or flags differs)
 *  - -E2BIG: the BPF object has more maps than kapa_mapset.c tracks (a
 *    build bug: raise MS_MAX_MAPS)
 *  - another -errno from mkdir(), flock(), bpf() or mmap()
 */
int kapa_mapset_open(struct kapa_mapset *ms, const struct kapa_mapset_conf *conf,
		     char *err, size_t errlen);

/**
 * Unmap and close the set. The pinned maps stay, with their contents, for
 * the next opener. Safe to call again, and on a set kapa_mapset_open()
 * failed on (fds -1, no mappings); not on one never passed to it.
 *
 * @param ms  the set to close
 */
void kapa_mapset_close(struct kapa_mapset *ms);

/**
 * Remove kapa's pinned maps under @p root (the maps of ebpf/kapa_maps.bpf.c,
 * by name) and the directory when that leaves it empty. A map that is open
 * somewhere lives on until its last user closes it. Nothing pinned is no
 * error.
 *
 * @param root    the map root; NULL = KAPA_MAP_ROOT
 * @param err     filled on error with one line for an operator; may be NULL
 * @param errlen  size of @p err
 * @return 0 on success (also when nothing was pinned), or:
 *  - -EINVAL: the root is not on bpffs (nothing is removed there)
 *  - -ENOMEM: the map list could not be read from the BPF object
 *  - another -errno from unlink() or rmdir()
 */
int kapa_mapset_unpin(const char *root, char *err, size_t errlen);

/**
 * Follow a kapa_conns that its owner (kapa-dp) replaced with one of another
 * size since this set was opened (meta->max_conns says so): map the pinned
 * one instead. Only @p ms->conns changes (other threads may keep reading
 * stats, hist and ctl meanwhile).
 * @return 1 when it was replaced and is followed now, 0 when nothing
 *         changed, or -errno (the old mapping stays).
 */
int kapa_mapset_follow_conns(struct kapa_mapset *ms);

#endif /* KAPA_MAPSET_H */
