// SPDX-License-Identifier: MIT
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf.h"
#include "etcextract.h"
#include "net.h"
#include "timing.h"
#include "util.h"

#define RESOLVE_INSIDE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static const char *const system_dirs[] = { "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
/* Mounted over by the cell; with system_dirs, where a home cannot be. */
static const char *const cell_dirs[] = { "etc", "tmp", "var/tmp", "run", "dev", "proc" };
/* Not in a cell's /etc at all (rootfs = host): password hashes, the lists
 * of other users (passwd's and group's backups too), every user's
 * subordinate ranges, and the PAM policy with cell.conf. */
static const char *const etc_absent[] = { "shadow",  "shadow-", "gshadow", "gshadow-",
					  "passwd-", "group-",	"subuid",  "subuid-",
					  "subgid",  "subgid-", "security" };
/* The cell's own, generated (build_accounts). */
static const char *const etc_own[] = { "passwd", "group" };
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
/* What ordinary tools read from the host beyond system_dirs, measured with
 * strace: apt list and apt-cache (/var/lib/apt, /var/lib/dpkg), dpkg -l
 * (/var/lib/dpkg), man (/var/cache/man), and third-party software (/opt).
 * Read-only, nosuid, nodev; nothing of other users is in them. Never
 * /var/lib as a whole, /var/spool, /var/mail, /root or /srv's data. */
static const char *const host_extra_dirs[] = { "opt", "var/lib/dpkg", "var/lib/apt",
					       "var/cache/man" };
/* Made by the cell: /var/log (its own, empty records), /var/run (-> /run). */
static const char *const cell_var_dirs[] = { "var/log", "var/run" };

/* Open a path inside the new root; never leaves it, never follows a link. */
static int open_inside(int rootfd, const char *rel, int flags, struct cell_err *e)
{
	struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC),
				.mode = (flags & O_CREAT) ? 0644 : 0,
				.resolve = RESOLVE_INSIDE };
	int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));

	if (fd < 0)
		return cell_err_sys(e, "opening /%s in the cell", rel);
	return fd;
}

/* mkdir -p of rel below rootfd, component by component. */
static int mkdir_inside(int rootfd, const char *rel, struct cell_err *e)
{
	char path[PATH_MAX];
	size_t len = strlen(rel);

	if (len >= sizeof(path))
		return cell_err_set(e, ENAMETOOLONG, "path too long: %s", rel);
	memcpy(path, rel, len + 1);
	for (char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			/* 0755 whatever the login program's umask (pam_umask 077). */
			if (*path && mkdirat(rootfd, path, 0755) == 0) {
				if (fchmodat(rootfd, path, 0755, 0) < 0)
					return cell_err_sys(e, "chmod /%s in the cell", path);
			} else if (*path && errno != EEXIST) {
				return cell_err_sys(e, "mkdir /%s in the cell", path);
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	return 0;
}

int rootfs_fs_new(const char *type, const char *const *opts, unsigned attrs, struct cell_err *e)
{
	_cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
	int mfd;

	if (fsfd < 0)
		return cell_err_sys(e, "fsopen %s", type);
	for (; opts && opts[0]; opts += 2) {
		int r = opts[1] ? fsconfig(fsfd, FSCONFIG_SET_STRING, opts[0], opts[1], 0)
				: fsconfig(fsfd, FSCONFIG_SET_FLAG, opts[0], NULL, 0);

		if (r < 0)
			return cell_err_sys(e, "%s option %s", type, opts[0]);
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return cell_err_sys(e, "creating a %s instance", type);
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		return cell_err_sys(e, "fsmount %s", type);
	return mfd;
}

static int attach(int mfd, int rootfd, const char *rel, struct cell_err *e)
{
	_cleanup_close_ int target = open_inside(rootfd, rel, O_PATH, e);

	if (target < 0)
		return -1;
	if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return cell_err_sys(e, "mounting on /%s in the cell", rel);
	return 0;
}

static int mount_fs(int rootfd, const char *rel, const char *type, const char *const *opts,
		    unsigned attrs, struct cell_err *e)
{
	_cleanup_close_ int mfd = -1;

	if (mkdir_inside(rootfd, rel, e) < 0)
		return -1;
	mfd = rootfs_fs_new(type, opts, attrs, e);
	if (mfd < 0)
		return -1;
	return attach(mfd, rootfd, rel, e);
}

/* Bind a tree (an fd of the caller's choosing) with extra mount attributes. */
static int bind_fd(int srcfd, int rootfd, const char *rel, unsigned attrs, bool recursive,
		   struct cell_err *e)
{
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	struct mount_attr attr = { .attr_set = attrs };
	_cleanup_close_ int tree =
		open_tree(srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);

	if (tree < 0)
		return cell_err_sys(e, "cloning the tree for /%s", rel);
	if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0)
		return cell_err_sys(e, "setting attributes of /%s", rel);
	return attach(tree, rootfd, rel, e);
}

static int bind_system_dirs(int rootfd, const struct rootfs_trees *t, struct cell_err *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++) {
		const char *d = system_dirs[i];

		if (t->sys_link[i][0]) { /* merged /usr: /bin -> usr/bin */
			if (symlinkat(t->sys_link[i], rootfd, d) < 0)
				return cell_err_sys(e, "symlink /%s in the cell", d);
		} else if (t->sys[i] >= 0) {
			if (mkdirat(rootfd, d, 0755) < 0)
				return cell_err_sys(e, "mkdir /%s in the cell", d);
			if (attach(t->sys[i], rootfd, d, e) < 0)
				return -1;
		}
	}
	return 0;
}

static int bind_host_extra(int rootfd, const struct rootfs_trees *t, struct cell_err *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(host_extra_dirs); i++)
		if (t->extra[i] >= 0 && (mkdir_inside(rootfd, host_extra_dirs[i], e) < 0 ||
					 attach(t->extra[i], rootfd, host_extra_dirs[i], e) < 0))
			return -1;
	return 0;
}

/*
 * The cell's scratch space. /tmp, /var/tmp, /run, /dev (/dev/shm in it) and,
 * on the host's tree, /var/log are directories of one tmpfs of tmpfs_size,
 * each bound to its place with its own attributes: one superblock where
 * there were six. A superblock is a tmpfs instance and a shrinker, and every
 * memory cgroup on the host keeps a slot per shrinker, so the kernel's
 * memory grew as cells x superblocks. The cost: the directories share one
 * size limit. statefd is that tmpfs (the root itself on the host's tree).
 */
static int scratch_bind(int rootfd, int statefd, const char *rel, mode_t mode, unsigned attrs,
			struct cell_err *e)
{
	_cleanup_close_ int src = -1;

	/* A fresh tmpfs of PID 1's, before any code of the user's runs. */
	if (mkdir_inside(statefd, rel, e) < 0)
		return -1;
	if (fchmodat(statefd, rel, mode, 0) < 0)
		return cell_err_sys(e, "chmod /%s in the cell", rel);
	src = open_inside(statefd, rel, O_PATH | O_DIRECTORY, e);
	if (src < 0 || mkdir_inside(rootfd, rel, e) < 0)
		return -1;
	return bind_fd(src, rootfd, rel, attrs, false, e);
}

/* A private /var/log with empty login records: last, lastlog and who work
 * and show no other user's logins; /var/run is /run; /srv exists, empty. */
static int build_var(int rootfd, struct cell_err *e)
{
	static const char *const records[] = { "wtmp", "btmp", "lastlog" };
	_cleanup_close_ int logfd = -1;

	if (mkdir_inside(rootfd, "srv", e) < 0 ||
	    scratch_bind(rootfd, rootfd, "var/log", 0755,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e) < 0)
		return -1;
	if (symlinkat("/run", rootfd, "var/run") < 0)
		return cell_err_sys(e, "symlink /var/run in the cell");
	logfd = open_inside(rootfd, "var/log", O_PATH | O_DIRECTORY, e);
	if (logfd < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(records); i++) {
		int fd = openat(logfd, records[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

		if (fd < 0 || fchmod(fd, 0644) < 0) {
			cell_err_sys(e, "creating /var/log/%s in the cell", records[i]);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

int rootfs_home_valid(const char *home, struct cell_err *e)
{
	/* Where a home cannot be: what the cell builds or binds itself. */
	static const char *const *const tables[] = { system_dirs, cell_dirs, host_extra_dirs,
						     cell_var_dirs };
	static const size_t sizes[] = { ARRAY_SIZE(system_dirs), ARRAY_SIZE(cell_dirs),
					ARRAY_SIZE(host_extra_dirs), ARRAY_SIZE(cell_var_dirs) };

	if (home[0] != '/' || strcmp(home, "/") == 0 || strstr(home, "/../") || strstr(home, "/./"))
		return cell_err_set(e, EINVAL,
				    "home directory '%s' is not a clean absolute "
				    "path: fix it with 'usermod -d'",
				    home);
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		for (size_t i = 0; i < sizes[t]; i++) {
			const char *d = tables[t][i];
			size_t l = strlen(d);

			if (strncmp(home + 1, d, l) == 0 &&
			    (home[l + 1] == '/' || home[l + 1] == '\0'))
				return cell_err_set(e, EINVAL,
						    "home directory %s lies in /%s, which "
						    "the cell builds itself: move it with "
						    "'usermod -m -d'",
						    home, d);
		}
	}
	return 0;
}

/* The home, as the user side found it and root cloned it. */
static int bind_home(int rootfd, const struct rootfs_spec *s, const struct rootfs_trees *t,
		     struct cell_err *e)
{
	if (t->home < 0)
		return cell_err_set(e, EPROTO, "the home directory's tree did not come");
	if (mkdir_inside(rootfd, s->home + 1, e) < 0)
		return -1;
	return attach(t->home, rootfd, s->home + 1, e);
}

static int build_dev(int rootfd, int statefd, const struct rootfs_spec *s,
		     const struct rootfs_trees *t, struct cell_err *e)
{
	char pty_max[24];
	const char *pts_opts[] = { "newinstance", NULL,	 "ptmxmode", "0666", "mode",
				   "0620",	  "max", pty_max,    NULL };
	static const char *const links[][2] = { { "pts/ptmx", "ptmx" },
						{ "/proc/self/fd", "fd" },
						{ "/proc/self/fd/0", "stdin" },
						{ "/proc/self/fd/1", "stdout" },
						{ "/proc/self/fd/2", "stderr" } };
	_cleanup_close_ int devfd = -1;

	/* The host's pty pool (kernel.pty.nr) is shared by every cell. */
	snprintf(pty_max, sizeof(pty_max), "%lu", s->pty_max);
	/* nodev too: the nodes are binds of the host's, each its own mount. */
	if (scratch_bind(rootfd, statefd, "dev", 0755,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e) < 0)
		return -1;
	devfd = open_inside(rootfd, "dev", O_PATH | O_DIRECTORY, e);
	if (devfd < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		_cleanup_close_ int f =
			openat(devfd, dev_nodes[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);

		if (f < 0 || t->dev[i] < 0)
			return cell_err_sys(e, "preparing /dev/%s", dev_nodes[i]);
		if (attach(t->dev[i], devfd, dev_nodes[i], e) < 0)
			return -1;
	}
	if (mount_fs(devfd, "pts", "devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e) <
	    0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0)
			return cell_err_sys(e, "symlink /dev/%s", links[i][1]);
	/* /dev/shm: within /dev's bind, so nosuid, nodev and noexec too. */
	if (mkdirat(devfd, "shm", 01777) < 0 || fchmodat(devfd, "shm", 01777, 0) < 0)
		return cell_err_sys(e, "creating /dev/shm in the cell");
	return 0;
}

static bool exists_inside(int rootfd, const char *rel)
{
	struct cell_err e;
	_cleanup_close_ int fd = open_inside(rootfd, rel, O_PATH, &e);

	/* Anything but "not there" is masked (and reported by the mount). */
	return fd >= 0 || e.code != ENOENT;
}

/* ---- the cell's /etc/passwd and /etc/group ---- */

/* An account or group line's id (third field), or -1. */
/* A field of a line we write: no ':' or newline can come through. */
static void put_field(FILE *f, const char *v)
{
	for (; v && *v; v++)
		fputc(*v == ':' || *v == '\n' ? ' ' : *v, f);
}

/* The system accounts (passwd) or groups with their member lists cleared
 * (group: they name people) of the tree at srcfd (the host's / or the
 * image's root), then the user's own line unless a system entry has that
 * id (identity = root: root). Written to outdir, a scratch tmpfs. */
static int write_accounts(int srcfd, bool host, int outdir, const struct rootfs_spec *s,
			  bool groups, struct cell_err *e)
{
	const char *name = groups ? "group" : "passwd";
	char rel[16], line[4096];
	bool have = false;
	long own = groups ? (long)s->gid : (long)s->uid;
	int in_fd, out_fd;
	/* The host's: its system lines as pam_cell kept them, while they are
	 * the host file's (etcextract.c); the same filter runs over them. */
	FILE *in = host && s->sys_accounts[groups] > 2 ? etc_extract_lines(s->sys_accounts[groups])
						       : NULL,
	     *out;

	snprintf(rel, sizeof(rel), "etc/%s", name);
	in_fd = in ? -1 : open_inside(srcfd, rel, O_RDONLY, e);
	/* A tree without one (an image of busybox): the user alone. */
	if (!in && in_fd < 0 && e->code != ENOENT)
		return -1;
	if (in_fd >= 0 && !(in = fdopen(in_fd, "re"))) {
		close(in_fd);
		return cell_err_sys(e, "reading /etc/%s", name);
	}
	out_fd = openat(outdir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	out = out_fd >= 0 ? fdopen(out_fd, "we") : NULL;
	if (!out) {
		cell_err_sys(e, "writing the cell's /etc/%s", name);
		if (in)
			fclose(in);
		if (out_fd >= 0)
			close(out_fd);
		return -1;
	}
	while (in && fgets(line, sizeof(line), in)) {
		if (!etc_system_line(line, groups))
			continue;
		have |= etc_line_id(line) == own;
		fputs(line, out);
	}
	if (!have) {
		put_field(out, groups ? (s->group && *s->group ? s->group : s->user) : s->user);
		if (groups)
			fprintf(out, ":x:%lu:\n", (unsigned long)s->gid);
		else {
			fprintf(out, ":x:%lu:%lu::", (unsigned long)s->uid, (unsigned long)s->gid);
			put_field(out, s->home);
			fputc(':', out);
			put_field(out, s->shell);
			fputc('\n', out);
		}
	}
	if (in)
		fclose(in);
	if (fchmod(out_fd, 0644) < 0 || fflush(out) != 0 || ferror(out)) {
		fclose(out);
		return cell_err_sys(e, "writing the cell's /etc/%s", name);
	}
	fclose(out);
	return 0;
}

/* Detach what was attached for a moment at /NAME and remove the point. */
static int scratch_drop(int rootfd, const char *name, int dir, struct cell_err *e)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", dir);
	if (umount2(path, MNT_DETACH) < 0)
		return cell_err_sys(e, "detaching /%s in the cell", name);
	if (unlinkat(rootfd, name, AT_REMOVEDIR) < 0)
		return cell_err_sys(e, "removing /%s in the cell", name);
	return 0;
}

/* Each file of dir bound read-only over the image's /etc/NAME (a mount
 * point made first where the image has none: never opening, and so never
 * copying up, one it has). */
static int bind_over_etc(int rootfd, int dir, const char *const *names, size_t n,
			 struct cell_err *e)
{
	const unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			       MOUNT_ATTR_NOEXEC;

	if (mkdir_inside(rootfd, "etc", e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int src = -1, dst = -1;
		char rel[32];

		snprintf(rel, sizeof(rel), "etc/%s", names[i]);
		dst = open_inside(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL, e);
		if (dst < 0 && e->code != EEXIST)
			return -1;
		src = open_inside(dir, names[i], O_PATH, e);
		if (src < 0 || bind_fd(src, rootfd, rel, attrs, false, e) < 0)
			return -1;
	}
	return 0;
}

/* The cell's own /etc/hosts and /etc/resolv.conf (own_net), written into
 * dir (a scratch tmpfs or /etc's top layer). */
static const char *const net_files[] = { "hosts", "resolv.conf" };

static int write_net_files(int dir, const struct rootfs_spec *s, struct cell_err *e)
{
	char text[2][1024];

	if (net_hosts_text(s->hostname ? s->hostname : "cell", NULL, text[0], sizeof(text[0])) <
		    0 ||
	    net_resolv_text(s->dns ? s->dns : "", text[1], sizeof(text[1])) < 0)
		return cell_err_set(e, E2BIG, "the cell's /etc/hosts or resolv.conf is too long");
	for (size_t i = 0; i < ARRAY_SIZE(net_files); i++) {
		_cleanup_close_ int fd =
			openat(dir, net_files[i],
			       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0 || fchmod(fd, 0644) < 0 || write_all(fd, text[i], strlen(text[i])) < 0)
			return cell_err_sys(e, "writing the cell's /etc/%s", net_files[i]);
	}
	return 0;
}

/* Is rel (below /etc) one of the cell's own network files? */
static bool net_file(const struct rootfs_spec *s, const char *rel)
{
	return s->own_net && (strcmp(rel, "hosts") == 0 || strcmp(rel, "resolv.conf") == 0);
}

/* A directory NAME of the scratch tmpfs statefd that no bind shows whole:
 * the source of files bound one by one. */
static int scratch_dir(int statefd, const char *name, struct cell_err *e)
{
	if (mkdirat(statefd, name, 0700) < 0)
		return cell_err_sys(e, "mkdir %s in the cell's scratch tmpfs", name);
	return open_inside(statefd, name, O_PATH | O_DIRECTORY, e);
}

/* rootfs = image with a network of its own: the files bound over the
 * image's (made first if it has none), as the accounts are. */
static int build_net_files(int rootfd, int statefd, const struct rootfs_spec *s, struct cell_err *e)
{
	_cleanup_close_ int dir = -1;

	if (!s->own_net)
		return 0;
	dir = scratch_dir(statefd, ".netfiles", e);
	if (dir < 0 || write_net_files(dir, s, e) < 0)
		return -1;
	return bind_over_etc(rootfd, dir, net_files, ARRAY_SIZE(net_files), e);
}

/* rootfs = image: generated, then bound read-only over the image's own
 * (made first if the image has none): getent passwd, ls -l and id inside
 * name no other person, and an account from a directory (LDAP, sssd) is
 * known inside, where /etc/passwd lacks it and its daemon's socket is out
 * of reach. */
static int build_accounts(int rootfd, int statefd, const struct rootfs_spec *s, struct cell_err *e)
{
	_cleanup_close_ int dir = -1;

	if (!s->user)
		return 0;
	dir = scratch_dir(statefd, ".accounts", e);
	if (dir < 0 || write_accounts(rootfd, false, dir, s, false, e) < 0 ||
	    write_accounts(rootfd, false, dir, s, true, e) < 0)
		return -1;
	return bind_over_etc(rootfd, dir, etc_own, ARRAY_SIZE(etc_own), e);
}

/* ---- rootfs = host: the host's /etc, as a cell sees it ---- */

static bool in_list(const char *const *list, size_t n, const char *rel)
{
	size_t len = strcspn(rel, "/");

	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncmp(list[i], rel, len) == 0)
			return true;
	return false;
}

/* Whether a path below /etc (relative to it) is the host's to show. */
static bool etc_shown(const char *rel)
{
	return !in_list(etc_absent, ARRAY_SIZE(etc_absent), rel) &&
	       !in_list(etc_own, ARRAY_SIZE(etc_own), rel);
}

/* mountinfo's octal escapes (\040 for a space) undone in place. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

#define ETC_SUBMOUNTS_MAX 64

static int too_many_submounts(struct cell_err *e)
{
	return cell_err_set(e, E2BIG,
			    "more than %d mounts below the host's /etc: rootfs = host cannot show "
			    "them all; give these users rootfs = image:NAME, or mount a directory "
			    "once instead of its files one by one",
			    ETC_SUBMOUNTS_MAX);
}

/* rel (below /etc) into out, the outermost submounts only (a recursive
 * bind brings what lies below them): one inside a listed one is left out,
 * one found later replaces those below it. */
static int submount_add(char **out, int *n, const char *rel, struct cell_err *e)
{
	for (int i = 0; i < *n; i++) {
		size_t l = strlen(out[i]);

		if (strncmp(rel, out[i], l) == 0 && (rel[l] == '/' || rel[l] == '\0'))
			return 0;
	}
	for (int i = 0; i < *n; i++) {
		size_t l = strlen(rel);

		if (strncmp(out[i], rel, l) == 0 && out[i][l] == '/') {
			free(out[i]);
			out[i--] = out[--*n];
		}
	}
	if (*n == ETC_SUBMOUNTS_MAX)
		return too_many_submounts(e);
	if (!(out[*n] = strdup(rel)))
		return cell_err_set(e, ENOMEM, "out of memory");
	++*n;
	return 0;
}

/* Where root's recursive clone of the host's /etc is attached for a while,
 * and that as a mountinfo prefix. */
#define ETC_ALL	       ".host-etc-all"
#define ETC_ALL_PREFIX "/" ETC_ALL "/"

/* The mounts below the clone of the host's /etc (a container's
 * /etc/resolv.conf, say) from PID 1's own /proc/self/mountinfo: its own
 * few mounts, whatever the host's table holds (Linux < 6.8). */
static int etc_submounts_scan(char **out, struct cell_err *e)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return cell_err_sys(e, "reading /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *end;

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		for (int i = 0; i < 4 && p; i++)
			p = (p = strchr(p, ' ')) ? p + 1 : NULL;
		if (!p || !(end = strchr(p, ' ')))
			continue;
		*end = '\0';
		unescape_octal(p);
		if (strncmp(p, ETC_ALL_PREFIX, strlen(ETC_ALL_PREFIX)) != 0 ||
		    !p[strlen(ETC_ALL_PREFIX)])
			continue;
		if (submount_add(out, &n, p + strlen(ETC_ALL_PREFIX), e) < 0) {
			n = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	return n;
}

/* listmount(2) and statmount(2), Linux 6.8: not in this libc's headers
 * (the numbers are the generic table's, x86_64's and arm64's). */
#ifndef SYS_statmount
#define SYS_statmount 457
#endif
#ifndef SYS_listmount
#define SYS_listmount 458
#endif
#define STATX_MNT_ID_UNIQUE_ 0x4000U
#define STATMOUNT_MNT_POINT_ 0x10U
struct mnt_id_req_ {
	uint32_t size, spare;
	uint64_t mnt_id, param;
};
struct statmount_ {
	uint32_t size, spare1;
	uint64_t mask;
	uint32_t sb_dev_major, sb_dev_minor;
	uint64_t sb_magic;
	uint32_t sb_flags, fs_type;
	uint64_t mnt_id, mnt_parent_id;
	uint32_t mnt_id_old, mnt_parent_id_old;
	uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
	uint32_t mnt_root, mnt_point;
	uint64_t spare2[50];
	char str[];
};
/* The kernel grows statmount into the spare words: its strings stay at 512. */
_Static_assert(sizeof(struct statmount_) == 512, "statmount's fixed part is 512 bytes");

/* The mount point of mount id, relative to our root, into buf (PATH_MAX).
 * Returns 0 or an errno value. */
static int mount_point(uint64_t id, char *buf)
{
	static char sm_buf[sizeof(struct statmount_) + 2 * PATH_MAX];
	struct statmount_ *sm = (struct statmount_ *)(void *)sm_buf;
	struct mnt_id_req_ req = { .size = 24, .mnt_id = id, .param = STATMOUNT_MNT_POINT_ };

	if (syscall(SYS_statmount, &req, sm, sizeof(sm_buf), 0) < 0)
		return errno;
	if (!(sm->mask & STATMOUNT_MNT_POINT_) || sm->mnt_point >= sizeof(sm_buf) - sizeof(*sm) ||
	    strnlen(sm->str + sm->mnt_point, PATH_MAX) >= PATH_MAX)
		return ENAMETOOLONG;
	strcpy(buf, sm->str + sm->mnt_point);
	return 0;
}

/* Below the recursive clone attached at probe: its submounts, relative to
 * it, into out. Returns how many, -1 on error, -2 without listmount. */
static int listed_below(int probe, char **out, struct cell_err *e)
{
	static uint64_t ids[ETC_SUBMOUNTS_MAX * 4];
	char base[PATH_MAX], point[PATH_MAX];
	struct statx sx;
	size_t l;
	long got;
	int n = 0, err;

	if (statx(probe, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE_, &sx) < 0)
		return cell_err_sys(e, "statx of the host's /etc");
	if (!(sx.stx_mask & STATX_MNT_ID_UNIQUE_))
		return -2; /* Linux < 6.8 */
	if ((err = mount_point(sx.stx_mnt_id, base)) != 0)
		return err == ENOSYS ? -2 : cell_err_set(e, err, "statmount of the host's /etc");
	got = syscall(SYS_listmount, &(struct mnt_id_req_){ .size = 24, .mnt_id = sx.stx_mnt_id },
		      ids, ARRAY_SIZE(ids), 0);
	if (got < 0)
		return errno == ENOSYS ? -2 : cell_err_sys(e, "listmount of the host's /etc");
	if ((size_t)got == ARRAY_SIZE(ids))
		return too_many_submounts(e);
	l = strlen(base);
	for (long i = 0; i < got; i++) {
		if ((err = mount_point(ids[i], point)) != 0) {
			cell_err_set(e, err, "statmount of a mount below the host's /etc");
			goto fail;
		}
		/* Below base by construction. Anything else would leave a
		 * submount unfound, and the lower layer would show what it hides
		 * on the host: refuse. */
		if (strncmp(point, base, l) != 0 || point[l] != '/' || !point[l + 1]) {
			cell_err_set(e, EINVAL,
				     "listmount named %s as below the host's /etc (%s): "
				     "cannot tell the cell's /etc what to show",
				     point, base);
			goto fail;
		}
		if (submount_add(out, &n, point + l + 1, e) < 0)
			goto fail;
	}
	return n;
fail:
	while (n > 0)
		free(out[--n]);
	return -1;
}

/*
 * The host's /etc submounts, from root's recursive clone of the host's /etc
 * attached at ETC_ALL until build_etc has bound them (*probe: an fd of it):
 * listmount names the mounts below it alone, so this costs as much as /etc
 * has submounts, whatever the host's table holds. Where the kernel lacks
 * listmount, etc_submounts_scan.
 */
static int etc_submounts(int rootfd, int all, char **out, int *probe, struct cell_err *e)
{
	int n;

	if (all < 0)
		return cell_err_set(e, EPROTO, "the host's /etc did not come");
	if (mkdirat(rootfd, ETC_ALL, 0700) < 0)
		return cell_err_sys(e, "mkdir /%s in the cell", ETC_ALL);
	if (attach(all, rootfd, ETC_ALL, e) < 0 ||
	    (*probe = open_inside(rootfd, ETC_ALL, O_PATH | O_DIRECTORY, e)) < 0)
		return -1;
	n = listed_below(*probe, out, e);
	return n == -2 ? etc_submounts_scan(out, e) : n;
}

/* What the top layer holds at rel: a whiteout, an empty directory or file
 * (a mount point for a host submount the host's /etc may lack below it). */
static int etc_top_entry(int top, const char *rel, mode_t type, struct cell_err *e)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(rel, '/');
	int fd;

	if (slash) {
		if ((size_t)(slash - rel) >= sizeof(parent))
			return cell_err_set(e, ENAMETOOLONG, "path too long: /etc/%s", rel);
		memcpy(parent, rel, (size_t)(slash - rel));
		parent[slash - rel] = '\0';
		if (mkdir_inside(top, parent, e) < 0)
			return -1;
	}
	if (S_ISCHR(type)) { /* overlayfs' whiteout: 0/0, allowed in a user namespace */
		if (mknodat(top, rel, S_IFCHR | 0600, 0) < 0 && errno != EEXIST)
			return cell_err_sys(e, "hiding /etc/%s in the cell", rel);
		return 0;
	}
	if (S_ISDIR(type))
		return mkdir_inside(top, rel, e);
	fd = openat(top, rel, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EISDIR)
		return cell_err_sys(e, "a mount point for /etc/%s in the cell", rel);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The host's /etc under a read-only overlayfs whose top layer (the root
 * tmpfs's own /etc, which the overlay then covers: no tmpfs of its own) holds the cell's passwd and group, a whiteout for each of
 * etc_absent and for every config file pam_cell read below /etc: those are
 * absent, not merely unreadable, and nothing is copied. Host mounts below
 * /etc are bound on top, read-only. */
static int build_etc(int rootfd, const struct rootfs_spec *s, const struct rootfs_trees *t,
		     struct cell_err *e)
{
	const unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	/* By path, inside the cell's root (PID 1 is chrooted into it). */
	static const char *const ovl_opts[] = { "lowerdir", "/etc:/.host-etc", "userxattr", NULL,
						NULL };
	_cleanup_close_ int top = -1, ovl = -1, lower = -1, all = -1;
	char *subs[ETC_SUBMOUNTS_MAX];
	int nsubs, rc = -1;

	nsubs = etc_submounts(rootfd, t->etc_all, subs, &all, e);
	if (nsubs < 0)
		return -1;
	/* overlayfs takes its layers by path: attached for a moment. */
	if (mkdirat(rootfd, ".host-etc", 0700) < 0) {
		cell_err_sys(e, "mkdir /.host-etc in the cell");
		goto out;
	}
	if (t->etc < 0) {
		cell_err_set(e, EPROTO, "the host's /etc did not come");
		goto out;
	}
	if (attach(t->etc, rootfd, ".host-etc", e) < 0 ||
	    (lower = open_inside(rootfd, ".host-etc", O_PATH | O_DIRECTORY, e)) < 0)
		goto out;
	if (mkdir_inside(rootfd, "etc", e) < 0)
		goto out;
	top = open_inside(rootfd, "etc", O_PATH | O_DIRECTORY, e);
	if (top < 0 || (s->user && (write_accounts(t->hostroot, true, top, s, false, e) < 0 ||
				    write_accounts(t->hostroot, true, top, s, true, e) < 0)))
		goto out;
	if (s->own_net && write_net_files(top, s, e) < 0)
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(etc_absent); i++)
		if (etc_top_entry(top, etc_absent[i], S_IFCHR, e) < 0)
			goto out;
	for (const char *p = s->hide ? s->hide : ""; *p;) {
		size_t len = strcspn(p, "\n");
		char rel[PATH_MAX];

		if (len > 5 && len < sizeof(rel) && strncmp(p, "/etc/", 5) == 0) {
			memcpy(rel, p + 5, len - 5);
			rel[len - 5] = '\0';
			if (etc_shown(rel) && etc_top_entry(top, rel, S_IFCHR, e) < 0)
				goto out;
		}
		p += len + (p[len] == '\n');
	}
	/* The lower layer shows what lies under each host submount (the
	 * monitor cloned /etc as root): a placeholder covers it here, the
	 * submount itself goes on top below, or the login is refused. */
	for (int i = 0; i < nsubs; i++) {
		struct stat st;

		if (!etc_shown(subs[i]) || net_file(s, subs[i]))
			continue;
		if (fstatat(all, subs[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			cell_err_sys(e, "the host's mount on /etc/%s", subs[i]);
			goto out;
		}
		if (etc_top_entry(top, subs[i], st.st_mode & S_IFMT, e) < 0)
			goto out;
	}
	ovl = rootfs_fs_new("overlay", ovl_opts, attrs, e);
	if (ovl < 0 || attach(ovl, rootfd, "etc", e) < 0 ||
	    scratch_drop(rootfd, ".host-etc", lower, e) < 0)
		goto out;
	for (int i = 0; i < nsubs; i++) {
		char rel[PATH_MAX];
		_cleanup_close_ int src = -1;

		snprintf(rel, sizeof(rel), "etc/%s", subs[i]);
		if (!etc_shown(subs[i]) || net_file(s, subs[i]))
			continue;
		/* In root's clone of root's /etc, not a link (a mount point). */
		src = open_inside(all, subs[i], O_PATH, e);
		if (src < 0 || bind_fd(src, rootfd, rel, attrs, true, e) < 0)
			goto out;
	}
	if (scratch_drop(rootfd, ETC_ALL, all, e) < 0)
		goto out;
	rc = 0;
out:
	for (int i = 0; i < nsubs; i++)
		free(subs[i]);
	return rc;
}

/* ---- binds from the config ---- */

/* A bind line's fields (binds.h): SRC DST MODE DEV INO. */
static int bind_fields(char *line, char **f, struct cell_err *e)
{
	char *save = NULL;

	for (int i = 0; i < 5; i++)
		if (!(f[i] = strtok_r(i ? NULL : line, "\t", &save)))
			return cell_err_set(e, EINVAL, "a malformed bind line");
	return 0;
}

/* Is st still the inode pam_cell checked for this bind (its fields' DEV
 * and INO)? Whoever looks the source up again asks this. */
static int bind_same_inode(char **f, const struct stat *st, struct cell_err *e)
{
	if ((unsigned long long)st->st_dev != strtoull(f[3], NULL, 10) ||
	    (unsigned long long)st->st_ino != strtoull(f[4], NULL, 10))
		return cell_err_set(e, ESTALE,
				    "bind: %s changed between pam_cell's check and the cell's "
				    "mount: refused (something is renaming it: log in again, "
				    "and if it persists ask the admin to check who)",
				    f[0]);
	return 0;
}

/* One resolved bind (binds.h), SRC's tree as root cloned it (the user side
 * looked it up as the user, the monitor checked it is still the inode
 * pam_cell checked): DST is made inside the new root if missing, reached
 * without a symlink and without leaving the root, and must be of SRC's
 * type. */
static int apply_bind(int rootfd, char *line, int tree, struct cell_err *e)
{
	_cleanup_close_ int dst = -1;
	struct stat ss, ds;
	const char *rel;
	char *f[5];

	if (bind_fields(line, f, e) < 0)
		return -1;
	rel = f[1] + 1;
	if (tree < 0 || fstat(tree, &ss) < 0)
		return cell_err_set(e, EPROTO, "bind: the tree of %s did not come", f[0]);
	if (S_ISDIR(ss.st_mode)) {
		if (mkdir_inside(rootfd, rel, e) < 0)
			return cell_err_prefix(e, "bind %s: ", f[1]);
	} else {
		char parent[PATH_MAX], *slash;
		int fd;

		snprintf(parent, sizeof(parent), "%s", rel);
		slash = strrchr(parent, '/');
		if (slash) {
			*slash = '\0';
			if (mkdir_inside(rootfd, parent, e) < 0)
				return cell_err_prefix(e, "bind %s: ", f[1]);
		}
		fd = open_inside(rootfd, rel, O_RDONLY | O_CREAT | O_NOFOLLOW, e);
		if (fd < 0)
			return cell_err_prefix(e, "bind %s: ", f[1]);
		close(fd);
	}
	dst = open_inside(rootfd, rel, O_PATH, e);
	if (dst < 0 || fstat(dst, &ds) < 0)
		return dst < 0 ? -1 : cell_err_sys(e, "fstat %s in the cell", f[1]);
	if ((ds.st_mode & S_IFMT) != (ss.st_mode & S_IFMT))
		return cell_err_set(e, EINVAL,
				    "bind: %s is a %s in the cell, %s is not: choose another "
				    "destination",
				    f[1], S_ISDIR(ds.st_mode) ? "directory" : "file", f[0]);
	return attach(tree, rootfd, rel, e);
}

/* Calls fn(line, i, arg) for each of the resolved bind lines. */
static int each_bind(const char *binds, int (*fn)(char *, size_t, void *), void *arg,
		     struct cell_err *e)
{
	size_t i = 0;

	for (const char *p = binds ? binds : ""; *p; i++) {
		size_t len = strcspn(p, "\n");
		char line[PATH_MAX * 2 + 64];

		if (len >= sizeof(line))
			return cell_err_set(e, E2BIG, "a bind line is too long");
		if (i >= ROOTFS_BINDS_MAX)
			return cell_err_set(e, E2BIG, "more than %d binds", ROOTFS_BINDS_MAX);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		if (fn(line, i, arg) < 0)
			return -1;
	}
	return 0;
}

struct bind_ctx {
	int rootfd;
	const struct rootfs_trees *t;
	struct cell_err *e;
};

static int apply_one(char *line, size_t i, void *arg)
{
	struct bind_ctx *c = arg;

	return apply_bind(c->rootfd, line, i < c->t->nbinds ? c->t->binds[i] : -1, c->e);
}

static int apply_binds(int rootfd, const char *binds, const struct rootfs_trees *t,
		       struct cell_err *e)
{
	struct bind_ctx c = { rootfd, t, e };

	return each_bind(binds, apply_one, &c, e);
}

/* The config files pam_cell read outside /etc (build_etc makes those
 * below it absent): the cell's /dev/null (the host's, bound) bound over
 * each, on a nodev mount (an open fails with EACCES). The cell holds no
 * capability to unmount it. */
static int mask_host_files(int rootfd, const char *hide, struct cell_err *e)
{
	const unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			       MOUNT_ATTR_NOEXEC;
	_cleanup_close_ int null = open_inside(rootfd, "dev/null", O_PATH, e);

	if (null < 0)
		return -1;
	for (const char *p = hide ? hide : ""; *p;) {
		size_t len = strcspn(p, "\n");
		char rel[PATH_MAX];

		if (p[0] == '/' && len > 1 && len < sizeof(rel)) {
			memcpy(rel, p + 1, len - 1);
			rel[len - 1] = '\0';
			if (exists_inside(rootfd, rel) &&
			    bind_fd(null, rootfd, rel, attrs, false, e) < 0)
				return -1;
		}
		p += len + (p[len] == '\n');
	}
	return 0;
}

/* The new root mounted on top of PID 1's root (the template's, or the
 * stage's) and entered with chroot: below it lies only what it covers,
 * which no path from inside it reaches (a ".." from its top crosses back
 * into the topmost mount). No pivot_root, whose walk of every task on the
 * host grows with the host's processes. */
static int enter_on_top(int mfd, struct cell_err *e)
{
	if (move_mount(mfd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return cell_err_sys(e, "mounting the new root");
	if (fchdir(mfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return cell_err_sys(e, "entering the new root");
	return 0;
}

/* Proc views: cell-procfs's files bound over the cell's own /proc/meminfo,
 * loadavg and stat, read-only. Its mount is attached for a moment on
 * /run/.procviews (files are bound only from an attached mount before
 * Linux 6.15) and detached again; the binds stay. Binding looks each file
 * up, so a server that does not answer fails the cell here. */
static int bind_proc_views(int rootfd, int views, struct cell_err *e)
{
	static const char *const files[] = { "meminfo", "loadavg", "stat" };
	const unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			       MOUNT_ATTR_NOEXEC;
	_cleanup_close_ int dir = -1;
	char path[64];

	if (views < 0)
		return 0;
	if (mkdirat(rootfd, "run/.procviews", 0700) < 0 ||
	    attach(views, rootfd, "run/.procviews", e) < 0)
		return cell_err_prefix(e, "proc views: ");
	dir = open_inside(rootfd, "run/.procviews", O_PATH | O_DIRECTORY, e);
	if (dir < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_close_ int src = open_inside(dir, files[i], O_PATH, e);
		char rel[32];

		snprintf(rel, sizeof(rel), "proc/%s", files[i]);
		if (src < 0 || bind_fd(src, rootfd, rel, attrs, false, e) < 0)
			return cell_err_prefix(e, "proc views: ");
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dir);
	if (umount2(path, MNT_DETACH) < 0 || unlinkat(rootfd, "run/.procviews", AT_REMOVEDIR) < 0)
		return cell_err_sys(e, "proc views: detaching the server's mount");
	return 0;
}

/* The cell's own procfs (the template's, of a pid namespace with no
 * process, makes it allowed), first: /proc/self serves the rest. */
static int mount_proc(int rootfd, struct cell_err *e)
{
	static const char *const proc_opts[] = { NULL };

	return mount_fs(rootfd, "proc", "proc", proc_opts,
			MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e);
}

/* What every root gets on top of its system part: the home, fresh /tmp,
 * /var/tmp, /run, /dev from the scratch tmpfs statefd, the config's binds
 * and the proc views. */
static int build_common(int rootfd, int statefd, const struct rootfs_spec *s,
			const struct rootfs_trees *t, struct cell_err *e)
{
	const unsigned nosuid_nodev = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

	if (bind_home(rootfd, s, t, e) < 0 ||
	    scratch_bind(rootfd, statefd, "tmp", 01777, nosuid_nodev, e) < 0 ||
	    scratch_bind(rootfd, statefd, "var/tmp", 01777, nosuid_nodev, e) < 0 ||
	    scratch_bind(rootfd, statefd, "run", 0755, nosuid_nodev, e) < 0 ||
	    build_dev(rootfd, statefd, s, t, e) < 0 || apply_binds(rootfd, s->binds, t, e) < 0)
		return -1;
	return bind_proc_views(rootfd, s->proc_views, e);
}

static int make_read_only(struct cell_err *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return cell_err_sys(e, "making the root read-only");
	return 0;
}

/* The scratch tmpfs's options: tmpfs_size, given as bytes. */
static void scratch_size(const struct rootfs_spec *s, char *buf, size_t size)
{
	snprintf(buf, size, "%llu", s->tmpfs_size);
}

int rootfs_build_host(const struct rootfs_spec *s, const struct rootfs_trees *t, struct cell_err *e)
{
	char size[32];
	const char *root_opts[] = { "size", size, "mode", "0755", NULL };
	_cleanup_close_ int rootfd = -1;

	/* The root is the cell's scratch tmpfs too (read-only once built, its
	 * scratch directories bound writable). */
	scratch_size(s, size, sizeof(size));
	rootfd = rootfs_fs_new("tmpfs", root_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
	if (rootfd < 0 || enter_on_top(rootfd, e) < 0 || mount_proc(rootfd, e) < 0)
		return -1;
	timing_mark("root+proc");
	if (bind_system_dirs(rootfd, t, e) < 0)
		return -1;
	timing_mark("system-dirs");
	if (build_etc(rootfd, s, t, e) < 0)
		return -1;
	timing_mark("etc");
	if (bind_host_extra(rootfd, t, e) < 0 || build_var(rootfd, e) < 0)
		return -1;
	timing_mark("extra+var");
	if (build_common(rootfd, rootfd, s, t, e) < 0 || mask_host_files(rootfd, s->hide, e) < 0)
		return -1;
	timing_mark("home+tmp+dev+hide");
	return make_read_only(e);
}

/* ---- rootfs = image:NAME ---- */

int rootfs_build_image(const struct rootfs_spec *s, const struct rootfs_image *img,
		       const struct rootfs_trees *t, struct cell_err *e)
{
	char stage_size[32], upper[40], work[40], size[32];
	const char *stage_opts[] = { "size", stage_size, "mode", "0700", NULL };
	const char *state_opts[] = { "size", size, "mode", "0755", NULL };
	_cleanup_close_ int stage = -1, rootfd = -1, state = -1;
	bool persistent = img->overlay == OVERLAY_PERSISTENT;
	struct stat st;

	scratch_size(s, size, sizeof(size));
	/* A persistent upper is on disk; the others are this tmpfs. */
	snprintf(stage_size, sizeof(stage_size), "%llu",
		 persistent	  ? 1ULL << 20
		 : img->upper_max ? img->upper_max
				  : s->tmpfs_size); /* upper_max = none: as big as /tmp */
	/* The stage, entered: overlayfs takes its layers by path. The cell's
	 * root goes on top of it and covers it. */
	stage = rootfs_fs_new("tmpfs", stage_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
	if (stage < 0 || enter_on_top(stage, e) < 0)
		return -1;
	if (mkdirat(stage, "lower", 0700) < 0)
		return cell_err_sys(e, "preparing the cell's root");
	if (attach(img->lower, stage, "lower", e) < 0)
		return cell_err_prefix(e, "image %s: ", img->name);
	if (persistent) {
		/* upper/ and work/ are the cell's root's, checked by the monitor. */
		if (mkdirat(stage, "layers", 0700) < 0 ||
		    attach(img->layers, stage, "layers", e) < 0)
			return cell_err_prefix(e, "the upper layer: ");
		snprintf(upper, sizeof(upper), "/layers/upper");
		snprintf(work, sizeof(work), "/layers/work");
	} else {
		if (mkdirat(stage, "upper", 0755) < 0 || mkdirat(stage, "work", 0700) < 0)
			return cell_err_sys(e, "preparing the cell's upper layer");
		/* The root directory is the cell's root's, where it has one. */
		if (fchownat(stage, "upper", 0, 0, 0) < 0 && errno != EINVAL)
			return cell_err_sys(e, "chown of the cell's upper layer");
		snprintf(upper, sizeof(upper), "/upper");
		snprintf(work, sizeof(work), "/work");
	}
	/* The scratch tmpfs, its directories bound into the root: it stays
	 * below the root with the stage, lives on in those binds. */
	if (mount_fs(stage, "state", "tmpfs", state_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e) <
		    0 ||
	    (state = open_inside(stage, "state", O_PATH | O_DIRECTORY, e)) < 0)
		return -1;
	{
		const char *ovl_opts[] = { "lowerdir", "/lower",    "upperdir", upper, "workdir",
					   work,       "userxattr", NULL,	NULL };

		rootfd =
			rootfs_fs_new("overlay", ovl_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
		if (rootfd < 0)
			return cell_err_prefix(e, "image %s: ", img->name);
	}
	if (enter_on_top(rootfd, e) < 0 || mount_proc(rootfd, e) < 0)
		return -1;
	/* identity = root owns its distribution's /etc/passwd; the others see
	 * the image's system accounts and themselves. */
	if ((img->own_accounts ? 0 : build_accounts(rootfd, state, s, e)) < 0 ||
	    build_net_files(rootfd, state, s, e) < 0 || build_common(rootfd, state, s, t, e) < 0 ||
	    (img->overlay == OVERLAY_NONE && make_read_only(e) < 0))
		return -1;
	if (stat(s->shell, &st) < 0 || !S_ISREG(st.st_mode))
		return cell_err_set(e, ENOENT,
				    "image %s has no %s, the profile's shell: set 'shell =' to one "
				    "it has (e.g. /bin/sh)",
				    img->name, s->shell);
	return 0;
}

/* ---- the host's trees, cloned by root (rootfs.h) ---- */

_Static_assert(ARRAY_SIZE(system_dirs) == ROOTFS_SYS_DIRS, "ROOTFS_SYS_DIRS");
_Static_assert(ARRAY_SIZE(host_extra_dirs) == ROOTFS_EXTRA_DIRS, "ROOTFS_EXTRA_DIRS");
_Static_assert(ARRAY_SIZE(dev_nodes) == ROOTFS_DEV_NODES, "ROOTFS_DEV_NODES");

void rootfs_trees_init(struct rootfs_trees *t)
{
	memset(t, 0, sizeof(*t));
	t->hostroot = t->etc = t->etc_all = t->home = -1;
	for (size_t i = 0; i < ROOTFS_SYS_DIRS; i++)
		t->sys[i] = -1;
	for (size_t i = 0; i < ROOTFS_EXTRA_DIRS; i++)
		t->extra[i] = -1;
	for (size_t i = 0; i < ROOTFS_DEV_NODES; i++)
		t->dev[i] = -1;
	for (size_t i = 0; i < ROOTFS_BINDS_MAX; i++)
		t->binds[i] = -1;
}

size_t rootfs_trees_fds(struct rootfs_trees *t, int **out, size_t max)
{
	int *all[ROOTFS_TREES_FDS];
	size_t n = 0, k = 0;

	all[n++] = &t->hostroot;
	all[n++] = &t->etc;
	all[n++] = &t->etc_all;
	all[n++] = &t->home;
	for (size_t i = 0; i < ROOTFS_SYS_DIRS; i++)
		all[n++] = &t->sys[i];
	for (size_t i = 0; i < ROOTFS_EXTRA_DIRS; i++)
		all[n++] = &t->extra[i];
	for (size_t i = 0; i < ROOTFS_DEV_NODES; i++)
		all[n++] = &t->dev[i];
	for (size_t i = 0; i < ROOTFS_BINDS_MAX; i++)
		all[n++] = &t->binds[i];
	for (size_t i = 0; i < n && k < max; i++)
		if (*all[i] >= 0)
			out[k++] = all[i];
	return k;
}

void rootfs_trees_close(struct rootfs_trees *t)
{
	int *fds[ROOTFS_TREES_FDS];
	size_t n = rootfs_trees_fds(t, fds, ARRAY_SIZE(fds));

	for (size_t i = 0; i < n; i++) {
		close(*fds[i]);
		*fds[i] = -1;
	}
}

/*
 * Root's detached clone of the tree at dirfd/path (in root's own mount
 * namespace: open_tree refuses another's), made private so that nothing
 * mounted on either side propagates to the other, with attrs set. Safe:
 * the clone is of what the caller chose, and only narrows it.
 */
static int clone_tree(int dirfd, const char *path, unsigned flags, unsigned attrs,
		      struct cell_err *e)
{
	unsigned rec = flags & AT_RECURSIVE;
	struct mount_attr a = { .attr_set = attrs, .propagation = MS_PRIVATE };
	int tree = open_tree(dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags);

	if (tree < 0)
		return cell_err_sys(e, "cloning %s", *path ? path : "a tree");
	if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &a, sizeof(a)) < 0) {
		cell_err_sys(e, "setting the attributes of %s", *path ? path : "a tree");
		close(tree);
		return -1;
	}
	return tree;
}

int rootfs_clone_host(struct rootfs_trees *t, bool host_rootfs, uid_t uid, struct cell_err *e)
{
	const unsigned ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

	/* Root-owned host paths throughout: resolving them by name is safe. */
	t->hostroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->hostroot < 0)
		return cell_err_sys(e, "opening the host's /");
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		char host[32];

		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		t->dev[i] = clone_tree(AT_FDCWD, host, AT_SYMLINK_NOFOLLOW,
				       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e);
		if (t->dev[i] < 0)
			return -1;
	}
	if (!host_rootfs)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++) {
		char host[64];
		struct stat st;
		ssize_t n;

		snprintf(host, sizeof(host), "/%s", system_dirs[i]);
		if (lstat(host, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return cell_err_sys(e, "lstat %s", host);
		}
		if (S_ISLNK(st.st_mode)) { /* merged /usr: /bin -> usr/bin */
			n = readlink(host, t->sys_link[i], sizeof(t->sys_link[i]));
			if (n < 0)
				return cell_err_sys(e, "readlink %s", host);
			if ((size_t)n >= sizeof(t->sys_link[i]))
				return cell_err_set(
					e, ENAMETOOLONG,
					"%s is a symlink longer than %d bytes: cells "
					"recreate only short ones (merged /usr's usr/bin)",
					host, ROOTFS_LINK_MAX - 1);
			t->sys_link[i][n] = '\0';
		} else if (S_ISDIR(st.st_mode)) {
			t->sys[i] = clone_tree(AT_FDCWD, host, AT_SYMLINK_NOFOLLOW | AT_RECURSIVE,
					       ro, e);
			if (t->sys[i] < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(host_extra_dirs); i++) {
		_cleanup_close_ int src = -1;
		char host[64];
		struct stat st;

		snprintf(host, sizeof(host), "/%s", host_extra_dirs[i]);
		/* Reached without following a link, not the user's own, writable
		 * by no one else: anything else is left out, not an error. The
		 * user sees through the bind only what the host's permissions
		 * already let them read. */
		src = (int)syscall(SYS_openat2, AT_FDCWD, host,
				   &(struct open_how){ .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
						       .resolve = RESOLVE_NO_SYMLINKS },
				   sizeof(struct open_how));
		if (src < 0 || fstat(src, &st) < 0 || st.st_uid == uid || (st.st_mode & 0022))
			continue;
		t->extra[i] = clone_tree(src, "", AT_EMPTY_PATH, ro, e);
		if (t->extra[i] < 0)
			return -1;
	}
	/* /etc alone: the lower layer of the cell's /etc (a less privileged
	 * mount namespace may not leave its submounts behind); and with them,
	 * where PID 1 finds them (an unbindable one is left out of a clone). */
	t->etc = clone_tree(AT_FDCWD, "/etc", AT_SYMLINK_NOFOLLOW, ro, e);
	if (t->etc < 0)
		return -1;
	t->etc_all = clone_tree(AT_FDCWD, "/etc", AT_SYMLINK_NOFOLLOW | AT_RECURSIVE, ro, e);
	return t->etc_all < 0 ? -1 : 0;
}

/* ---- the user's own paths: looked up as the user, cloned by root ---- */

struct lookup_ctx {
	int hostroot;
	int *fds;
	struct cell_err *e;
};

/* SRC as the user, from the host's / (RESOLVE_IN_ROOT: as from the
 * host's root, which it is), without following a link, still the inode
 * pam_cell checked. */
static int lookup_one(char *line, size_t i, void *arg)
{
	struct lookup_ctx *c = arg;
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };
	struct stat st;
	char *f[5];
	int fd;

	if (bind_fields(line, f, c->e) < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, c->hostroot, f[0] + 1, &how, sizeof(how));
	c->fds[1 + i] = fd;
	if (fd < 0 || fstat(fd, &st) < 0)
		return cell_err_sys(c->e, "bind: opening %s as the user (can the user reach it?)",
				    f[0]);
	return bind_same_inode(f, &st, c->e);
}

int rootfs_user_lookups(const struct rootfs_trees *t, const char *home, uid_t uid,
			const char *binds, int *fds, size_t *n, struct cell_err *e)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT };
	struct lookup_ctx c = { t->hostroot, fds, e };
	struct stat st;

	for (size_t i = 0; i < 1 + ROOTFS_BINDS_MAX; i++)
		fds[i] = -1;
	*n = 0;
	if (rootfs_home_valid(home, e) < 0)
		return -1;
	fds[0] = (int)syscall(SYS_openat2, t->hostroot, home + 1, &how, sizeof(how));
	if (fds[0] < 0)
		return cell_err_sys(e,
				    "opening home directory %s (create it, e.g. "
				    "'mkhomedir_helper USER')",
				    home);
	if (fstat(fds[0], &st) < 0)
		return cell_err_sys(e, "fstat %s", home);
	if (st.st_uid != uid)
		return cell_err_set(e, EPERM,
				    "home directory %s is owned by uid %u, not the "
				    "user's uid %u: fix with 'chown USER: %s'",
				    home, (unsigned)st.st_uid, (unsigned)uid, home);
	if (each_bind(binds, lookup_one, &c, e) < 0)
		return -1;
	while (*n < 1 + ROOTFS_BINDS_MAX && fds[*n] >= 0)
		(*n)++;
	return 0;
}

struct clone_ctx {
	struct rootfs_trees *t;
	int procfd;
	pid_t pid;
	const char *text; /* the fd numbers still to read */
	struct cell_err *e;
};

/* The next fd number of the user side's, and root's clone of what it is:
 * /proc/PID/fd/N, followed, names the user side's own lookup of `what`. */
static int clone_next(struct clone_ctx *c, const char *what, unsigned flags, unsigned attrs,
		      struct stat *st)
{
	char *end, path[64];
	long fd = strtol(c->text, &end, 10);
	int tree;

	if (end == c->text || fd < 3 || fd > 1 << 20 || (*end && *end != ' '))
		return cell_err_set(c->e, EPROTO, "the user side's lookups came malformed");
	c->text = *end ? end + 1 : end;
	snprintf(path, sizeof(path), "%d/fd/%ld", (int)c->pid, fd);
	tree = clone_tree(c->procfd, path, flags, attrs, c->e);
	if (tree < 0)
		return cell_err_prefix(c->e, "%s, as the user found it: ", what);
	if (fstat(tree, st) < 0) {
		cell_err_sys(c->e, "fstat of %s", what);
		close(tree);
		return -1;
	}
	return tree;
}

static int clone_one(char *line, size_t i, void *arg)
{
	struct clone_ctx *c = arg;
	unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	struct stat st;
	char *f[5];

	if (bind_fields(line, f, c->e) < 0)
		return -1;
	if (strcmp(f[2], "rw") != 0)
		attrs |= MOUNT_ATTR_RDONLY;
	c->t->binds[i] = clone_next(c, f[0], 0, attrs, &st);
	if (c->t->binds[i] < 0)
		return -1;
	c->t->nbinds = i + 1;
	/* Root checks it again: the inode pam_cell checked. */
	return bind_same_inode(f, &st, c->e);
}

int rootfs_clone_user(struct rootfs_trees *t, int procfd, pid_t pid, const char *text, uid_t uid,
		      const char *home, const char *binds, struct cell_err *e)
{
	struct clone_ctx c = { t, procfd, pid, text, e };
	struct stat st;

	t->home = clone_next(&c, home, AT_RECURSIVE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &st);
	if (t->home < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid)
		return cell_err_set(e, EPERM,
				    "home directory %s changed during the login: it is no longer "
				    "a directory of uid %u (refused; log in again)",
				    home, (unsigned)uid);
	if (each_bind(binds, clone_one, &c, e) < 0)
		return -1;
	if (*c.text)
		return cell_err_set(e, EPROTO, "the user side's lookups came malformed");
	return 0;
}
