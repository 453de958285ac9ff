// SPDX-License-Identifier: MIT
/*
 * cellctl image import|list and cellctl user reset|du: the images under
 * CELL_STATE_DIR/images and the users' upper layers under
 * CELL_STATE_DIR/users (image.h has the layout and its rules).
 *
 * An import unpacks into a root-only directory next to the images, checks
 * every entry (no link is followed), and only then renames it into place:
 * a half-made or refused image is never seen by a login. --replace swaps
 * it with the old one atomically (RENAME_EXCHANGE): cells already running
 * keep the tree they mounted, new logins get the new one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "image.h"
#include "util.h"

#define IMAGES CELL_STATE_DIR "/images"
#define USERS  CELL_STATE_DIR "/users"

/* ---- a walk over a tree: counts and, for an import, what it refuses ---- */

struct tree_stats {
	unsigned long long files, bytes;
	unsigned long setuid, devices, open_dirs; /* open_dirs: o+w without the sticky bit */
	char first_setuid[512], first_device[512], first_open_dir[512];
	size_t root_len; /* shown paths are relative to the tree */
};

static struct tree_stats *walk_stats; /* nftw has no user pointer */

static void note(char *first, size_t size, const char *path)
{
	if (!*first)
		snprintf(first, size, "/%s", path + walk_stats->root_len);
}

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct tree_stats *t = walk_stats;

	(void)ftw;
	if (type == FTW_NS || type == FTW_DNR)
		return 0;
	t->files++;
	if (S_ISREG(st->st_mode))
		t->bytes += (unsigned long long)st->st_blocks * 512;
	if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID))) {
		t->setuid++;
		note(t->first_setuid, sizeof(t->first_setuid), path);
	}
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		t->devices++;
		note(t->first_device, sizeof(t->first_device), path);
	}
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_IWOTH) && !(st->st_mode & S_ISVTX)) {
		t->open_dirs++;
		note(t->first_open_dir, sizeof(t->first_open_dir), path);
	}
	return 0;
}

/* Never follows a link, never leaves the tree's filesystem. */
static int tree_walk(const char *root, struct tree_stats *t)
{
	memset(t, 0, sizeof(*t));
	t->root_len = strlen(root) + 1;
	walk_stats = t;
	return nftw(root, walk_one, 64, FTW_PHYS | FTW_MOUNT);
}

static void human(unsigned long long b, char *buf, size_t size)
{
	if (b >= 10ULL << 30)
		snprintf(buf, size, "%llu GiB", b >> 30);
	else if (b >= 10ULL << 20)
		snprintf(buf, size, "%llu MiB", b >> 20);
	else
		snprintf(buf, size, "%llu KiB", b >> 10);
}

/* rm -rf of a tree of root's state, by coreutils (fd-relative, no link
 * followed, one filesystem). */
static int remove_tree(const char *path)
{
	return ctl_run("/bin/rm", "-rf", "--one-file-system", "--", path, NULL) == 0 ? 0 : -1;
}

/* A root directory of ours, made if missing. */
static void ensure_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0 && chmod(path, mode) == 0)
		return;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022))
		ctl_die(EXIT_PROBLEM,
			"%s must be a directory of root's, not group- or other-writable: fix it "
			"(chown root: %s; chmod go-w %s)",
			path, path, path);
}

/* ---- image import ---- */

static int image_import(int argc, char **argv)
{
	bool replace = false, allow_setuid = false, allow_devices = false;
	const char *name = NULL, *src = NULL;
	char tmp[512], final[512], size[32];
	struct tree_stats t;
	struct stat st;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--replace") == 0)
			replace = true;
		else if (strcmp(argv[i], "--allow-setuid") == 0)
			allow_setuid = true;
		else if (strcmp(argv[i], "--allow-devices") == 0)
			allow_devices = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else if (argv[i][0] != '-' && !src)
			src = argv[i];
		else
			name = NULL, i = argc;
	}
	if (!name || !src)
		ctl_die(EXIT_USAGE, "usage: cellctl image import NAME TARBALL|DIR [--replace] "
				    "[--allow-setuid] [--allow-devices]");
	if (!conf_image_name_ok(name))
		ctl_die(EXIT_USAGE,
			"'%s' is not an image name: letters, digits, '.', '_' and '-', starting "
			"with a letter or digit",
			name);
	if (stat(src, &st) < 0)
		ctl_die(EXIT_PROBLEM, "%s: %s", src, strerror(errno));
	snprintf(final, sizeof(final), IMAGES "/%s", name);
	if (!replace && lstat(final, &st) == 0)
		ctl_die(EXIT_PROBLEM,
			"image %s exists: cellctl image import %s %s --replace swaps it (running "
			"cells keep the old one)",
			name, name, src);
	ensure_dir(CELL_STATE_DIR, 0755);
	/* Only root reaches an image on the host: cells get it as a mount. */
	ensure_dir(IMAGES, 0700);
	snprintf(tmp, sizeof(tmp), IMAGES "/.import-%s-%d", name, (int)getpid());
	if (mkdir(tmp, 0755) < 0 || chmod(tmp, 0755) < 0)
		ctl_die(EXIT_PROBLEM, "mkdir %s: %s", tmp, strerror(errno));
	if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
		char from[4096];

		snprintf(from, sizeof(from), "%s/.", src);
		r = ctl_run("/bin/cp", "-a", "--reflink=auto", "--", from, tmp, NULL);
	} else {
		/* Owners and modes as in the archive, whatever they are. */
		r = ctl_run("/bin/tar", "-xpf", src, "--numeric-owner", "-C", tmp, NULL);
	}
	if (r != 0) {
		remove_tree(tmp);
		ctl_die(EXIT_PROBLEM, "unpacking %s failed (exit %d): nothing was imported", src,
			r);
	}
	if (chown(tmp, 0, 0) < 0 || chmod(tmp, 0755) < 0 || tree_walk(tmp, &t) < 0) {
		remove_tree(tmp);
		ctl_die(EXIT_PROBLEM, "checking %s: %s", tmp, strerror(errno));
	}
	if (t.open_dirs || (t.setuid && !allow_setuid) || (t.devices && !allow_devices)) {
		remove_tree(tmp);
		if (t.open_dirs)
			ctl_die(EXIT_PROBLEM,
				"%s has %lu world-writable director(ies) without the sticky bit, "
				"the first %s: nothing was imported (fix with chmod o-w or +t)",
				src, t.open_dirs, t.first_open_dir);
		if (t.setuid && !allow_setuid)
			ctl_die(EXIT_PROBLEM,
				"%s has %lu setuid or setgid file(s), the first %s: nothing was "
				"imported (they gain nothing in a cell, which is nosuid with "
				"no_new_privs: --allow-setuid imports them anyway)",
				src, t.setuid, t.first_setuid);
		ctl_die(EXIT_PROBLEM,
			"%s has %lu device node(s), the first %s: nothing was imported (a cell's "
			"image is nodev: --allow-devices imports them anyway)",
			src, t.devices, t.first_device);
	}
	if (replace && lstat(final, &st) == 0) {
		char old[512];

		snprintf(old, sizeof(old), IMAGES "/.old-%s-%d", name, (int)getpid());
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) < 0) {
			remove_tree(tmp);
			ctl_die(EXIT_PROBLEM, "replacing %s: %s", final, strerror(errno));
		}
		/* tmp now holds the old tree, which running cells still have. */
		if (rename(tmp, old) < 0 || remove_tree(old) < 0)
			ctl_warn("the old tree of %s is left at %s: remove it", name, tmp);
	} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
		remove_tree(tmp);
		ctl_die(EXIT_PROBLEM, "putting the image at %s: %s", final, strerror(errno));
	}
	human(t.bytes, size, sizeof(size));
	printf("image %s: %llu files, %s, at %s%s\n", name, t.files, size, final,
	       replace ? " (new logins get it; running cells keep the old tree)" : "");
	return EXIT_OK;
}

/* ---- image list ---- */

static unsigned users_of(const char *name)
{
	DIR *d = opendir(USERS);
	struct dirent *de;
	unsigned n = 0;

	while (d && (de = readdir(d))) {
		char p[1024];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), USERS "/%s/%s", de->d_name, name);
		n += lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
	}
	if (d)
		closedir(d);
	return n;
}

static int image_list(struct ctl *c)
{
	DIR *d = opendir(IMAGES);
	struct dirent *de;
	bool first = true;

	if (!d && errno != ENOENT)
		ctl_die(EXIT_PROBLEM, "%s: %s", IMAGES, strerror(errno));
	if (c->json)
		printf("[");
	else
		printf("%-20s %10s %12s %6s\n", "IMAGE", "FILES", "SIZE", "USERS");
	while (d && (de = readdir(d))) {
		struct tree_stats t;
		char p[1024], size[32];
		struct stat st;

		if (!conf_image_name_ok(de->d_name))
			continue; /* ., .., an import under way */
		snprintf(p, sizeof(p), IMAGES "/%s", de->d_name);
		if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || tree_walk(p, &t) < 0)
			continue;
		human(t.bytes, size, sizeof(size));
		if (c->json) {
			printf("%s{\"name\":", first ? "" : ",");
			json_str(stdout, de->d_name);
			printf(",\"files\":%llu,\"bytes\":%llu,\"users\":%u}", t.files, t.bytes,
			       users_of(de->d_name));
		} else {
			printf("%-20s %10llu %12s %6u\n", de->d_name, t.files, size,
			       users_of(de->d_name));
		}
		first = false;
	}
	if (c->json)
		printf("]\n");
	if (d)
		closedir(d);
	return EXIT_OK;
}

int cmd_image(struct ctl *c, int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return image_import(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return image_list(c);
	ctl_die(EXIT_USAGE, "usage: cellctl image import NAME TARBALL|DIR [--replace] "
			    "[--allow-setuid] [--allow-devices] | cellctl image list [--json]");
}

/* ---- user reset, user du ---- */

static int user_reset(const char *user, const char *name)
{
	struct cell_record *v = NULL;
	struct cell_err e = { 0 };
	char path[1024], gone[1100];
	size_t n = ctl_cells(user, &v);
	int dir;

	free(v);
	if (n)
		ctl_die(EXIT_PROBLEM,
			"%s has %zu live cell(s), which use the upper layer: end them first "
			"(cellctl stop %s)",
			user, n, user);
	if (name) {
		dir = image_user_dir(user, name, false, &e);
		snprintf(path, sizeof(path), USERS "/%s/%s", user, name);
	} else {
		dir = image_user_home(user, false, &e);
		snprintf(path, sizeof(path), USERS "/%s", user);
	}
	if (dir < 0 && e.code == ENOENT) {
		printf("%s: nothing to reset (%s)\n", user, e.msg);
		return EXIT_OK;
	}
	if (dir < 0)
		ctl_die(EXIT_PROBLEM, "%s", e.msg);
	/* The lock a cell holds on its upper (image.h): even one the registry
	 * does not show yet, or one still ending. */
	if (name) {
		int lk = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (lk < 0 || flock(lk, LOCK_EX | LOCK_NB) < 0)
			ctl_die(EXIT_PROBLEM, "%s: the upper is in use by a cell (%s): try again",
				path, lk < 0 ? strerror(errno) : "locked");
		close(lk);
	}
	close(dir);
	/* Out of the way first (a login now starts afresh), then removed. */
	snprintf(gone, sizeof(gone), "%s.reset-%d", path, (int)getpid());
	if (rename(path, gone) < 0)
		ctl_die(EXIT_PROBLEM, "renaming %s: %s", path, strerror(errno));
	if (remove_tree(gone) < 0)
		ctl_die(EXIT_PROBLEM, "removing %s failed: remove it by hand", gone);
	printf("%s: %s removed; the next login starts from the image\n", user, path);
	return EXIT_OK;
}

/* An upper in users/USER/NAME/layers.ext4: the disk it takes, its limit,
 * and the inodes in use beyond ext4's own and upper/ and work/ (from the
 * superblock, which the kernel brings up to date at least at unmount). */
static int layers_stats(const char *dir, struct tree_stats *t, unsigned long long *limit)
{
	char path[1500];
	unsigned char sb[1024 + 88];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/layers.ext4", dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || pread(fd, sb, sizeof(sb), 0) != (ssize_t)sizeof(sb)) {
		close(fd);
		return -1;
	}
	close(fd);
	{
		const unsigned char *s = sb + 1024; /* the superblock, little-endian */
		unsigned long count = s[0] | s[1] << 8 | s[2] << 16 | (unsigned long)s[3] << 24;
		unsigned long free_ = s[16] | s[17] << 8 | s[18] << 16 | (unsigned long)s[19] << 24;
		unsigned long first = s[84] | s[85] << 8 | s[86] << 16 | (unsigned long)s[87] << 24;
		unsigned long used = count >= free_ ? count - free_ : 0;

		t->files = used > first + 2 ? used - first - 2 + 1 : 1; /* +1: the walk's root */
	}
	t->bytes = (unsigned long long)st.st_blocks * 512;
	*limit = (unsigned long long)st.st_size;
	return 0;
}

static int user_du(struct ctl *c, const char *only)
{
	DIR *users = opendir(USERS);
	struct dirent *u;
	bool first = true;

	if (c->json)
		printf("[");
	else
		printf("%-24s %-20s %10s %12s %12s\n", "USER", "IMAGE", "FILES", "SIZE", "LIMIT");
	while (users && (u = readdir(users))) {
		char p[1024];
		DIR *imgs;
		struct dirent *i;

		if (u->d_name[0] == '.' || (only && strcmp(only, u->d_name) != 0) ||
		    strstr(u->d_name, ".reset-"))
			continue;
		snprintf(p, sizeof(p), USERS "/%s", u->d_name);
		imgs = opendir(p);
		while (imgs && (i = readdir(imgs))) {
			struct tree_stats t;
			char up[1400], size[32], lim[32] = "none";
			unsigned long long limit = 0;

			if (!conf_image_name_ok(i->d_name))
				continue;
			snprintf(up, sizeof(up), "%s/%s", p, i->d_name);
			if (layers_stats(up, &t, &limit) == 0) {
				human(limit, lim, sizeof(lim));
			} else {
				snprintf(up, sizeof(up), "%s/%s/upper", p, i->d_name);
				if (tree_walk(up, &t) < 0)
					continue;
			}
			human(t.bytes, size, sizeof(size));
			if (c->json) {
				printf("%s{\"user\":", first ? "" : ",");
				json_str(stdout, u->d_name);
				printf(",\"image\":");
				json_str(stdout, i->d_name);
				printf(",\"files\":%llu,\"bytes\":%llu,\"limit\":%llu}",
				       t.files ? t.files - 1 : 0, t.bytes, limit);
			} else {
				printf("%-24s %-20s %10llu %12s %12s\n", u->d_name, i->d_name,
				       t.files ? t.files - 1 : 0, size, lim);
			}
			first = false;
		}
		if (imgs)
			closedir(imgs);
	}
	if (c->json)
		printf("]\n");
	if (users)
		closedir(users);
	return EXIT_OK;
}

int cmd_user(struct ctl *c, int argc, char **argv)
{
	char *args[4] = { NULL };
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (n < 4)
			args[n++] = argv[i];
		else
			n = 5;
	}
	if ((n == 2 || n == 3) && strcmp(args[0], "reset") == 0)
		return user_reset(args[1], args[2]);
	if ((n == 1 || n == 2) && strcmp(args[0], "du") == 0)
		return user_du(c, args[1]);
	ctl_die(EXIT_USAGE, "usage: cellctl user reset USER [IMAGE] | cellctl user du [USER] "
			    "[--json]");
}
