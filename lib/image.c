// SPDX-License-Identifier: MIT
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

#define LAYERS_FILE "layers.ext4"

/* A directory entry of root's, by fd, never through a link: made (mode) if
 * create, then checked. private: nobody but root may even search it. */
static int root_dir_at(int parent, const char *name, const char *shown, bool create, bool private,
		       struct cell_err *e)
{
	struct stat st;
	int fd;

	/* NAME/ is searchable (0711): PID 1 walks it to upper/ and work/. */
	if (create && mkdirat(parent, name, 0700) == 0) {
		/* Whatever the login program's umask; parent is root's 0700. */
		if (fchmodat(parent, name, private ? 0700 : 0711, 0) < 0)
			return cell_err_sys(e, "chmod %s", shown);
	} else if (create && errno != EEXIST) {
		return cell_err_sys(e, "mkdir %s", shown);
	}
	fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return cell_err_set(e, ENOTDIR,
					    "%s is not a directory (a link, a FIFO or a file "
					    "planted there?): remove it",
					    shown);
		return cell_err_sys(e, "opening %s", shown);
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return cell_err_sys(e, "fstat %s", shown);
	}
	if (st.st_uid != 0 || (st.st_mode & (private ? 0077 : 0022))) {
		close(fd);
		return cell_err_set(e, EPERM,
				    "%s is owned by uid %u with mode %04o: must be root's "
				    "and %s (fix with 'chown root: %s; chmod %s %s')",
				    shown, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
				    private ? "0700" : "not group- or other-writable", shown,
				    private ? "0700" : "go-w", shown);
	}
	return fd;
}

static int state_dir(struct cell_err *e)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int fd =
		(int)syscall(SYS_openat2, AT_FDCWD, CELL_STATE_DIR, &how, sizeof(how));
	struct stat st;

	if (fd < 0)
		return cell_err_sys(e, "opening " CELL_STATE_DIR
				       " (no image was imported: cellctl image import NAME TREE)");
	if (fstat(fd, &st) < 0)
		return cell_err_sys(e, "fstat " CELL_STATE_DIR);
	if (st.st_uid != 0 || (st.st_mode & 0022))
		return cell_err_set(e, EPERM,
				    CELL_STATE_DIR " is not root's or is group/other-writable: fix "
						   "with 'chown root: %s; chmod go-w %s'",
				    CELL_STATE_DIR, CELL_STATE_DIR);
	return steal_fd(&fd);
}

int image_open(const char *name, struct cell_err *e)
{
	_cleanup_close_ int state = -1, images = -1;
	char shown[128];

	if (!conf_image_name_ok(name))
		return cell_err_set(e, EINVAL, "'%s' is not an image name", name);
	state = state_dir(e);
	if (state < 0)
		return -1;
	images = root_dir_at(state, "images", CELL_STATE_DIR "/images", false, false, e);
	if (images < 0)
		return -1;
	snprintf(shown, sizeof(shown), CELL_STATE_DIR "/images/%s", name);
	if (faccessat(images, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return cell_err_set(e, ENOENT,
				    "there is no image %s: import it with 'cellctl image import %s "
				    "TARBALL|DIR' (cellctl image list shows the images)",
				    name, name);
	return root_dir_at(images, name, shown, false, false, e);
}

int image_user_home(const char *user, bool create, struct cell_err *e)
{
	_cleanup_close_ int state = -1, users = -1;
	char shown[512];

	/* Names from NSS: nothing that could leave users/. */
	if (!*user || *user == '.' || strchr(user, '/'))
		return cell_err_set(e, EINVAL, "user '%s' cannot name a directory", user);
	state = state_dir(e);
	if (state < 0)
		return -1;
	users = root_dir_at(state, "users", CELL_STATE_DIR "/users", create, true, e);
	if (users < 0)
		return -1;
	snprintf(shown, sizeof(shown), CELL_STATE_DIR "/users/%s", user);
	if (!create && faccessat(users, user, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return cell_err_set(e, ENOENT, "%s does not exist", shown);
	return root_dir_at(users, user, shown, create, true, e);
}

int image_user_dir(const char *user, const char *name, bool create, struct cell_err *e)
{
	_cleanup_close_ int mine = -1;
	char shown[512];

	if (!conf_image_name_ok(name))
		return cell_err_set(e, EINVAL, "'%s' is not an image name", name);
	mine = image_user_home(user, create, e);
	if (mine < 0)
		return -1;
	snprintf(shown, sizeof(shown), CELL_STATE_DIR "/users/%s/%s", user, name);
	if (!create && faccessat(mine, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return cell_err_set(e, ENOENT, "%s does not exist", shown);
	return root_dir_at(mine, name, shown, create, false, e);
}

/* upper/ or work/ of the user's directory: made for the cell's root if
 * missing, and still that owner's (an identity change needs a reset). */
static int layer_dir(int dir, const char *name, const char *user, const char *image, uid_t owner,
		     gid_t group, struct cell_err *e)
{
	struct stat st;
	int fd;

	/* dir is root's 0700: nobody else can put anything in it meanwhile. */
	if (mkdirat(dir, name, 0755) == 0) {
		if (fchownat(dir, name, owner, group, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dir, name, 0755, 0) < 0)
			return cell_err_sys(e, "preparing the %s layer of %s", name, user);
	} else if (errno != EEXIST) {
		return cell_err_sys(e, "mkdir %s/users/%s/%s/%s", CELL_STATE_DIR, user, image,
				    name);
	}
	fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cell_err_sys(e, "opening %s/users/%s/%s/%s", CELL_STATE_DIR, user, image,
				    name);
	if (fstat(fd, &st) < 0 || st.st_uid != owner) {
		close(fd);
		return cell_err_set(
			e, EPERM,
			"%s/users/%s/%s/%s belongs to uid %u, not to this cell's root "
			"(uid %u on the host): the profile's identity or subordinate "
			"range changed; start it afresh with 'cellctl user reset %s %s'",
			CELL_STATE_DIR, user, image, name, (unsigned)st.st_uid, (unsigned)owner,
			user, image);
	}
	return fd;
}

#define UPPER_LOCK_WAIT_MS 3000 /* a cell that just ended lets go in far less */

/* NAME/ locked for the cell's life (the monitor holds the fd): overlayfs
 * must never see one upper under two mounts at once. A login right after a
 * logout waits for the ending cell to let go. */
static int lock_user_dir(int dir, const char *user, const char *name, struct cell_err *e)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0)
		return cell_err_sys(e, "opening %s/users/%s/%s", CELL_STATE_DIR, user, name);
	for (int waited = 0;; waited += 20) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		err = errno;
		if (err != EWOULDBLOCK || waited >= UPPER_LOCK_WAIT_MS)
			break;
		usleep(20 * 1000);
	}
	close(fd);
	errno = err;
	if (err != EWOULDBLOCK)
		return cell_err_sys(e, "locking %s/users/%s/%s", CELL_STATE_DIR, user, name);
	return cell_err_set(e, EBUSY,
			    "the persistent upper layer of %s over image %s is in use by another "
			    "cell (a login still open, or one ending): overlayfs cannot share an "
			    "upper between cells; set 'share = user' in the profile (a user's "
			    "logins join one cell) or 'overlay = volatile'",
			    user, name);
}

/* mkfs.ext4 on the file at fd, run with nothing of ours but that file. */
static int run_mkfs(int fd, struct cell_err *e)
{
	static const char *const args[] = {
		IMAGE_MKFS,   "-q", "-F",
		"-m",	      "0",  "-L",
		"cell-upper", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
		"/dev/fd/3"
	};
	static const char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C" };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return cell_err_sys(e, "fork for mkfs.ext4");
	if (pid == 0) {
		char *argv[ARRAY_SIZE(args) + 1] = { NULL }, *envp[ARRAY_SIZE(env) + 1] = { NULL };
		int null = open("/dev/null", O_RDWR | O_CLOEXEC); /* dup2 keeps 0-2 */
		int high = fcntl(fd, F_DUPFD, 10);

		/* execve's arrays are not const: copies, in this child only. */
		for (size_t i = 0; i < ARRAY_SIZE(args); i++)
			argv[i] = strdup(args[i]);
		for (size_t i = 0; i < ARRAY_SIZE(env); i++)
			envp[i] = strdup(env[i]);
		if (null < 0 || high < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0 || dup2(high, 3) < 0 || close_range(4, ~0U, 0) < 0)
			_exit(127);
		execve(IMAGE_MKFS, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return cell_err_sys(e, "waiting for mkfs.ext4");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cell_err_set(e, EIO,
				    IMAGE_MKFS " failed (status %d) making a persistent upper: is "
					       "e2fsprogs installed? ('cellctl check' tells)",
				    WIFEXITED(status) ? WEXITSTATUS(status)
						      : 128 + WTERMSIG(status));
	return 0;
}

/* NAME/layers.ext4, root's 0600: an ext4 in a sparse file of size bytes,
 * made (under a temporary name, so that a killed mkfs leaves nothing that
 * looks done) if missing. Returns it open O_RDWR. A changed upper_max
 * applies to layers made afterwards (cell.conf(5)). */
static int layers_file(int dir, const char *user, const char *name, unsigned long long size,
		       struct cell_err *e)
{
	static const char tmp[] = LAYERS_FILE ".new";
	struct stat st;
	int fd = openat(dir, LAYERS_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		_cleanup_close_ int nfd = -1;

		/* dir is root's and locked by us: a leftover is a killed mkfs. */
		if (unlinkat(dir, tmp, 0) < 0 && errno != ENOENT)
			return cell_err_sys(e, "removing a leftover %s", tmp);
		nfd = openat(dir, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (nfd < 0 || ftruncate(nfd, (off_t)size) < 0 || run_mkfs(nfd, e) < 0 ||
		    fsync(nfd) < 0 || renameat(dir, tmp, dir, LAYERS_FILE) < 0) {
			if (nfd < 0 || e->code == 0)
				cell_err_sys(e, "making %s/users/%s/%s/" LAYERS_FILE,
					     CELL_STATE_DIR, user, name);
			unlinkat(dir, tmp, 0);
			return -1;
		}
		fd = openat(dir, LAYERS_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return cell_err_sys(e, "opening %s/users/%s/%s/" LAYERS_FILE, CELL_STATE_DIR, user,
				    name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || st.st_nlink != 1 ||
	    (st.st_mode & 0077)) {
		close(fd);
		return cell_err_set(
			e, EPERM,
			"%s/users/%s/%s/" LAYERS_FILE " is not a file of root's alone "
			"(mode 0600, one link): remove it, or 'cellctl user reset %s %s'",
			CELL_STATE_DIR, user, name, user, name);
	}
	return fd;
}

/* The loop device already backed by file (a cell just ended whose
 * filesystem the kernel still holds: mounting that device again shares
 * its superblock, where a second loop device would corrupt it), or -1. */
static int loop_of(int file, char *dev, size_t size)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int found = -1;

	if (fstat(file, &st) < 0 || !(d = opendir("/sys/block")))
		return -1;
	while (found < 0 && (de = readdir(d))) {
		struct loop_info64 info;
		char path[300];
		int fd;

		if (strncmp(de->d_name, "loop", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
		if (access(path, F_OK) < 0)
			continue; /* not bound */
		/* Read-only: asking a device what backs it changes nothing. */
		snprintf(dev, size, "/dev/%s", de->d_name);
		fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0 && info.lo_device == st.st_dev &&
		    info.lo_inode == st.st_ino)
			found = fd;
		else
			close(fd);
	}
	closedir(d);
	return found;
}

/* A new loop device on file, cleared by the kernel when its last user (the
 * filesystem) goes. */
static int loop_attach(int file, char *dev, size_t size, struct cell_err *e)
{
	_cleanup_close_ int ctl = open(IMAGE_LOOP_CONTROL, O_RDWR | O_CLOEXEC);

	if (ctl < 0)
		return cell_err_sys(e, "opening /dev/loop-control (a persistent upper with "
				       "upper_max needs loop devices: modprobe loop)");
	for (int tries = 0; tries < 16; tries++) {
		struct loop_config cfg = { .fd = (unsigned)file,
					   .info.lo_flags = LO_FLAGS_AUTOCLEAR };
		int n = ioctl(ctl, LOOP_CTL_GET_FREE), fd;

		if (n < 0)
			return cell_err_sys(e, "finding a free loop device");
		snprintf(dev, size, "/dev/loop%d", n);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return cell_err_sys(e, "opening %s", dev);
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			return fd;
		close(fd);
		if (errno != EBUSY) /* else another process took it first */
			return cell_err_sys(e, "setting up %s", dev);
	}
	return cell_err_set(e, EBUSY, "no free loop device (16 tries)");
}

/* The user's layers filesystem, mounted detached (nosuid, nodev). */
static int layers_mount(const char *user, const char *name, int file, struct cell_err *e)
{
	char dev[300];
	_cleanup_close_ int loop = loop_of(file, dev, sizeof(dev)), fsfd = -1;
	int mfd;

	/* Root's /dev: the name stays the device we set up. */
	if (loop < 0 && (loop = loop_attach(file, dev, sizeof(dev), e)) < 0)
		return -1;
	fsfd = fsopen("ext4", FSOPEN_CLOEXEC);
	if (fsfd < 0 || fsconfig(fsfd, FSCONFIG_SET_STRING, "source", dev, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "errors", "remount-ro", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0)
		return cell_err_sys(e,
				    "mounting %s/users/%s/%s/" LAYERS_FILE
				    " (damaged? check it with "
				    "'e2fsck -f', or start afresh with 'cellctl user reset %s %s')",
				    CELL_STATE_DIR, user, name, user, name);
	return mfd;
}

int image_prepare(const char *name, const char *user, int userns, bool persistent,
		  unsigned long long upper_max, uid_t owner, gid_t group, struct image_fds *out,
		  struct cell_err *e)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY |
					       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
				   .userns_fd = (unsigned long long)userns };
	struct mount_attr layers_attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	_cleanup_close_ int img = -1, dir = -1, upper = -1, work = -1, file = -1, fs = -1;

	*out = (struct image_fds){ -1, -1, -1 };
	img = image_open(name, e);
	if (img < 0)
		return -1;
	/* A private copy of the image's mount, shown through the cell's id
	 * map: root's files are the cell's root's, and nothing can write. */
	out->lower = open_tree(img, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (out->lower < 0)
		return cell_err_sys(e, "cloning image %s", name);
	if (mount_setattr(out->lower, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		cell_err_sys(e,
			     "an idmapped mount of image %s (does its filesystem support "
			     "idmapped mounts? cellctl check tells)",
			     name);
		image_fds_close(out);
		return -1;
	}
	if (!persistent)
		return 0;
	dir = image_user_dir(user, name, true, e);
	if (dir < 0 || (out->lock = lock_user_dir(dir, user, name, e)) < 0) {
		image_fds_close(out);
		return -1;
	}
	if (upper_max) {
		/* upper/ and work/ in the user's own filesystem of upper_max
		 * bytes: a full upper is ENOSPC in the cell, never on the host. */
		file = layers_file(dir, user, name, upper_max, e);
		fs = file < 0 ? -1 : layers_mount(user, name, file, e);
		if (fs < 0 || (upper = layer_dir(fs, "upper", user, name, owner, group, e)) < 0 ||
		    (work = layer_dir(fs, "work", user, name, owner, group, e)) < 0) {
			image_fds_close(out);
			return -1;
		}
		out->layers = steal_fd(&fs);
		return 0;
	}
	/* upper_max = none: upper/ and work/ in NAME/ itself. PID 1 cannot
	 * reach users/ by path (root's 0700): it gets NAME/ as a mount of its
	 * own, which overlayfs accepts once attached in the cell's namespace. */
	if ((upper = layer_dir(dir, "upper", user, name, owner, group, e)) < 0 ||
	    (work = layer_dir(dir, "work", user, name, owner, group, e)) < 0) {
		image_fds_close(out);
		return -1;
	}
	out->layers = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (out->layers < 0 ||
	    mount_setattr(out->layers, "", AT_EMPTY_PATH, &layers_attr, sizeof(layers_attr)) < 0) {
		cell_err_sys(e, "a mount of %s/users/%s/%s", CELL_STATE_DIR, user, name);
		image_fds_close(out);
		return -1;
	}
	return 0;
}

void image_fds_close(struct image_fds *f)
{
	int *fds[] = { &f->lower, &f->layers, &f->lock };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}
