/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kapa XDP program on an interface: found by the interface's attached
 * program ID and its maps by name, never by a pinned path, since DPDK's
 * net_af_xdp PMD loads the object itself (xdp_prog=PATH) and pins
 * nothing. See xdp.h and docs/xdp.md.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kapa_xdp.skel.h"
#include "xdp.h"

enum xdp_map_id {
	XDP_M_XSKS,
	XDP_M_PEER,
	XDP_M_PORTS,
	XDP_M_CFG,
	XDP_M_STATS,
	XDP_M_MAX,
};

/* What each map must be for the program to be kapa's, of this layout. */
static const struct {
	const char *name;
	uint32_t type;
	uint32_t value_size;
} xdp_map_spec[XDP_M_MAX] = {
	[XDP_M_XSKS] = { KAPA_XDP_MAP_XSKS, BPF_MAP_TYPE_XSKMAP, sizeof(uint32_t) },
	[XDP_M_PEER] = { KAPA_XDP_MAP_PEER, BPF_MAP_TYPE_DEVMAP, sizeof(uint32_t) },
	[XDP_M_PORTS] = { KAPA_XDP_MAP_PORTS, BPF_MAP_TYPE_ARRAY, sizeof(struct kapa_xdp_ports) },
	[XDP_M_CFG] = { KAPA_XDP_MAP_CFG, BPF_MAP_TYPE_ARRAY, sizeof(struct kapa_xdp_cfg) },
	[XDP_M_STATS] = { KAPA_XDP_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY,
			  sizeof(struct kapa_xdp_stats_rec) },
};

/* Maps of more than this many are not kapa's program anyway. */
#define XDP_MAX_PROG_MAPS 16

/* The program attached to an interface and its maps, opened by ID. */
struct xdp_prog {
	uint32_t id;
	uint32_t mode_flags;	/* XDP_FLAGS_*_MODE it is attached in */
	char name[BPF_OBJ_NAME_LEN];
	int fd[XDP_M_MAX];	/* -1 = not found */
};

static void
xdp_prog_close(struct xdp_prog *xp)
{
	int i;

	for (i = 0; i < XDP_M_MAX; i++) {
		if (xp->fd[i] >= 0)
			close(xp->fd[i]);
		xp->fd[i] = -1;
	}
}

static const char *
xdp_ifname(unsigned int if_index, char *buf)
{
	if (if_indextoname(if_index, buf) == NULL)
		snprintf(buf, IF_NAMESIZE, "#%u", if_index);
	return buf;
}

/* Keep @p map_fd when it is one of kapa's maps; @return 1 when kept, 0
 * when not one of them, -EPROTO when named as one but of another shape. */
static int
xdp_prog_take_map(struct xdp_prog *xp, int map_fd, const char *ifn, char *err, size_t errlen)
{
	struct bpf_map_info mi;
	uint32_t len = sizeof(mi);
	int i;

	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(map_fd, &mi, &len) != 0)
		return 0;
	for (i = 0; i < XDP_M_MAX; i++) {
		if (strcmp(mi.name, xdp_map_spec[i].name) != 0 || xp->fd[i] >= 0)
			continue;
		if (mi.type != xdp_map_spec[i].type || mi.key_size != sizeof(uint32_t) ||
		    mi.value_size != xdp_map_spec[i].value_size) {
			snprintf(err, errlen, "%s: the XDP program '%s' (id %u) has a map '%s' of "
				 "type %u with %u-byte values, where this build expects type %u with "
				 "%u: a kapa_xdp.bpf.o of another version (this is layout %d)",
				 ifn, xp->name, xp->id, mi.name, mi.type, mi.value_size,
				 xdp_map_spec[i].type, xdp_map_spec[i].value_size,
				 KAPA_XDP_ABI_VERSION);
			return -EPROTO;
		}
		xp->fd[i] = map_fd;
		return 1;
	}
	return 0;
}

/*
 * Open the program attached to @p if_index and kapa's maps among its own.
 * @return 0, -ENOENT (nothing attached), -EPROTO (not kapa's), -errno.
 */
static int
xdp_prog_open(unsigned int if_index, struct xdp_prog *xp, char *err, size_t errlen)
{
	uint32_t map_ids[XDP_MAX_PROG_MAPS];
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info pi;
	char ifn[IF_NAMESIZE];
	uint32_t len, i;
	int prog_fd, map_fd, rc;

	memset(xp, 0, sizeof(*xp));
	for (i = 0; i < XDP_M_MAX; i++)
		xp->fd[i] = -1;
	xdp_ifname(if_index, ifn);
	rc = bpf_xdp_query((int)if_index, 0, &q);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot query its XDP program: %s", ifn, strerror(-rc));
		return rc;
	}
	/* One program, in one mode: what DPDK and dp_xdp_attach() leave.
	 * Several (an offloaded one beside another) are none of kapa's. */
	if (q.attach_mode == XDP_ATTACHED_MULTI) {
		snprintf(err, errlen, "%s: several XDP programs attached (native and "
			 "offloaded): not kapa's single program", ifn);
		return -EPROTO;
	}
	xp->id = q.prog_id;
	xp->mode_flags = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
			 q.attach_mode == XDP_ATTACHED_HW ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
	if (xp->id == 0) {
		snprintf(err, errlen, "%s: no XDP program attached", ifn);
		return -ENOENT;
	}
	prog_fd = bpf_prog_get_fd_by_id(xp->id);
	if (prog_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open XDP program id %u: %s", ifn, xp->id,
			 strerror(errno));
		return rc;
	}
	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = XDP_MAX_PROG_MAPS;
	pi.map_ids = (uint64_t)(uintptr_t)map_ids;
	len = sizeof(pi);
	rc = bpf_obj_get_info_by_fd(prog_fd, &pi, &len) != 0 ? -errno : 0;
	close(prog_fd);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot read XDP program id %u: %s", ifn, xp->id,
			 strerror(-rc));
		return rc;
	}
	memcpy(xp->name, pi.name, sizeof(xp->name));
	for (i = 0; i < pi.nr_map_ids && i < XDP_MAX_PROG_MAPS; i++) {
		map_fd = bpf_map_get_fd_by_id(map_ids[i]);
		if (map_fd < 0)
			continue;
		rc = xdp_prog_take_map(xp, map_fd, ifn, err, errlen);
		if (rc <= 0)
			close(map_fd);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < XDP_M_MAX; i++) {
		if (xp->fd[i] < 0) {
			snprintf(err, errlen, "%s: the XDP program attached ('%s', id %u) is not "
				 "kapa's: it has no map '%s' (give kapa-dp's net_af_xdp ports "
				 "xdp_prog=.../kapa_xdp.bpf.o)", ifn, xp->name, xp->id,
				 xdp_map_spec[i].name);
			rc = -EPROTO;
			goto fail;
		}
	}
	return 0;
fail:
	xdp_prog_close(xp);
	return rc;
}

/* Write the port set, the peer, then the configuration record (the switch). */
static int
xdp_maps_fill(const int fd[XDP_M_MAX], const struct dp_xdp_params *p, char *err, size_t errlen)
{
	struct kapa_xdp_ports *ports;
	struct kapa_xdp_cfg cfg;
	char ifn[IF_NAMESIZE], pn[IF_NAMESIZE];
	uint32_t zero = 0, peer = p->peer_if_index, w;
	int rc;

	xdp_ifname(p->if_index, ifn);
	xdp_ifname(p->peer_if_index, pn);
	ports = calloc(1, sizeof(*ports));
	if (ports == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.abi_version = KAPA_XDP_ABI_VERSION;
	cfg.flags = KAPA_XDP_F_CONFIGURED;
	cfg.peer_ifindex = peer;
	if (p->ports == NULL) {
		cfg.flags |= KAPA_XDP_F_ALL_TCP;
	} else {
		memcpy(ports->bits, p->ports, sizeof(ports->bits));
		for (w = 0; w < KAPA_XDP_PORT_WORDS; w++)
			cfg.ports_count += (uint32_t)__builtin_popcountll(ports->bits[w]);
	}
	rc = bpf_map_update_elem(fd[XDP_M_PORTS], &zero, ports, BPF_ANY);
	free(ports);
	if (rc != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot write the port set: %s", ifn, strerror(errno));
		return rc;
	}
	if (bpf_map_update_elem(fd[XDP_M_PEER], &zero, &peer, BPF_ANY) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot make %s its peer: %s", ifn, pn, strerror(errno));
		return rc;
	}
	if (bpf_map_update_elem(fd[XDP_M_CFG], &zero, &cfg, BPF_ANY) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot write the configuration: %s", ifn,
			 strerror(errno));
		return rc;
	}
	return 0;
}

static int
xdp_params_check(const struct dp_xdp_params *p, char *err, size_t errlen)
{
	char ifn[IF_NAMESIZE];

	if (p->if_index == 0 || p->peer_if_index == 0) {
		snprintf(err, errlen, "an XDP setup needs an interface and its peer "
			 "(interface index %u, peer %u)", p->if_index, p->peer_if_index);
		return -EINVAL;
	}
	if (p->if_index == p->peer_if_index) {
		snprintf(err, errlen, "%s cannot be its own peer: give the other interface "
			 "of the bridge", xdp_ifname(p->if_index, ifn));
		return -EINVAL;
	}
	if (if_indextoname(p->peer_if_index, ifn) == NULL) {
		snprintf(err, errlen, "the peer interface (index %u) does not exist",
			 p->peer_if_index);
		return -ENODEV;
	}
	return 0;
}

int
dp_xdp_setup(const struct dp_xdp_params *p, char *err, size_t errlen)
{
	struct xdp_prog xp;
	int rc;

	rc = xdp_params_check(p, err, errlen);
	if (rc != 0)
		return rc;
	rc = xdp_prog_open(p->if_index, &xp, err, errlen);
	if (rc != 0)
		return rc;
	rc = xdp_maps_fill(xp.fd, p, err, errlen);
	xdp_prog_close(&xp);
	return rc;
}

int
dp_xdp_attach(const struct dp_xdp_params *p, int replace, char *err, size_t errlen)
{
	struct kapa_xdp *skel;
	char ifn[IF_NAMESIZE];
	struct xdp_prog xp;
	int fd[XDP_M_MAX];
	int rc;

	rc = xdp_params_check(p, err, errlen);
	if (rc != 0)
		return rc;
	xdp_ifname(p->if_index, ifn);
	rc = xdp_prog_open(p->if_index, &xp, err, errlen);
	if (rc == 0) {
		/* Kapa's already (DPDK's instance after a kill, or ours): set it
		 * up, keep it. */
		rc = xdp_maps_fill(xp.fd, p, err, errlen);
		xdp_prog_close(&xp);
		return rc;
	}
	if (rc == -EPROTO && !replace) {
		snprintf(err, errlen, "%s: another XDP program is attached ('%s', id %u); "
			 "detach it first, or replace it", ifn, xp.name, xp.id);
		return -EBUSY;
	}
	if (rc != -ENOENT && rc != -EPROTO)
		return rc;
	skel = kapa_xdp__open_and_load();
	if (skel == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot load the kapa XDP program: %s", strerror(errno));
		return rc;
	}
	fd[XDP_M_XSKS] = bpf_map__fd(skel->maps.xsks_map);
	fd[XDP_M_PEER] = bpf_map__fd(skel->maps.kapa_xdp_peer);
	fd[XDP_M_PORTS] = bpf_map__fd(skel->maps.kapa_xdp_ports);
	fd[XDP_M_CFG] = bpf_map__fd(skel->maps.kapa_xdp_cfg);
	fd[XDP_M_STATS] = bpf_map__fd(skel->maps.kapa_xdp_stats);
	/* Filled before it is attached: the first frame already finds its peer. */
	rc = xdp_maps_fill(fd, p, err, errlen);
	if (rc == 0) {
		/* No mode flag: native XDP where the driver has it (veth does),
		 * else generic, as DPDK's PMD attaches. Without replace, only
		 * where nothing is attached (another process may have come). */
		rc = bpf_xdp_attach((int)p->if_index, bpf_program__fd(skel->progs.kapa_xdp),
				    replace ? 0 : XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (rc != 0)
			snprintf(err, errlen, "%s: cannot attach the kapa XDP program: %s", ifn,
				 strerror(-rc));
	}
	/* The kernel holds the attached program and its maps: our descriptors
	 * can go. */
	kapa_xdp__destroy(skel);
	return rc;
}

int
dp_xdp_detach(unsigned int if_index, int force, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	char ifn[IF_NAMESIZE];
	struct xdp_prog xp;
	int prog_fd, rc;

	xdp_ifname(if_index, ifn);
	rc = xdp_prog_open(if_index, &xp, err, errlen);
	if (rc == -ENOENT)
		return 0;
	/* Not kapa's, and --force: detach it by the ID read. No ID means
	 * several programs (native and offloaded), which we do not pick from. */
	if (rc != 0 && !(rc == -EPROTO && force && xp.id != 0))
		return rc;
	xdp_prog_close(&xp);
	prog_fd = bpf_prog_get_fd_by_id(xp.id);
	if (prog_fd < 0) {
		/* Gone since we looked: detached by someone else. */
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open XDP program id %u: %s", ifn, xp.id,
			 strerror(errno));
		return rc;
	}
	/* Only the program we looked at, in the mode it is attached in: one
	 * attached since stays. */
	opts.old_prog_fd = prog_fd;
	rc = bpf_xdp_detach((int)if_index, XDP_FLAGS_REPLACE | xp.mode_flags, &opts);
	close(prog_fd);
	if (rc != 0)
		snprintf(err, errlen, "%s: cannot detach XDP program id %u: %s", ifn, xp.id,
			 strerror(-rc));
	return rc;
}

int
dp_xdp_read(unsigned int if_index, struct dp_xdp_state *st, char *err, size_t errlen)
{
	struct kapa_xdp_stats_rec *percpu;
	char ifn[IF_NAMESIZE];
	struct xdp_prog xp;
	uint32_t zero = 0;
	int ncpu, c, rc;

	memset(st, 0, sizeof(*st));
	xdp_ifname(if_index, ifn);
	rc = xdp_prog_open(if_index, &xp, err, errlen);
	if (rc != 0)
		return rc;
	st->prog_id = xp.id;
	snprintf(st->prog_name, sizeof(st->prog_name), "%s", xp.name);
	ncpu = libbpf_num_possible_cpus();
	percpu = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*percpu)) : NULL;
	if (percpu == NULL) {
		rc = ncpu > 0 ? -ENOMEM : ncpu;
		snprintf(err, errlen, "cannot size the per-CPU counters: %s", strerror(-rc));
		goto out;
	}
	if (bpf_map_lookup_elem(xp.fd[XDP_M_CFG], &zero, &st->cfg) != 0 ||
	    bpf_map_lookup_elem(xp.fd[XDP_M_STATS], &zero, percpu) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read the XDP program's maps: %s", ifn,
			 strerror(errno));
		goto out;
	}
	/* Per-CPU values come 8-byte aligned, one record per possible CPU; the
	 * record is a whole number of words, so an array of them is that. */
	for (c = 0; c < ncpu; c++) {
#define XDP_SUM(field, name, help) st->stats.field += percpu[c].field;
		KAPA_XDP_COUNTERS(XDP_SUM)
#undef XDP_SUM
	}
out:
	free(percpu);
	xdp_prog_close(&xp);
	return rc;
}
