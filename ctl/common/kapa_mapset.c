/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Create-or-open kapa's pinned maps: the root directory, a check of what is
 * pinned there against this build, then the skeleton's load, whose
 * LIBBPF_PIN_BY_NAME creates-and-pins each map or reuses the pinned one.
 *
 * Everything pinned is checked before the load because libbpf's own reuse
 * check answers any difference with a bare -EINVAL ("failed to reuse pinned
 * map"); here the operator reads which field or property differs, both
 * values, and what to do.
 *
 * Openers take turns: each holds an exclusive flock() on the root directory
 * from its check to meta filled. Without it, two that start at once both
 * find nothing pinned, and libbpf cannot make that safe: an opener whose
 * load fails (its kapa_conns size lost to the other's) unpins the maps it
 * pinned, even when the other has reused them meanwhile, which leaves the
 * other writing into maps nobody else will find.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kapa_maps.skel.h"
#include "kapa_mapset.h"

#define MS_BPFFS "/sys/fs/bpf"
/** Room left in kapa_mapset::root for "/" and a map name (15 characters). */
#define MS_NAME_ROOM 17
/** Maps of the BPF object this file can track (checked at run time). */
#define MS_MAX_MAPS 16
/** Largest pinned kapa_meta value read to compare its fields. */
#define MS_META_READ_MAX 4096
/** What the pinned kapa_meta said. */
enum ms_meta_state {
	MS_META_NONE,		/**< none pinned: this open creates the maps */
	MS_META_UNFILLED,	/**< pinned, never filled: its creator died starting */
	MS_META_OK,		/**< this build's layout */
};

/** What is pinned under the root, read before the load. */
struct ms_found {
	int meta_idx;			/**< index of kapa_meta among them */
	int conns_idx;			/**< index of kapa_conns among them */
	int pinned[MS_MAX_MAPS];	/**< map i was pinned */
	struct bpf_map_info info[MS_MAX_MAPS];	/**< its properties, when pinned */
	int meta_fd;			/**< the pinned kapa_meta, or -1 */
};

/* What to do about maps another kapa version made; %s is "them" or "it". */
#define MS_REMEDY "another kapa version made %s; stop it and remove the directory (rm -r %s)"

/* Fill err (when given) and return rc: one line per error, for main.c. */
__attribute__((format(printf, 4, 5)))
static int
ms_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen != 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The usual cause of EPERM/EACCES around bpf() and bpffs, for a message. */
static const char *
ms_hint(int rc)
{
	return rc == -EPERM || rc == -EACCES ? " (kapa's maps need root)" : "";
}

static int
ms_not_bpffs(const char *root, char *err, size_t errlen)
{
	struct statfs sfs;

	if (strncmp(root, MS_BPFFS "/", sizeof(MS_BPFFS)) == 0 &&
	    (statfs(MS_BPFFS, &sfs) != 0 || sfs.f_type != BPF_FS_MAGIC))
		return ms_fail(err, errlen, -EINVAL,
			       "bpffs not mounted on " MS_BPFFS ": run scripts/host-prep.sh");
	return ms_fail(err, errlen, -EINVAL,
		       "map root %s is not on bpffs: maps are pinned on a bpffs mount "
		       "(--map-root under " MS_BPFFS ", default " KAPA_MAP_ROOT ")", root);
}

/* The root exists, is a directory on bpffs, mode 0700 when created here
 * (*made = 1). */
static int
ms_root_prepare(const char *root, int *made, char *err, size_t errlen)
{
	char parent[sizeof(((struct kapa_mapset *)0)->root)];
	const char *dir;
	struct statfs sfs;
	struct stat st;
	int rc;

	*made = 0;
	if (root[0] != '/')
		return ms_fail(err, errlen, -EINVAL, "map root '%s' is not an absolute path", root);
	if (strlen(root) >= sizeof(parent) - MS_NAME_ROOM)
		return ms_fail(err, errlen, -ENAMETOOLONG, "map root %.64s... is longer than %zu characters",
			       root, sizeof(parent) - MS_NAME_ROOM - 1);
	if (stat(root, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return ms_fail(err, errlen, -ENOTDIR, "map root %s is not a directory", root);
		if (statfs(root, &sfs) != 0 || sfs.f_type != BPF_FS_MAGIC)
			return ms_not_bpffs(root, err, errlen);
		return 0;
	}
	if (errno != ENOENT) {
		rc = -errno;
		return ms_fail(err, errlen, rc, "map root %s: %s%s", root, strerror(-rc), ms_hint(rc));
	}
	strcpy(parent, root);
	dir = dirname(parent);
	if (statfs(dir, &sfs) != 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return ms_fail(err, errlen, rc, "map root %s: directory %s does not exist",
				       root, dir);
		return ms_fail(err, errlen, rc, "map root %s: %s: %s", root, dir, strerror(-rc));
	}
	if (sfs.f_type != BPF_FS_MAGIC)
		return ms_not_bpffs(root, err, errlen);
	if (mkdir(root, 0700) == 0)
		*made = 1;
	else if (errno != EEXIST) {
		rc = -errno;
		return ms_fail(err, errlen, rc, "cannot create map root %s: %s%s",
			       root, strerror(-rc), ms_hint(rc));
	}
	return 0;
}

static void
ms_found_close(struct ms_found *f)
{
	if (f->meta_fd >= 0)
		close(f->meta_fd);
	f->meta_fd = -1;
}

/* Record which of the object's maps are pinned, and their properties; keep
 * kapa_meta open to read it. */
static int
ms_probe(struct kapa_maps *skel, struct ms_found *f, char *err, size_t errlen)
{
	struct bpf_map *m;
	const char *path;
	__u32 len;
	int i = 0, fd, rc;

	memset(f, 0, sizeof(*f));
	f->meta_fd = -1;
	f->meta_idx = f->conns_idx = -1;
	bpf_object__for_each_map(m, skel->obj) {
		if (i == MS_MAX_MAPS) {
			ms_found_close(f);
			return ms_fail(err, errlen, -E2BIG, "kapa_maps has more than %d maps: "
				       "raise MS_MAX_MAPS in kapa_mapset.c", MS_MAX_MAPS);
		}
		if (m == skel->maps.kapa_meta)
			f->meta_idx = i;
		if (m == skel->maps.kapa_conns)
			f->conns_idx = i;
		path = bpf_map__pin_path(m);
		fd = path != NULL ? bpf_obj_get(path) : -ENOENT;
		if (fd < 0 && fd != -ENOENT) {
			ms_found_close(f);
			return ms_fail(err, errlen, fd, "cannot open pinned map %s: %s%s",
				       path, strerror(-fd), ms_hint(fd));
		}
		if (fd >= 0) {
			len = sizeof(f->info[i]);
			rc = bpf_obj_get_info_by_fd(fd, &f->info[i], &len);
			if (rc != 0) {
				close(fd);
				ms_found_close(f);
				return ms_fail(err, errlen, rc, "cannot read pinned map %s: %s",
					       path, strerror(-rc));
			}
			f->pinned[i] = 1;
			if (m == skel->maps.kapa_meta)
				f->meta_fd = fd;
			else
				close(fd);
		}
		i++;
	}
	return 0;
}

/* kapa_meta's record through the syscall, whatever its pinned value size
 * (up to MS_META_READ_MAX; the fields past it read as 0). */
static int
ms_meta_read(int fd, struct kapa_meta *m)
{
	unsigned char buf[MS_META_READ_MAX];
	__u32 key = 0;
	int rc;

	memset(buf, 0, sizeof(buf));
	rc = bpf_map_lookup_elem(fd, &key, buf);
	if (rc == 0)
		memcpy(m, buf, sizeof(*m));
	return rc;
}

/* The value of a kapa_meta field named by kapa_meta_mismatch(). */
static __u32
ms_meta_field(const struct kapa_meta *m, const char *field)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
#define MS_META_FIELD(f) { #f, offsetof(struct kapa_meta, f) }
		MS_META_FIELD(abi_version), MS_META_FIELD(meta_size), MS_META_FIELD(stats_size),
		MS_META_FIELD(rule_size), MS_META_FIELD(conn_size), MS_META_FIELD(max_workers),
		MS_META_FIELD(max_rules), MS_META_FIELD(max_conns),
#undef MS_META_FIELD
	};
	__u32 v = 0;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].name, field) == 0)
			memcpy(&v, (const char *)m + fields[i].off, sizeof(v));
	return v;
}

/* The refusal of pinned maps whose meta differs from this build's in field. */
static int
ms_meta_refuse(const char *root, const struct kapa_meta *found, const char *field,
	       char *err, size_t errlen)
{
	struct kapa_meta want;

	kapa_meta_init(&want, 0);
	if (strcmp(field, "abi_version") == 0)
		return ms_fail(err, errlen, -EPROTO,
			       "pinned maps under %s: abi_version is %u, this build's is %u: " MS_REMEDY,
			       root, found->abi_version, want.abi_version, "them", root);
	return ms_fail(err, errlen, -EPROTO,
		       "pinned maps under %s: %s is %u, this build's is %u (ABI %u, this build %u): "
		       MS_REMEDY, root, field, ms_meta_field(found, field),
		       ms_meta_field(&want, field), found->abi_version, want.abi_version, "them", root);
}

/*
 * Compare the pinned kapa_meta with this build's layout, before the load.
 * Meta is pinned before it is filled (libbpf pins it during the creator's
 * load, the creator fills it afterwards), and openers take turns, so a meta
 * found unfilled was left by a creator that died in between: this open
 * takes the maps over and fills it.
 */
static int
ms_check_meta(const char *root, const struct ms_found *f, enum ms_meta_state *state,
	      char *err, size_t errlen)
{
	const struct bpf_map_info *info = &f->info[f->meta_idx];
	struct kapa_meta found;
	const char *field;
	int rc;

	*state = MS_META_NONE;
	if (f->meta_fd < 0)
		return 0;
	*state = MS_META_OK;
	/* A meta that cannot be read as one is named by ms_check_maps(). */
	if (info->type != BPF_MAP_TYPE_ARRAY || info->key_size != sizeof(__u32) ||
	    info->value_size > MS_META_READ_MAX)
		return 0;
	rc = ms_meta_read(f->meta_fd, &found);
	if (rc != 0)
		return ms_fail(err, errlen, rc, "cannot read pinned map %s/" KAPA_MAP_META ": %s",
			       root, strerror(-rc));
	if (found.abi_version == 0) {
		*state = MS_META_UNFILLED;
		return 0;
	}
	field = kapa_meta_mismatch(&found);
	return field == NULL ? 0 : ms_meta_refuse(root, &found, field, err, errlen);
}

/* One pinned map against the object's definition of it: what libbpf's reuse
 * check compares, so that its -EINVAL cannot happen after this passed. */
static int
ms_check_map(const char *root, const struct bpf_map *m, const struct bpf_map_info *info,
	     int check_entries, char *err, size_t errlen)
{
	const struct {
		const char *name;
		uint64_t found, want;
		int hex;
	} prop[] = {
		{ "key_size", info->key_size, bpf_map__key_size(m), 0 },
		{ "value_size", info->value_size, bpf_map__value_size(m), 0 },
		{ "max_entries", info->max_entries,
		  check_entries ? bpf_map__max_entries(m) : info->max_entries, 0 },
		{ "map_flags", info->map_flags, bpf_map__map_flags(m), 1 },
		{ "map_extra", info->map_extra, bpf_map__map_extra(m), 1 },
	};
	const char *found_type, *want_type;
	size_t i;

	if (info->type != bpf_map__type(m)) {
		found_type = libbpf_bpf_map_type_str(info->type);
		want_type = libbpf_bpf_map_type_str(bpf_map__type(m));
		return ms_fail(err, errlen, -EPROTO,
			       "pinned map %s/%s: type is %s, this build's is %s: " MS_REMEDY,
			       root, bpf_map__name(m), found_type != NULL ? found_type : "unknown",
			       want_type != NULL ? want_type : "unknown", "it", root);
	}
	for (i = 0; i < sizeof(prop) / sizeof(prop[0]); i++) {
		if (prop[i].found == prop[i].want)
			continue;
		return ms_fail(err, errlen, -EPROTO, prop[i].hex ?
			       "pinned map %s/%s: %s is %#" PRIx64 ", this build's is %#" PRIx64
			       ": " MS_REMEDY :
			       "pinned map %s/%s: %s is %" PRIu64 ", this build's is %" PRIu64
			       ": " MS_REMEDY, root, bpf_map__name(m), prop[i].name,
			       prop[i].found, prop[i].want, "it", root);
	}
	return 0;
}

static int
ms_check_maps(const char *root, struct kapa_maps *skel, const struct ms_found *f,
	      int conns_replace, char *err, size_t errlen)
{
	struct bpf_map *m;
	int i = 0, rc;

	bpf_object__for_each_map(m, skel->obj) {
		if (f->pinned[i]) {
			rc = ms_check_map(root, m, &f->info[i],
					  !(i == f->conns_idx && conns_replace), err, errlen);
			if (rc != 0)
				return rc;
		}
		i++;
	}
	return 0;
}

/* Entries of kapa_conns for this open, and whether the pinned one goes. */
static uint32_t
ms_conns_entries(const struct kapa_mapset_conf *conf, const struct ms_found *f, int *replace)
{
	uint32_t pinned = f->pinned[f->conns_idx] ? f->info[f->conns_idx].max_entries : 0;

	*replace = 0;
	if (pinned == 0)
		return conf->max_conns != 0 ? conf->max_conns : KAPA_CONNS_DEFAULT;
	if (conf->own_conns && conf->max_conns != 0 && conf->max_conns != pinned) {
		*replace = 1;
		return conf->max_conns;
	}
	return pinned;
}

/* Bytes the kernel maps for a BPF_F_MMAPABLE array: values 8-byte aligned,
 * the whole rounded up to pages. */
static size_t
ms_mmap_len(size_t value_size, uint32_t entries)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = ((value_size + 7) & ~(size_t)7) * entries;

	return (len + page - 1) & ~(page - 1);
}

static void *
ms_mmap(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Keep the maps as dups of the skeleton's fds, and destroy the skeleton: a
 * map lives while an fd, a pin or a mapping refers to it, so the dups keep
 * each map alive after kapa_maps__destroy() closes the object's own fds.
 * The set then holds no libbpf object (nor its copy of the ELF and BTF), and
 * kapa_mapset.h needs no skeleton. Reopening the pins with bpf_obj_get()
 * would do as well, but could meet a map that another opener pinned over
 * one unpinned in between; a dup is the map this open checked and loaded.
 */
static int
ms_take(struct kapa_mapset *ms, struct kapa_maps *skel, char *err, size_t errlen)
{
	int *const fds[] = {
		&ms->meta_fd, &ms->stats_fd, &ms->rules_fd, &ms->conns_fd,
		&ms->ctl_fd, &ms->prog_fd, &ms->hist_fd,
	};
	const struct bpf_map *const maps[] = {
		skel->maps.kapa_meta, skel->maps.kapa_stats, skel->maps.kapa_rules,
		skel->maps.kapa_conns, skel->maps.kapa_ctl, skel->maps.kapa_prog,
		skel->maps.kapa_hist,
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		*fds[i] = fcntl(bpf_map__fd(maps[i]), F_DUPFD_CLOEXEC, 0);
		if (*fds[i] < 0) {
			rc = -errno;
			return ms_fail(err, errlen, rc, "cannot keep map %s: %s",
				       bpf_map__name(maps[i]), strerror(-rc));
		}
	}
	ms->max_conns = bpf_map__max_entries(skel->maps.kapa_conns);
	ms->meta_len = ms_mmap_len(sizeof(*ms->meta), 1);
	ms->stats_len = ms_mmap_len(sizeof(*ms->stats), KAPA_MAX_WORKERS);
	ms->conns_len = ms_mmap_len(sizeof(*ms->conns), ms->max_conns);
	ms->ctl_len = ms_mmap_len(sizeof(*ms->ctl), 1);
	ms->prog_len = ms_mmap_len(sizeof(*ms->prog), 1);
	ms->hist_len = ms_mmap_len(sizeof(*ms->hist), KAPA_MAX_WORKERS);
	ms->meta = ms_mmap(ms->meta_fd, ms->meta_len);
	if (ms->meta != NULL)
		ms->stats = ms_mmap(ms->stats_fd, ms->stats_len);
	if (ms->stats != NULL)
		ms->conns = ms_mmap(ms->conns_fd, ms->conns_len);
	if (ms->conns != NULL)
		ms->ctl = ms_mmap(ms->ctl_fd, ms->ctl_len);
	if (ms->ctl != NULL)
		ms->prog = ms_mmap(ms->prog_fd, ms->prog_len);
	if (ms->prog != NULL)
		ms->hist = ms_mmap(ms->hist_fd, ms->hist_len);
	if (ms->hist == NULL) {
		rc = -errno;
		return ms_fail(err, errlen, rc, "cannot map kapa's maps under %s into memory: %s",
			       ms->root, strerror(-rc));
	}
	return 0;
}

/*
 * After the load: fill meta as the maps' creator (abi_version last, which
 * marks it filled), or make its max_conns follow the live map's size, since
 * kapad reads the capacity from it: kapa_conns was replaced, or created
 * again after it was removed.
 */
static void
ms_meta_settle(struct kapa_mapset *ms, enum ms_meta_state state)
{
	const size_t first = offsetof(struct kapa_meta, meta_size);
	struct kapa_meta init;

	if (state != MS_META_OK) {
		kapa_meta_init(&init, ms->max_conns);
		memcpy((char *)ms->meta + first, (const char *)&init + first, sizeof(init) - first);
		__atomic_store_n(&ms->meta->abi_version, init.abi_version, __ATOMIC_RELEASE);
		ms->created = 1;
	} else if (ms->meta->max_conns != ms->max_conns) {
		ms->meta->max_conns = ms->max_conns;
	}
}

/* Wait for the other openers' turns: an exclusive flock() on the root, held
 * through the returned fd until ms_unlock(). */
static int
ms_lock(const char *root, char *err, size_t errlen)
{
	int fd, rc;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		return ms_fail(err, errlen, rc, "map root %s: %s%s", root, strerror(-rc), ms_hint(rc));
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		rc = -errno;
		close(fd);
		return ms_fail(err, errlen, rc, "cannot lock map root %s: %s", root, strerror(-rc));
	}
	return fd;
}

static void
ms_unlock(int lock_fd)
{
	close(lock_fd);	/* drops the flock */
}

static void
ms_reset(struct kapa_mapset *ms)
{
	ms->meta_fd = ms->stats_fd = ms->rules_fd = ms->conns_fd = -1;
	ms->ctl_fd = ms->prog_fd = ms->hist_fd = -1;
	ms->meta = NULL;
	ms->stats = NULL;
	ms->conns = NULL;
	ms->ctl = NULL;
	ms->prog = NULL;
	ms->hist = NULL;
	ms->max_conns = 0;
	ms->meta_len = ms->stats_len = ms->conns_len = 0;
	ms->ctl_len = ms->prog_len = ms->hist_len = 0;
	ms->created = 0;
	ms->conns_replaced = 0;
}

/* kapa_mapset_open() past the root's checks, in this opener's turn. */
static int
ms_open_locked(struct kapa_mapset *ms, const struct kapa_mapset_conf *conf,
	       char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = ms->root);
	enum ms_meta_state meta_state;
	struct kapa_maps *skel;
	struct ms_found found;
	uint32_t conns;
	int replace, rc;

	skel = kapa_maps__open_opts(&opts);
	if (skel == NULL) {
		rc = -errno;
		return ms_fail(err, errlen, rc, "cannot open the BPF object kapa_maps: %s",
			       strerror(-rc));
	}
	rc = ms_probe(skel, &found, err, errlen);
	if (rc != 0)
		goto fail;
	rc = ms_check_meta(ms->root, &found, &meta_state, err, errlen);
	ms_found_close(&found);
	if (rc != 0)
		goto fail;
	conns = ms_conns_entries(conf, &found, &replace);
	rc = bpf_map__set_max_entries(skel->maps.kapa_conns, conns);
	if (rc != 0) {
		ms_fail(err, errlen, rc, "cannot size map kapa_conns to %u entries: %s",
			conns, strerror(-rc));
		goto fail;
	}
	rc = ms_check_maps(ms->root, skel, &found, replace, err, errlen);
	if (rc != 0)
		goto fail;
	/* The old live map goes before the load, which pins the new one at its
	 * name; a load that fails then leaves none, and the next opener creates
	 * it. Its contents mirror a table of another size: nothing is lost. */
	if (replace && unlink(bpf_map__pin_path(skel->maps.kapa_conns)) != 0 && errno != ENOENT) {
		rc = -errno;
		ms_fail(err, errlen, rc, "cannot unpin %s to resize it from %u to %u entries: %s",
			bpf_map__pin_path(skel->maps.kapa_conns),
			found.info[found.conns_idx].max_entries, conns, strerror(-rc));
		goto fail;
	}

	/* A load that fails unpins what it pinned (libbpf). */
	rc = kapa_maps__load(skel);
	if (rc != 0) {
		ms_fail(err, errlen, rc, "cannot create or reuse the maps under %s: %s%s",
			ms->root, strerror(-rc), ms_hint(rc));
		goto fail;
	}
	/* Past the load, a failure leaves the pins: maps this open created
	 * have meta unfilled, and the next opener takes them over. */
	rc = ms_take(ms, skel, err, errlen);
	if (rc != 0) {
		kapa_mapset_close(ms);
		goto fail;
	}
	kapa_maps__destroy(skel);
	ms_meta_settle(ms, meta_state);
	ms->conns_replaced = replace;
	return 0;

fail:
	kapa_maps__destroy(skel);
	return rc;
}

int
kapa_mapset_open(struct kapa_mapset *ms, const struct kapa_mapset_conf *conf,
		 char *err, size_t errlen)
{
	static const struct kapa_mapset_conf defaults;
	const char *root;
	struct stat st;
	int lock_fd, made, rc;

	ms_reset(ms);
	memset(ms->root, 0, sizeof(ms->root));
	if (conf == NULL)
		conf = &defaults;
	root = conf->root != NULL ? conf->root : KAPA_MAP_ROOT;
	/* An unpin that removed the directory before this open's turn came
	 * leaves it locking a directory no path leads to: create it again. */
	do {
		rc = ms_root_prepare(root, &made, err, errlen);
		if (rc != 0)
			return rc;
		lock_fd = ms_lock(root, err, errlen);
		if (lock_fd < 0) {
			if (made)
				rmdir(root);
			return lock_fd;
		}
		if (fstat(lock_fd, &st) == 0 && st.st_nlink != 0)
			break;
		ms_unlock(lock_fd);
	} while (1);
	strcpy(ms->root, root);	/* length checked by ms_root_prepare() */
	rc = ms_open_locked(ms, conf, err, errlen);
	/* A root this open made goes with its failure, when nothing was
	 * pinned there (an opener waiting for its turn makes it again). */
	if (rc != 0 && made)
		rmdir(root);
	ms_unlock(lock_fd);
	if (rc == 0 && err != NULL && errlen != 0)
		err[0] = '\0';
	return rc;
}

void
kapa_mapset_close(struct kapa_mapset *ms)
{
	if (ms->hist != NULL)
		munmap(ms->hist, ms->hist_len);
	if (ms->prog != NULL)
		munmap(ms->prog, ms->prog_len);
	if (ms->ctl != NULL)
		munmap(ms->ctl, ms->ctl_len);
	if (ms->hist_fd >= 0)
		close(ms->hist_fd);
	if (ms->prog_fd >= 0)
		close(ms->prog_fd);
	if (ms->ctl_fd >= 0)
		close(ms->ctl_fd);
	if (ms->conns != NULL)
		munmap(ms->conns, ms->conns_len);
	if (ms->stats != NULL)
		munmap(ms->stats, ms->stats_len);
	if (ms->meta != NULL)
		munmap(ms->meta, ms->meta_len);
	if (ms->conns_fd >= 0)
		close(ms->conns_fd);
	if (ms->rules_fd >= 0)
		close(ms->rules_fd);
	if (ms->stats_fd >= 0)
		close(ms->stats_fd);
	if (ms->meta_fd >= 0)
		close(ms->meta_fd);
	ms_reset(ms);
}

int
kapa_mapset_unpin(const char *root, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct kapa_maps *skel;
	struct statfs sfs;
	struct bpf_map *m;
	const char *path;
	int lock_fd, rc = 0;

	if (root == NULL)
		root = KAPA_MAP_ROOT;
	if (statfs(root, &sfs) != 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return 0;
		return ms_fail(err, errlen, rc, "map root %s: %s", root, strerror(-rc));
	}
	/* Names alone say nothing outside bpffs: remove nothing there. */
	if (sfs.f_type != BPF_FS_MAGIC)
		return ms_not_bpffs(root, err, errlen);
	/* The object, never loaded, lists the maps and builds their pin paths. */
	opts.pin_root_path = root;
	skel = kapa_maps__open_opts(&opts);
	if (skel == NULL) {
		rc = -errno;
		return ms_fail(err, errlen, rc, "cannot open the BPF object kapa_maps: %s",
			       strerror(-rc));
	}
	/* Not in the middle of an opener's turn, which would pin its maps
	 * again, partly, into a directory this removes. */
	lock_fd = ms_lock(root, err, errlen);
	if (lock_fd < 0) {
		kapa_maps__destroy(skel);
		return lock_fd;
	}
	bpf_object__for_each_map(m, skel->obj) {
		path = bpf_map__pin_path(m);
		if (path != NULL && unlink(path) != 0 && errno != ENOENT) {
			rc = -errno;
			ms_fail(err, errlen, rc, "cannot unpin %s: %s%s", path, strerror(-rc), ms_hint(rc));
			break;
		}
	}
	kapa_maps__destroy(skel);
	/* Whatever else is pinned there is not kapa's: the directory stays. */
	if (rc == 0 && rmdir(root) != 0 && errno != ENOTEMPTY && errno != EEXIST &&
	    errno != ENOENT) {
		rc = -errno;
		ms_fail(err, errlen, rc, "cannot remove map root %s: %s", root, strerror(-rc));
	}
	ms_unlock(lock_fd);
	return rc;
}

int
kapa_mapset_follow_conns(struct kapa_mapset *ms)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[sizeof(ms->root) + 32];
	struct kapa_conn_rec *conns;
	size_t conns_len;
	int fd, rc;

	/* No meta: a set built in memory (tests, fuzzing), nothing pinned. */
	if (ms->meta == NULL ||
	    __atomic_load_n(&ms->meta->max_conns, __ATOMIC_ACQUIRE) == ms->max_conns)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", ms->root, KAPA_MAP_CONNS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (rc != 0 || info.value_size != sizeof(*conns)) {
		close(fd);
		return rc != 0 ? rc : -EPROTO;
	}
	conns_len = ms_mmap_len(sizeof(*conns), info.max_entries);
	conns = ms_mmap(fd, conns_len);
	if (conns == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	munmap(ms->conns, ms->conns_len);
	close(ms->conns_fd);
	ms->conns = conns;
	ms->conns_len = conns_len;
	ms->conns_fd = fd;
	ms->max_conns = info.max_entries;
	return 1;
}
